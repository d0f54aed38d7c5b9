import { ValidationError } from './errors.js';

/**
 * A backend's table option: `table`, or the seed's name for it, `activeRecordClass` (python's
 * `active_record_class`). Either names a table definition value, such as `SqlIntegerSequencedItem`.
 */
export type TableOption<T> =
  | { readonly table: T; readonly activeRecordClass?: undefined }
  | { readonly activeRecordClass: T; readonly table?: undefined };

/**
 * The table a backend's options name, under either name. A ValidationError when neither names a table
 * definition (checked with `isTable`), or when the two name different tables.
 */
export function tableOption<T>(
  options: { readonly table?: unknown; readonly activeRecordClass?: unknown },
  isTable: (value: unknown) => value is T,
  example: string,
): T {
  const { table, activeRecordClass } = options ?? {};
  if (table !== undefined && activeRecordClass !== undefined && table !== activeRecordClass) {
    throw new ValidationError(
      "table and activeRecordClass name the same option (activeRecordClass is the seed's name): pass one",
      'table',
    );
  }
  const given = table ?? activeRecordClass;
  if (!isTable(given)) {
    throw new ValidationError(`table must be a table definition such as ${example}`, 'table');
  }
  return given;
}
