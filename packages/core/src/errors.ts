/**
 * One error hierarchy for the whole library. Every backend maps its driver's errors onto these at the
 * transaction boundary, so callers catch by type, never by message.
 *
 * `instanceof` works even when two copies of @es/core are loaded (the dual-package hazard): each error
 * carries the kinds of its class chain under a global symbol, and `Symbol.hasInstance` checks those.
 */
const KINDS = Symbol.for('@es/core/error-kinds');

type Kinded = { [KINDS]: readonly string[] };

function kindsOf(error: unknown): readonly string[] | undefined {
  return typeof error === 'object' && error !== null ? (error as Partial<Kinded>)[KINDS] : undefined;
}

/**
 * The kinds of a class chain, computed once per class and kept on its prototype (where instances find
 * them): a conflict error on a hot path costs no more than a plain Error.
 */
function kindsOfClass(cls: typeof EsError): void {
  const prototype = cls.prototype as unknown as Partial<Kinded>;
  if (Object.prototype.hasOwnProperty.call(prototype, KINDS)) return;
  const kinds: string[] = [];
  for (let c = cls as typeof EsError | undefined; c && c.kind; c = Object.getPrototypeOf(c)) {
    if (Object.prototype.hasOwnProperty.call(c, 'kind')) kinds.push(c.kind);
  }
  Object.defineProperty(prototype, KINDS, { value: kinds, enumerable: false });
}

export class EsError extends Error {
  static readonly kind: string = 'EsError';
  declare readonly [KINDS]: readonly string[];

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    kindsOfClass(new.target);
    this.name = new.target.name;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return isOfClass(this, value);
  }

  /** The same test as `instanceof`, for readers who prefer a named guard. */
  static isInstance<T extends abstract new (...args: any[]) => EsError>(
    this: T,
    value: unknown,
  ): value is InstanceType<T> {
    return isOfClass(this as unknown as typeof EsError, value);
  }
}

function isOfClass(cls: typeof EsError, value: unknown): boolean {
  // A subclass that declares no kind of its own would otherwise claim every error of its parent's kind:
  // it is recognised by its prototype chain instead (within one copy only).
  if (!Object.prototype.hasOwnProperty.call(cls, 'kind'))
    return Function.prototype[Symbol.hasInstance].call(cls, value);
  return kindsOf(value)?.includes(cls.kind) ?? false;
}

/** Bad input: nothing was written. `field` names what was wrong. */
export class ValidationError extends EsError {
  static override readonly kind: string = 'ValidationError';
  constructor(
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Another writer took a position first. Nothing of the rejected append was written. */
export class ConcurrencyError extends EsError {
  static override readonly kind: string = 'ConcurrencyError';
  constructor(
    message: string,
    readonly sequenceId?: string,
    readonly position?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The entity or item does not exist (or, for an entity, has been discarded). */
export class NotFoundError extends EsError {
  static override readonly kind: string = 'NotFoundError';
  constructor(
    message: string,
    readonly id?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A discarded entity was used. */
export class EntityIsDiscardedError extends EsError {
  static override readonly kind: string = 'EntityIsDiscardedError';
}

/** An event does not fit the entity it was applied to (wrong id or version). */
export class OriginatorError extends EsError {
  static override readonly kind: string = 'OriginatorError';
}

/** A topic that is not in the registry, or a class that was never registered. */
export class UnknownTopicError extends EsError {
  static override readonly kind: string = 'UnknownTopicError';
  constructor(
    message: string,
    readonly topic?: string,
  ) {
    super(message);
  }
}

/** A topic (or a class) registered twice, to different classes (or topics): a mistake in the wiring. */
export class DuplicateTopicError extends EsError {
  static override readonly kind: string = 'DuplicateTopicError';
  constructor(
    message: string,
    readonly topic?: string,
  ) {
    super(message);
  }
}

/** Event data failed the event class's schema, on encode or decode. */
export class EventSchemaError extends ValidationError {
  static override readonly kind: string = 'EventSchemaError';
  constructor(
    message: string,
    readonly topic: string,
    field: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, field, options);
  }
}

/** Stored data could not be decoded or failed authentication: tampered, truncated or the wrong key. */
export class DataIntegrityError extends EsError {
  static override readonly kind: string = 'DataIntegrityError';
}

/** The backend cannot do this (for example, a notification log on a store that has none). */
export class NotSupportedError extends EsError {
  static override readonly kind: string = 'NotSupportedError';
}

/** The connection failed before anything was sent; `host`/`port` say where. */
export class StoreConnectionError extends EsError {
  static override readonly kind: string = 'StoreConnectionError';
}

/**
 * The write may or may not have been applied (a connection lost during commit, a timeout the store
 * could not resolve). The caller must read before retrying.
 */
export class OutcomeUnknownError extends EsError {
  static override readonly kind: string = 'OutcomeUnknownError';
}

/** Settings that cannot work, rejected when constructed. */
export class SettingsError extends ValidationError {
  static override readonly kind: string = 'SettingsError';
}

/**
 * A table the store uses does not exist: its tables were never created. Call the datastore's
 * `setupTables()` once, or open the store with `{ createTables: true }`. Nothing was written.
 */
export class MissingTableError extends SettingsError {
  static override readonly kind: string = 'MissingTableError';
  constructor(
    readonly tableName: string,
    options?: { cause?: unknown },
  ) {
    super(
      `table ${tableName} does not exist: call setupTables() on its datastore once, or open the store with { createTables: true }`,
      'tables',
      options,
    );
  }
}

/**
 * A follower tried to record a notification it (or a competing copy of it) already processed: nothing
 * of that transaction was written. A follower that gets it resumes after its latest tracking record.
 */
export class AlreadyProcessedError extends ConcurrencyError {
  static override readonly kind: string = 'AlreadyProcessedError';
  constructor(
    readonly applicationName: string,
    readonly notificationId: number,
    options?: { cause?: unknown },
  ) {
    super(
      `notification ${notificationId} of ${JSON.stringify(applicationName)} was already processed`,
      applicationName,
      notificationId,
      options,
    );
  }
}

/**
 * The store, datastore or application was closed: the operation was refused and nothing was written.
 * A closed store never reopens itself (that would leak a pool and keep the process alive); open a new one.
 */
export class StoreClosedError extends EsError {
  static override readonly kind: string = 'StoreClosedError';
}
