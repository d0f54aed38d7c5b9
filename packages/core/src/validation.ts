import { ValidationError } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** Plain identifiers only: a table, keyspace or column name that needs no quoting anywhere. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

export function assertIdentifier(value: unknown, what: string): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    throw new ValidationError(
      `${what} must be a plain identifier (a letter or underscore, then letters, digits or underscores; at most 48), got ${JSON.stringify(value)}`,
      what,
    );
  }
  return value;
}

/**
 * True when a string holds a lone UTF-16 surrogate: it has no UTF-8 form, so a database would store
 * something else (U+FFFD, or refuse it), and two different strings could become one.
 */
export function hasLoneSurrogate(value: string): boolean {
  return !(value as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * A name a store keeps as text (a sequence id, a topic, a tracking name): a non-empty string of at most
 * `max` characters, without NUL (C-string drivers cut there) or lone surrogates (see hasLoneSurrogate).
 * `what` names it in the message, `field` in the ValidationError.
 */
export function validateName(value: unknown, field: string, what: string, max: number): string {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > max ||
    value.includes('\0') ||
    hasLoneSurrogate(value)
  ) {
    throw new ValidationError(
      `${what} must be a non-empty string of at most ${max} characters without NUL or lone UTF-16 surrogates`,
      field,
    );
  }
  return value;
}

/**
 * A value as an error message may show it: primitives as themselves, anything else by its kind. Never
 * throws: `String(value)` does on hostile input (an object whose `toString` is not a function), which
 * would turn a ValidationError into an untyped TypeError.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'object':
      return 'an object';
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    default:
      return String(value);
  }
}
