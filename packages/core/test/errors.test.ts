import {
  ConcurrencyError,
  DataIntegrityError,
  EntityIsDiscardedError,
  EsError,
  EventSchemaError,
  NotFoundError,
  NotSupportedError,
  OriginatorError,
  OutcomeUnknownError,
  SettingsError,
  StoreConnectionError,
  UnknownTopicError,
  ValidationError,
} from '../src/index.js';

const KINDS = Symbol.for('@es/core/error-kinds');

/** What an error thrown by a second copy of @es/core looks like to this copy: another class, same kinds. */
function fromAnotherCopy(kinds: string[], name: string): Error {
  const error = new Error('from another copy');
  error.name = name;
  Object.defineProperty(error, KINDS, { value: kinds });
  return error;
}

describe('errors', () => {
  it('are Errors and EsErrors, named after their class, with the message', () => {
    const error = new NotFoundError('no such entity', 'abc');
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(EsError);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.name).toBe('NotFoundError');
    expect(error.message).toBe('no such entity');
    expect(error.id).toBe('abc');
    expect(error.stack).toContain('NotFoundError');
  });

  it('isInstance narrows the type, for every class', () => {
    const caught: unknown = new ConcurrencyError('taken', 'seq', 2);
    if (!ConcurrencyError.isInstance(caught)) throw new Error('expected a ConcurrencyError');
    // Compiles only because isInstance narrowed `caught`.
    expect([caught.sequenceId, caught.position]).toEqual(['seq', 2]);
  });

  it('are not instances of unrelated classes', () => {
    const error = new ConcurrencyError('taken', 'seq', 3);
    expect(error).not.toBeInstanceOf(ValidationError);
    expect(error).not.toBeInstanceOf(NotFoundError);
    expect(new Error('plain')).not.toBeInstanceOf(EsError);
    expect(null).not.toBeInstanceOf(EsError);
    expect(ValidationError.isInstance('a string')).toBe(false);
    expect(ValidationError.isInstance(undefined)).toBe(false);
  });

  it('keep their fields', () => {
    const c = new ConcurrencyError('taken', 'seq-1', 7);
    expect([c.sequenceId, c.position]).toEqual(['seq-1', 7]);
    const v = new ValidationError('bad', 'limit');
    expect(v.field).toBe('limit');
    const s = new EventSchemaError('bad payload', 'my.Topic', 'nested.x');
    expect([s.topic, s.field]).toEqual(['my.Topic', 'nested.x']);
    const u = new UnknownTopicError('unknown', 'x.Y');
    expect(u.topic).toBe('x.Y');
  });

  it('carry their cause', () => {
    const cause = new Error('driver said no');
    expect(new StoreConnectionError('cannot connect', { cause }).cause).toBe(cause);
    expect(new ValidationError('bad', 'f', { cause }).cause).toBe(cause);
    expect(new ConcurrencyError('taken', 's', 1, { cause }).cause).toBe(cause);
    expect(new NotFoundError('gone', 'x', { cause }).cause).toBe(cause);
    expect(new EventSchemaError('bad', 't', 'f', { cause }).cause).toBe(cause);
    expect(new DataIntegrityError('bad').cause).toBeUndefined();
  });

  it('follow the subclass relations', () => {
    const schema = new EventSchemaError('bad', 't', 'foo');
    expect(schema).toBeInstanceOf(ValidationError);
    expect(schema).toBeInstanceOf(EsError);
    expect(schema.name).toBe('EventSchemaError');
    const settings = new SettingsError('bad key', 'key');
    expect(settings).toBeInstanceOf(ValidationError);
    expect(settings.field).toBe('key');
    // A parent is not an instance of its subclass.
    expect(new ValidationError('bad')).not.toBeInstanceOf(EventSchemaError);
    expect(new ValidationError('bad')).not.toBeInstanceOf(SettingsError);
  });

  it.each([
    [ValidationError, 'ValidationError'],
    [ConcurrencyError, 'ConcurrencyError'],
    [NotFoundError, 'NotFoundError'],
    [EntityIsDiscardedError, 'EntityIsDiscardedError'],
    [OriginatorError, 'OriginatorError'],
    [UnknownTopicError, 'UnknownTopicError'],
    [EventSchemaError, 'EventSchemaError'],
    [DataIntegrityError, 'DataIntegrityError'],
    [NotSupportedError, 'NotSupportedError'],
    [StoreConnectionError, 'StoreConnectionError'],
    [OutcomeUnknownError, 'OutcomeUnknownError'],
    [SettingsError, 'SettingsError'],
  ] as const)('%p is named %s and recognised by isInstance', (Cls, name) => {
    const error = new (Cls as unknown as new (m: string, ...rest: unknown[]) => EsError)('m', 't', 'f');
    expect(error.name).toBe(name);
    expect(Cls.isInstance(error)).toBe(true);
    expect(EsError.isInstance(error)).toBe(true);
    expect(Cls.isInstance(new Error('m'))).toBe(false);
  });

  describe('across two copies of the library', () => {
    it('instanceof and isInstance recognise an error of another copy by its kinds', () => {
      const foreign = fromAnotherCopy(['ConcurrencyError', 'EsError'], 'ConcurrencyError');
      expect(foreign).toBeInstanceOf(ConcurrencyError);
      expect(foreign).toBeInstanceOf(EsError);
      expect(ConcurrencyError.isInstance(foreign)).toBe(true);
      expect(foreign).not.toBeInstanceOf(NotFoundError);
      expect(NotFoundError.isInstance(foreign)).toBe(false);
    });

    it('keep subclass relations of another copy', () => {
      const foreign = fromAnotherCopy(['EventSchemaError', 'ValidationError', 'EsError'], 'EventSchemaError');
      expect(foreign).toBeInstanceOf(ValidationError);
      expect(foreign).toBeInstanceOf(EventSchemaError);
      expect(foreign).not.toBeInstanceOf(SettingsError);
    });

    it('the kinds an error carries are its class chain, kept once on the class prototype', () => {
      const error = new SettingsError('bad');
      expect((error as unknown as Record<symbol, unknown>)[KINDS]).toEqual([
        'SettingsError',
        'ValidationError',
        'EsError',
      ]);
      expect(Object.getOwnPropertySymbols(error)).not.toContain(KINDS);
      const descriptor = Object.getOwnPropertyDescriptor(SettingsError.prototype, KINDS);
      expect(descriptor?.enumerable).toBe(false);
      expect(Object.keys(error)).not.toContain(KINDS);
    });

    it('a catch by type works for an error thrown by another copy', () => {
      const caught = (() => {
        try {
          throw fromAnotherCopy(['NotFoundError', 'EsError'], 'NotFoundError');
        } catch (error) {
          return error instanceof NotFoundError ? 'not found' : 'other';
        }
      })();
      expect(caught).toBe('not found');
    });
  });

  describe('user subclasses', () => {
    class BackendTimeout extends OutcomeUnknownError {}
    class QuotaError extends ValidationError {
      static override readonly kind: string = 'QuotaError';
    }

    it('a subclass with its own kind is recognised, and its parent is not an instance of it', () => {
      const quota = new QuotaError('too many', 'count');
      expect(quota).toBeInstanceOf(QuotaError);
      expect(quota).toBeInstanceOf(ValidationError);
      expect(quota.name).toBe('QuotaError');
      expect(new ValidationError('x')).not.toBeInstanceOf(QuotaError);
      expect(QuotaError.isInstance(new ValidationError('x'))).toBe(false);
    });

    it('a subclass without a kind of its own does not claim every error of its parent', () => {
      const timeout = new BackendTimeout('timed out');
      expect(timeout).toBeInstanceOf(BackendTimeout);
      expect(timeout).toBeInstanceOf(OutcomeUnknownError);
      expect(timeout.name).toBe('BackendTimeout');
      expect(new OutcomeUnknownError('x')).not.toBeInstanceOf(BackendTimeout);
      expect(BackendTimeout.isInstance(new OutcomeUnknownError('x'))).toBe(false);
      expect(BackendTimeout.isInstance(timeout)).toBe(true);
    });
  });
});
