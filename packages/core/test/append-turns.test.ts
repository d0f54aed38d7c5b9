import { randomUUID } from 'node:crypto';
import {
  ConcurrencyError,
  InMemoryActiveRecordStrategy,
  SequencedItem,
  StoreConnectionError,
} from '../src/index.js';

/**
 * A store whose inserts stay in flight until the test lets each one go (as a server's would), counting
 * what reaches it: appends of one process to one sequence wait their turn (append-turns.ts).
 */
class HeldStore extends InMemoryActiveRecordStrategy {
  readonly sent: string[] = [];
  private readonly held: { release: () => void; fail: (error: Error) => void }[] = [];

  protected override get insertsAtOnce(): boolean {
    return false;
  }

  protected override insert(items: readonly SequencedItem[]): Promise<void> {
    this.sent.push(items.map((item) => item.position).join(','));
    return new Promise<void>((resolve, reject) => {
      this.held.push({ release: () => resolve(), fail: reject });
    }).then(() => super.insert(items));
  }

  async next(): Promise<{ release: () => void; fail: (error: Error) => void }> {
    while (this.held.length === 0) await new Promise((resolve) => setImmediate(resolve));
    return this.held.shift()!;
  }
}

const item = (id: string, position: number) => new SequencedItem(id, position, 'turns.Test', '{}');
const settled = (promise: Promise<unknown>) =>
  promise.then(
    () => 'stored',
    (error: unknown) => error,
  );

describe('appends of one process to a sequence wait for one in flight before them', () => {
  it('an append at a position an append in flight reaches fails without a statement once that one is stored', async () => {
    const store = new HeldStore();
    const id = randomUUID();
    const first = settled(store.append([item(id, 0), item(id, 1)]));
    const samePosition = settled(store.append(item(id, 1)));
    const before = settled(store.append(item(id, 0)));
    (await store.next()).release();
    expect(await first).toBe('stored');
    for (const outcome of [await samePosition, await before]) {
      expect(outcome).toBeInstanceOf(ConcurrencyError);
      expect((outcome as ConcurrencyError).sequenceId).toBe(id);
    }
    expect(store.sent).toEqual(['0,1']); // the losers never reached the store
    expect((await store.getItems(id)).map((i) => i.position)).toEqual([0, 1]);
  });

  it('when the append in flight is not stored, the one waiting is sent and the store decides', async () => {
    const store = new HeldStore();
    const id = randomUUID();
    const first = settled(store.append(item(id, 0)));
    const second = settled(store.append(item(id, 0)));
    (await store.next()).fail(new StoreConnectionError('the server went away'));
    expect(await first).toBeInstanceOf(StoreConnectionError);
    (await store.next()).release();
    expect(await second).toBe('stored');
    expect(store.sent).toEqual(['0', '0']);
  });

  it('appends past the positions in flight, and to other sequences, are sent at once', async () => {
    const store = new HeldStore();
    const [id, other] = [randomUUID(), randomUUID()];
    const appends = [store.append(item(id, 0)), store.append(item(id, 1)), store.append(item(other, 0))];
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.sent).toEqual(['0', '1', '0']);
    for (let i = 0; i < 3; i++) (await store.next()).release();
    await Promise.all(appends);
  });

  it('stores whose positions have gaps (snapshots) send every append', async () => {
    const store = new HeldStore({ contiguous: false });
    const id = randomUUID();
    const first = settled(store.append(item(id, 5)));
    const second = settled(store.append(item(id, 5)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.sent).toEqual(['5', '5']);
    (await store.next()).release();
    (await store.next()).release();
    expect(await first).toBe('stored');
    expect(await second).toBeInstanceOf(ConcurrencyError); // refused by the store itself
  });
});
