import { describe, expect, it } from '@jest/globals';
import {
  type AggregateRecorder,
  ConcurrencyError,
  EventSourcedRepository,
  EventStore,
  type Mutator,
  NotFoundError,
  PersistencePolicy,
  SequencedItem,
  SequencedItemMapper,
  SnapshotStrategy,
  TopicRegistry,
  UnknownTopicError,
  VersionedEntityEvent,
} from '@es/core';
import {
  type StrategyRef,
  type SuiteContext,
  TEST_TIMEOUT,
  expectPositions,
  item,
  newSequenceId,
} from './context.js';
import { Tally, tallyTopics } from './tally.js';

/** The seed's wiring over a strategy: event store, persistence policy, repository (and snapshots). */
function tallyApplication(strategy: AggregateRecorder, snapshotStore?: AggregateRecorder) {
  const mapper = new SequencedItemMapper({ topics: tallyTopics });
  const eventStore = new EventStore({ activeRecordStrategy: strategy, sequencedItemMapper: mapper });
  const policy = new PersistencePolicy(eventStore, {
    eventType: VersionedEntityEvent,
    publisher: Tally.publisher,
  });
  const snapshots = snapshotStore
    ? new SnapshotStrategy({
        snapshotStore: new EventStore({ activeRecordStrategy: snapshotStore, sequencedItemMapper: mapper }),
        topics: tallyTopics,
      })
    : undefined;
  // Counts the events replayed, to tell a load from a snapshot from a full replay.
  let replayed = 0;
  const mutator: Mutator<Tally> = (entity, event) => {
    replayed += 1;
    return Tally.mutate(entity, event) as Tally;
  };
  const repository = (options: { snapshotPeriod?: number } = {}) =>
    new EventSourcedRepository<Tally>({
      eventStore,
      mutator,
      ...(snapshots ? { snapshotStrategy: snapshots } : {}),
      ...options,
    });
  return {
    eventStore,
    repository,
    /** The number of events replayed since the last call. */
    replayed: () => {
      const n = replayed;
      replayed = 0;
      return n;
    },
    close: () => policy.close(),
  };
}

export function defineDomainTests(ctx: SuiteContext, strategy: StrategyRef): void {
  describe('the domain model over the strategy (EventStore, PersistencePolicy, EventSourcedRepository)', () => {
    it(
      'appending an event of an unregistered class rejects with UnknownTopicError and writes nothing',
      async () => {
        const s = strategy();
        const mark = await ctx.mark(s);
        class Unregistered extends VersionedEntityEvent {}
        const id = newSequenceId();
        const created = new Tally.Created({ originatorId: id, originatorVersion: 0, label: 'x', count: 0 });

        const fresh = new EventStore({
          activeRecordStrategy: s,
          sequencedItemMapper: new SequencedItemMapper({ topics: new TopicRegistry() }),
        });
        await expect(
          fresh.append(new Unregistered({ originatorId: id, originatorVersion: 0 })),
        ).rejects.toBeInstanceOf(UnknownTopicError);
        // Registered in another registry is not registered here.
        await expect(fresh.append(created)).rejects.toBeInstanceOf(UnknownTopicError);
        // A batch with one unknown event: the known one before it is not written either.
        const tallies = new EventStore({
          activeRecordStrategy: s,
          sequencedItemMapper: new SequencedItemMapper({ topics: tallyTopics }),
        });
        await expect(
          tallies.append([created, new Unregistered({ originatorId: id, originatorVersion: 1 })]),
        ).rejects.toBeInstanceOf(UnknownTopicError);
        await ctx.expectNothingWritten(s, mark, [id]);
      },
      TEST_TIMEOUT,
    );

    it(
      'an item whose topic the mapper does not know fails to decode with UnknownTopicError',
      async () => {
        const s = strategy();
        const id = newSequenceId();
        const stored = new SequencedItem(id, 0, 'es-testing.NeverRegistered', '{"timestamp":1}');
        await s.append(stored);
        const eventStore = new EventStore({
          activeRecordStrategy: s,
          sequencedItemMapper: new SequencedItemMapper({ topics: tallyTopics }),
        });
        await expect(eventStore.getDomainEvents(id)).rejects.toBeInstanceOf(UnknownTopicError);
        await expect(eventStore.getDomainEvent(id, 0)).rejects.toBeInstanceOf(UnknownTopicError);
        expect(await s.getItems(id)).toStrictEqual([stored]);
      },
      TEST_TIMEOUT,
    );

    it(
      "stores and rebuilds an entity: the seed's usage, with get(id, { version })",
      async () => {
        const app = tallyApplication(strategy());
        try {
          const repository = app.repository();
          const tally = Tally.start('first');
          expect(await repository.has(tally.id)).toBe(true);
          tally.label = 'second';
          tally.count = 3;

          const loaded = await repository.get(tally.id);
          expect({ label: loaded.label, count: loaded.count, version: loaded.version }).toEqual({
            label: 'second',
            count: 3,
            version: 3,
          });
          expect(loaded.createdOn?.getTime()).toBe(tally.createdOn?.getTime());
          expect(loaded.lastModifiedOn?.getTime()).toBe(tally.lastModifiedOn?.getTime());

          const v1 = await repository.get(tally.id, { version: 1 });
          expect({ label: v1.label, count: v1.count, version: v1.version }).toEqual({
            label: 'first',
            count: 0,
            version: 1,
          });
          const v2 = await repository.get(tally.id, { version: 2 });
          expect({ label: v2.label, count: v2.count, version: v2.version }).toEqual({
            label: 'second',
            count: 0,
            version: 2,
          });
          await expect(repository.get(tally.id, { version: 4 })).rejects.toBeInstanceOf(NotFoundError);

          const stored = await strategy().getItems(tally.id);
          expect(stored.map((i) => [i.position, i.topic])).toEqual([
            [0, 'es-testing.Tally.Created'],
            [1, 'es-testing.Tally.AttributeChanged'],
            [2, 'es-testing.Tally.AttributeChanged'],
          ]);

          tally.discard();
          expect(await repository.has(tally.id)).toBe(false);
          await expect(repository.get(tally.id)).rejects.toBeInstanceOf(NotFoundError);
          await expect(repository.get(newSequenceId())).rejects.toBeInstanceOf(NotFoundError);
        } finally {
          await app.close();
        }
      },
      TEST_TIMEOUT,
    );

    it(
      'a change made to a stale copy conflicts (ConcurrencyError) and is not stored',
      async () => {
        const app = tallyApplication(strategy());
        try {
          const repository = app.repository();
          const tally = Tally.start('original');
          const stale = await repository.get(tally.id);
          tally.label = 'winner';
          await app.eventStore.flush(tally.id);
          stale.label = 'loser'; // the same version as 'winner': the store refuses it
          await expect(app.eventStore.flush(tally.id)).rejects.toBeInstanceOf(ConcurrencyError);
          const loaded = await repository.get(tally.id);
          expect({ label: loaded.label, version: loaded.version }).toEqual({ label: 'winner', version: 2 });
        } finally {
          await app.close();
        }
      },
      TEST_TIMEOUT,
    );
  });

  describe('snapshots (a second strategy from createStrategy as the snapshot store)', () => {
    // Snapshots sit at entity versions with gaps between them (10, 13, ...), which a timestamp store
    // accepts on every backend (an integer store may insist on contiguous positions from 0).
    const snapshotStore = ctx.useStrategy({ positionKind: 'timestamp', sequenceIdKind: 'uuid' });

    it(
      'createStrategy returns stores independent of each other',
      async () => {
        const id = newSequenceId();
        await strategy().append(item(id, 0, '{"in":"main"}'));
        expect(await snapshotStore().getItems(id)).toEqual([]);
        await snapshotStore().append(item(id, 0, '{"in":"snapshots"}'));
        expect((await strategy().getItems(id)).map((i) => i.data)).toEqual(['{"in":"main"}']);
      },
      TEST_TIMEOUT,
    );

    it(
      'the repository replays only the events after the latest snapshot',
      async () => {
        const app = tallyApplication(strategy(), snapshotStore());
        try {
          const repository = app.repository();
          const tally = Tally.start('snap');
          for (let i = 1; i <= 9; i++) tally.count = i; // version 10
          await repository.takeSnapshot(tally.id);
          const [snapshot, ...more] = await snapshotStore().getItems(tally.id);
          expect(more).toEqual([]);
          expect({ position: snapshot?.position, topic: snapshot?.topic }).toEqual({
            position: 10,
            topic: 'es.Snapshot',
          });

          for (let i = 10; i <= 12; i++) tally.count = i; // version 13
          app.replayed();
          const loaded = await repository.get(tally.id);
          expect(app.replayed()).toBe(3);
          expect({ label: loaded.label, count: loaded.count, version: loaded.version }).toEqual({
            label: 'snap',
            count: 12,
            version: 13,
          });
          expect(loaded.createdOn?.getTime()).toBe(tally.createdOn?.getTime());

          // At a version: the newest snapshot at or below it, then the events up to it.
          expect((await repository.get(tally.id, { version: 12 })).count).toBe(11);
          expect(app.replayed()).toBe(2);
          expect((await repository.get(tally.id, { version: 10 })).count).toBe(9);
          expect(app.replayed()).toBe(0);
          expect((await repository.get(tally.id, { version: 5 })).count).toBe(4);
          expect(app.replayed()).toBe(5);
        } finally {
          await app.close();
        }
      },
      TEST_TIMEOUT,
    );

    it(
      'with snapshotPeriod, a load that replays that many events takes a snapshot',
      async () => {
        const app = tallyApplication(strategy(), snapshotStore());
        try {
          const repository = app.repository({ snapshotPeriod: 3 });
          const tally = Tally.start('periodic');
          for (let i = 1; i <= 5; i++) tally.count = i; // version 6
          expect((await repository.get(tally.id)).version).toBe(6);
          expect(app.replayed()).toBe(6);
          expectPositions(await snapshotStore().getItems(tally.id), [6]);

          expect((await repository.get(tally.id)).count).toBe(5);
          expect(app.replayed()).toBe(0);

          tally.count = 6;
          tally.count = 7; // version 8: two events past the snapshot, fewer than the period
          expect((await repository.get(tally.id)).count).toBe(7);
          expect(app.replayed()).toBe(2);
          expectPositions(await snapshotStore().getItems(tally.id), [6]);

          tally.count = 8; // version 9: three past it
          expect((await repository.get(tally.id)).count).toBe(8);
          expect(app.replayed()).toBe(3);
          expectPositions(await snapshotStore().getItems(tally.id), [6, 9]);
        } finally {
          await app.close();
        }
      },
      TEST_TIMEOUT,
    );
  });
}
