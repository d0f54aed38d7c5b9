import { ValidationError } from './errors.js';
import type { ItemQuery } from './recorders.js';

/** A query after validation: every field present. */
export interface NormalizedQuery {
  readonly lower: number;
  readonly lowerInclusive: boolean;
  readonly upper: number;
  readonly upperInclusive: boolean;
  readonly limit: number | undefined;
  readonly descending: boolean;
}

/** An item query checked (a ValidationError naming the field otherwise) and with every field present. */
export function normalizeQuery(query: ItemQuery): NormalizedQuery {
  const { gt, gte, lt, lte, limit, descending = false } = query;
  // Checked one by one: a table of pairs here was five arrays made on every read.
  checkBound('gt', gt);
  checkBound('gte', gte);
  checkBound('lt', lt);
  checkBound('lte', lte);
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
    throw new ValidationError('limit must be a positive integer', 'limit');
  }
  let lower = -Infinity,
    lowerInclusive = true,
    upper = Infinity,
    upperInclusive = true;
  if (gte !== undefined) lower = gte;
  if (gt !== undefined && gt >= lower) {
    lower = gt;
    lowerInclusive = false;
  }
  if (lte !== undefined) upper = lte;
  if (lt !== undefined && lt <= upper) {
    upper = lt;
    upperInclusive = false;
  }
  return { lower, lowerInclusive, upper, upperInclusive, limit, descending: Boolean(descending) };
}

/** A ValidationError unless `value` is undefined or a number other than NaN. */
export function checkBound(name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== 'number' || Number.isNaN(value))) {
    throw new ValidationError(`${name} must be a number`, name);
  }
}

/**
 * True when no position can lie in the range: backends never see such a query (a bound of +Infinity
 * below, or -Infinity above, would otherwise read as "no bound" to a backend that drops infinite bounds).
 */
export function isEmptyRange(q: NormalizedQuery): boolean {
  return (
    q.lower === Infinity ||
    q.upper === -Infinity ||
    q.lower > q.upper ||
    (q.lower === q.upper && !(q.lowerInclusive && q.upperInclusive))
  );
}

/** True when a position lies in a normalized range. */
export function inRange(position: number, q: NormalizedQuery): boolean {
  return (
    (q.lowerInclusive ? position >= q.lower : position > q.lower) &&
    (q.upperInclusive ? position <= q.upper : position < q.upper)
  );
}
