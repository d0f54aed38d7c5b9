import { Deliveries, appendToVisible, retrying, within } from '../src/following-measure.js';

describe('Deliveries: pushed deliveries taken one at a time', () => {
  it('hands a delivery pushed before the take to the next taker', async () => {
    const deliveries = new Deliveries();
    deliveries.push();
    deliveries.push();
    await expect(deliveries.next()).resolves.toBeUndefined();
    await expect(deliveries.next()).resolves.toBeUndefined();
  });

  it('resolves waiting takers in the order they asked, one per push', async () => {
    const deliveries = new Deliveries();
    const order: number[] = [];
    const first = deliveries.next().then(() => order.push(1));
    const second = deliveries.next().then(() => order.push(2));
    deliveries.push();
    await first;
    expect(order).toEqual([1]);
    deliveries.push();
    await second;
    expect(order).toEqual([1, 2]);
  });

  it('rejects the waiting taker and every later one when the consumer fails', async () => {
    const deliveries = new Deliveries();
    const waiting = deliveries.next();
    const failure = new Error('consumer died');
    deliveries.fail(failure);
    await expect(waiting).rejects.toBe(failure);
    await expect(deliveries.next()).rejects.toBe(failure);
  });

  it('still hands out deliveries pushed before a failure', async () => {
    const deliveries = new Deliveries();
    deliveries.push();
    deliveries.fail(new Error('stopped'));
    await expect(deliveries.next()).resolves.toBeUndefined();
    await expect(deliveries.next()).rejects.toThrow('stopped');
  });
});

describe('within', () => {
  it('passes a settled value through', async () => {
    await expect(within(Promise.resolve(7), 1_000, 'x')).resolves.toBe(7);
  });

  it('rejects, naming what did not arrive, when the promise never settles', async () => {
    await expect(within(new Promise(() => undefined), 10, 'delivery of append 3')).rejects.toThrow(
      'delivery of append 3: nothing after 10 ms',
    );
  });
});

describe('appendToVisible', () => {
  it('makes warm-up plus counted appends, one per delivery, the indices in order, and returns only the counted', async () => {
    const deliveries = new Deliveries();
    const appended: number[] = [];
    const times = await appendToVisible(
      () => deliveries.next(),
      async (i) => {
        appended.push(i);
        deliveries.push();
      },
      3,
      2,
    );
    expect(appended).toEqual([0, 1, 2, 3, 4]);
    expect(times).toHaveLength(3);
    expect([...times]).toEqual([...times].sort((a, b) => a - b));
  });

  it('takes the delivery before appending, so a follower that already delivered cannot count early', async () => {
    const calls: string[] = [];
    await appendToVisible(
      async () => void calls.push('next'),
      async () => void calls.push('append'),
      2,
      0,
    );
    expect(calls).toEqual(['next', 'append', 'next', 'append']);
  });

  it("fails with the consumer's error instead of waiting for a delivery that cannot come", async () => {
    const deliveries = new Deliveries();
    const failure = new Error('consumer died');
    await expect(
      appendToVisible(
        () => deliveries.next(),
        async () => deliveries.fail(failure),
        1,
        0,
      ),
    ).rejects.toBe(failure);
  });
});

describe('retrying', () => {
  const busy = new Error('SQLITE_BUSY');
  const failingTimes = (failures: number, error: Error) => {
    let calls = 0;
    const run = async () => {
      calls++;
      if (calls <= failures) throw error;
      return calls;
    };
    return { run, calls: () => calls };
  };

  it('runs again after a retryable failure, telling each retry', async () => {
    const flaky = failingTimes(2, busy);
    const retried: unknown[] = [];
    await expect(
      retrying(flaky.run, { tries: 3, retryable: (e) => e === busy, onRetry: (e) => retried.push(e) }),
    ).resolves.toBe(3);
    expect(retried).toEqual([busy, busy]);
  });

  it('throws the last failure when the tries are spent', async () => {
    const flaky = failingTimes(5, busy);
    await expect(retrying(flaky.run, { tries: 3, retryable: () => true })).rejects.toBe(busy);
    expect(flaky.calls()).toBe(3);
  });

  it('throws any other failure at once', async () => {
    const other = new Error('syntax error');
    const flaky = failingTimes(1, other);
    await expect(retrying(flaky.run, { tries: 3, retryable: (e) => e === busy })).rejects.toBe(other);
    expect(flaky.calls()).toBe(1);
  });
});
