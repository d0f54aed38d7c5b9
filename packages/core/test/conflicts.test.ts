import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import {
  ConcurrencyError,
  EsError,
  EventStore,
  InMemoryActiveRecordStrategy,
  SequencedItem,
  SequencedItemMapper,
  ValidationError,
  VersionedEntity,
} from '../src/index.js';
import { conflictError, notNext } from '../src/backend.js';

/** What an append rejected with, or a failure when it was not rejected. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the append to be rejected');
}

describe("conflicts found by a store's position check", () => {
  it('are ConcurrencyErrors naming the sequence and position, with no stack frames', async () => {
    const s = new InMemoryActiveRecordStrategy({ sequenceIdKind: 'string' });
    await s.append([new SequencedItem('a', 0, 't', '{}'), new SequencedItem('a', 1, 't', '{}')]);
    const taken = await rejection(s.append(new SequencedItem('a', 1, 't', '{}')));
    expect(taken).toBeInstanceOf(ConcurrencyError);
    expect(taken).toBeInstanceOf(EsError);
    expect(taken).toBeInstanceOf(Error);
    const error = taken as ConcurrencyError;
    expect(error.name).toBe('ConcurrencyError');
    expect([error.sequenceId, error.position]).toEqual(['a', 1]);
    expect(error.message).toBe('position 1 of sequence a is already taken');
    // The stack is the name and the message: no frame was captured (the cost of a conflict).
    expect(error.stack).toBe('ConcurrencyError: position 1 of sequence a is already taken');
    const gap = (await rejection(s.append(new SequencedItem('a', 5, 't', '{}')))) as ConcurrencyError;
    expect(gap).toBeInstanceOf(ConcurrencyError);
    expect(gap.message).toMatch(/^position 5 of sequence a would leave a gap: the sequence ends at 1/);
    expect(gap.stack).not.toContain('\n    at ');
  });

  it('reject once the caller awaits: pending when append returns, so no rejection goes unhandled first', async () => {
    const s = new InMemoryActiveRecordStrategy({ sequenceIdKind: 'string' });
    await s.append(new SequencedItem('a', 0, 't', '{}'));
    const conflict = s.append(new SequencedItem('a', 0, 't', '{}'));
    // A promise rejected with no handler yet goes through Node's unhandled-rejection bookkeeping.
    const state = inspect(conflict);
    expect(await rejection(conflict)).toBeInstanceOf(ConcurrencyError);
    expect(state).toMatch(/^Promise \{\s*<pending>/);
  });

  it('leave Error.stackTraceLimit as it was, so other errors keep their stacks', () => {
    const before = Error.stackTraceLimit;
    try {
      Error.stackTraceLimit = 7;
      expect(notNext('a', 3, 1)).toBeInstanceOf(ConcurrencyError);
      expect(Error.stackTraceLimit).toBe(7);
      expect(new ConcurrencyError('made by a user', 'a', 1).stack).toContain('\n    at ');
    } finally {
      Error.stackTraceLimit = before;
    }
  });

  it('are still made, with a stack, where the limit cannot be changed (a frozen Error)', () => {
    const before = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')!;
    Object.defineProperty(Error, 'stackTraceLimit', { ...before, writable: false });
    try {
      const error = conflictError('position 2 of sequence a is already taken', 'a', 2);
      expect(error).toBeInstanceOf(ConcurrencyError);
      expect([error.message, error.sequenceId, error.position]).toEqual([
        'position 2 of sequence a is already taken',
        'a',
        2,
      ]);
      expect(Error.stackTraceLimit).toBe(before.value);
    } finally {
      Object.defineProperty(Error, 'stackTraceLimit', before);
    }
  });
});

describe('appends refused on the way in', () => {
  const store = () =>
    new EventStore({
      activeRecordStrategy: new InMemoryActiveRecordStrategy(),
      sequencedItemMapper: new SequencedItemMapper(),
    });

  it('reject (never throw synchronously) when an event cannot be mapped', async () => {
    const eventStore = store();
    // No originatorId: the mapper refuses it before the strategy is reached.
    const event = new VersionedEntity.Created({ originatorVersion: 0 } as never);
    let returned: Promise<void> | undefined;
    expect(() => {
      returned = eventStore.append(event);
    }).not.toThrow();
    await expect(returned).rejects.toBeInstanceOf(ValidationError);
  });

  it('reject when the strategy refuses the batch, or its append throws synchronously', async () => {
    const strategy = new InMemoryActiveRecordStrategy({ sequenceIdKind: 'string' });
    let returned: Promise<void> | undefined;
    expect(() => {
      returned = strategy.append(new SequencedItem('a', -1, 't', '{}'));
    }).not.toThrow();
    await expect(returned).rejects.toBeInstanceOf(ValidationError);
    const throwing = {
      ...strategy,
      sequenceIdKind: 'uuid' as const,
      append(): Promise<void> {
        throw new ValidationError('refused at once', 'items');
      },
    } as unknown as InMemoryActiveRecordStrategy;
    const eventStore = new EventStore({
      activeRecordStrategy: throwing,
      sequencedItemMapper: new SequencedItemMapper(),
    });
    const event = new VersionedEntity.Created({ originatorId: randomUUID(), originatorVersion: 0 });
    expect(() => {
      returned = eventStore.append(event);
    }).not.toThrow();
    await expect(returned).rejects.toThrow('refused at once');
  });

  it('a conflict rejects and writes nothing of the batch', async () => {
    const eventStore = store();
    const id = randomUUID();
    await eventStore.append(new VersionedEntity.Created({ originatorId: id, originatorVersion: 0 }));
    const batch = [0, 1].map(
      (v) =>
        new VersionedEntity.AttributeChanged({ originatorId: id, originatorVersion: v, name: 'n', value: v }),
    );
    await expect(eventStore.append(batch)).rejects.toBeInstanceOf(ConcurrencyError);
    expect((await eventStore.getDomainEvents(id)).map((e) => e.constructor)).toEqual([
      VersionedEntity.Created,
    ]);
  });
});
