import { AppendSignal, appendSignalFor } from '../src/backend.js';

describe('the appended signal', () => {
  it('a wait noted before a raise resolves at once, even when the raise came before the wait began', async () => {
    const signal = new AppendSignal();
    const seen = signal.count;
    signal.raise(); // between a follower's read and its wait
    await expect(signal.wait(seen, { timeoutMs: 10_000 })).resolves.toBe(true);
  });

  it('wakes a waiting follower when raised, without waiting for its timeout', async () => {
    const signal = new AppendSignal();
    const waiting = signal.wait(signal.count, { timeoutMs: 60_000 });
    signal.raise();
    await expect(waiting).resolves.toBe(true);
  });

  it('resolves false after its timeout, or when its abort signal fires', async () => {
    const signal = new AppendSignal();
    await expect(signal.wait(signal.count, { timeoutMs: 5 })).resolves.toBe(false);
    const controller = new AbortController();
    const waiting = signal.wait(signal.count, { signal: controller.signal });
    controller.abort();
    await expect(waiting).resolves.toBe(false);
    await expect(signal.wait(signal.count, { signal: controller.signal })).resolves.toBe(false);
  });

  it('listeners hear every raise until they stop; a listener that throws does not stop the others', () => {
    const signal = new AppendSignal();
    const heard: string[] = [];
    signal.listen(() => {
      throw new Error('a broken listener');
    });
    const stop = signal.listen(() => heard.push('a'));
    signal.raise();
    stop();
    signal.raise();
    expect(heard).toEqual(['a']);
    expect(signal.count).toBe(2);
  });

  it('appendSignalFor gives one signal per log key in the process', () => {
    expect(appendSignalFor('test:log-a')).toBe(appendSignalFor('test:log-a'));
    expect(appendSignalFor('test:log-a')).not.toBe(appendSignalFor('test:log-b'));
  });
});
