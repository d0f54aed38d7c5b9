import { ConcurrencyError, StoreConnectionError } from '../src/index.js';
import { OrderedWrites } from '../src/backend.js';
import { deferred, nextMacrotask, rejectionOf } from './fixtures.js';

describe('OrderedWrites', () => {
  it('runs the writes of one key one after another, in the order enqueued', async () => {
    const writes = new OrderedWrites();
    const log: string[] = [];
    const gates = [deferred(), deferred(), deferred()];
    gates.forEach((gate, i) =>
      writes.enqueue('k', async () => {
        log.push(`start ${i}`);
        await gate.promise;
        log.push(`end ${i}`);
      }),
    );
    await nextMacrotask();
    expect(log).toEqual(['start 0']);
    gates[2]!.resolve();
    gates[1]!.resolve();
    await nextMacrotask();
    expect(log).toEqual(['start 0']);
    gates[0]!.resolve();
    await writes.settle('k');
    expect(log).toEqual(['start 0', 'end 0', 'start 1', 'end 1', 'start 2', 'end 2']);
    expect(writes.size).toBe(0);
  });

  it('runs the writes of different keys independently; settle waits for one key only', async () => {
    const writes = new OrderedWrites();
    const slow = deferred();
    let fastDone = false;
    writes.enqueue('slow', () => slow.promise);
    writes.enqueue('fast', async () => {
      fastDone = true;
    });
    await writes.settle('fast');
    expect(fastDone).toBe(true);
    expect(writes.size).toBe(1);
    let settled = false;
    const all = writes.settleAll().then(() => (settled = true));
    await nextMacrotask();
    expect(settled).toBe(false);
    slow.resolve();
    await all;
    expect(writes.size).toBe(0);
    await expect(writes.settle('never-used')).resolves.toBeUndefined();
  });

  it('a failure is rethrown by the next settle of its key, once, with its type, and later writes are abandoned', async () => {
    const writes = new OrderedWrites();
    const ran: number[] = [];
    writes.enqueue('k', async () => void ran.push(1));
    writes.enqueue('k', async () => {
      throw new ConcurrencyError('position 1 is taken', 'k', 1);
    });
    writes.enqueue('k', async () => void ran.push(3));
    writes.enqueue('k', async () => void ran.push(4));
    writes.enqueue('other', async () => void ran.push(100));
    const error = await rejectionOf(writes.settle('k'));
    expect(error).toBeInstanceOf(ConcurrencyError);
    expect((error as ConcurrencyError).position).toBe(1);
    expect((error as { abandonedWrites?: number }).abandonedWrites).toBe(2);
    expect(ran).toEqual([1, 100]);
    // Reported once: the key is usable again.
    await expect(writes.settle('k')).resolves.toBeUndefined();
    await expect(writes.settleAll()).resolves.toBeUndefined();
    writes.enqueue('k', async () => void ran.push(5));
    await writes.settle('k');
    expect(ran).toEqual([1, 100, 5]);
  });

  it('settleAll rethrows the one failure, or an AggregateError of several', async () => {
    const writes = new OrderedWrites();
    writes.enqueue('a', () => Promise.reject(new StoreConnectionError('down')));
    const one = await rejectionOf(writes.settleAll());
    expect(one).toBeInstanceOf(StoreConnectionError);
    expect((one as { abandonedWrites?: number }).abandonedWrites).toBe(0);

    const first = new ConcurrencyError('a taken');
    const second = new StoreConnectionError('b down');
    writes.enqueue('a', () => Promise.reject(first));
    writes.enqueue('b', () => Promise.reject(second));
    const many = await rejectionOf(writes.settleAll());
    expect(many).toBeInstanceOf(AggregateError);
    expect((many as AggregateError).errors).toEqual([first, second]);
    expect((many as Error).message).toBe('2 background writes failed');
    await expect(writes.settleAll()).resolves.toBeUndefined();
  });

  it('settleAll also waits for writes enqueued while it waits', async () => {
    const writes = new OrderedWrites();
    const done: string[] = [];
    writes.enqueue('a', async () => {
      await nextMacrotask();
      writes.enqueue('b', async () => {
        await nextMacrotask();
        done.push('b');
      });
      done.push('a');
    });
    await writes.settleAll();
    expect(done).toEqual(['a', 'b']);
  });

  it('a failure that is not an object is rethrown as it is', async () => {
    const writes = new OrderedWrites();
    writes.enqueue('k', () => Promise.reject('just a string'));
    expect(await rejectionOf(writes.settle('k'))).toBe('just a string');
  });

  it('a write that throws synchronously is kept like one that rejects', async () => {
    const writes = new OrderedWrites();
    writes.enqueue('k', () => {
      throw new StoreConnectionError('sync');
    });
    expect(await rejectionOf(writes.settle('k'))).toBeInstanceOf(StoreConnectionError);
  });

  it('a failure nobody asks about is never an unhandled rejection (jest fails a test that has one)', async () => {
    const writes = new OrderedWrites();
    writes.enqueue('k', () => Promise.reject(new ConcurrencyError('ignored')));
    writes.enqueue('k', async () => undefined);
    await nextMacrotask();
    await nextMacrotask();
    expect(writes.size).toBe(0);
  });
});
