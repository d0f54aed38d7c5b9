import { ConcurrencyError, EsError, InMemoryActiveRecordStrategy, SequencedItem } from '../src/index.js';
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
