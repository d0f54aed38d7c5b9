import { ConcurrencyError } from './errors.js';

/**
 * The ConcurrencyErrors of a store's position check, built without a stack trace. A conflict is the
 * expected outcome of racing writers, caught and retried (reload, try again), and capturing a stack was
 * most of its cost: V8 walks every frame, async ones included, 2-3 µs where the rest of a losing
 * in-memory append takes about 1 µs (a third of the CPU of 8 writers contending on 10 streams). The
 * message says which sequence and position, which the frames of the store's own check would not; the
 * error is an ordinary ConcurrencyError, whose `stack` is its name and message.
 *
 * The limit is lowered only around the constructor, and restored even if it throws; where it cannot be
 * changed (a frozen `Error`, as under SES lockdown) the error is made with a stack as usual.
 */
export function conflictError(
  message: string,
  sequenceId: string,
  position: number,
  options?: ErrorOptions,
): ConcurrencyError {
  const limit = Error.stackTraceLimit;
  if (!Reflect.set(Error, 'stackTraceLimit', 0))
    return new ConcurrencyError(message, sequenceId, position, options);
  try {
    return new ConcurrencyError(message, sequenceId, position, options);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The conflict of an append that finds one of its positions already taken. */
export function positionTaken(sequenceId: string, position: number): ConcurrencyError {
  return conflictError(
    `position ${position} of sequence ${sequenceId} is already taken`,
    sequenceId,
    position,
  );
}

/** The conflict of an append that would leave a gap in a contiguous sequence. */
export function notNext(sequenceId: string, first: number, head: number): ConcurrencyError {
  return conflictError(
    `position ${first} of sequence ${sequenceId} would leave a gap: the sequence ${head < 0 ? 'is empty' : `ends at ${head}`}, so an append starts at ${head + 1} (the writer's state is not what is stored: read it again)`,
    sequenceId,
    first,
  );
}

/**
 * A promise rejected with `conflict` one microtask from now, not at once. A promise rejected before any
 * handler is attached goes through Node's unhandled-rejection bookkeeping (an entry made, then found
 * and dropped when the caller's `await` attaches its handler): 1.8-2.3 CPU µs per rejection, against
 * 0.4-0.7 µs for this (Node 20, a loop of awaited rejections; docs/benchmarks.md, Round 2e). By the next microtask the caller has attached
 * its handler. A caller that has not still sees an ordinary rejection, reported as unhandled as ever.
 */
export function rejectSoon(conflict: ConcurrencyError): Promise<never> {
  return new Promise((_, reject) => queueMicrotask(() => reject(conflict)));
}
