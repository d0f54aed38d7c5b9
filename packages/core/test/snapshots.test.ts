import {
  DomainEvent,
  NotSupportedError,
  SequencedItem,
  ValidationError,
  readsSnapshotsWith,
  EventSourcedRepository,
  EventStore,
  InMemoryActiveRecordStrategy,
  PersistencePolicy,
  type Snapshot,
  SequencedItemMapper,
  SnapshotStrategy,
} from '../src/index.js';
import { Note, createNote, notePublisher } from './fixtures.js';

describe('snapshots of unversioned entities', () => {
  it("each snapshot sits at the entity's last event time, so a later snapshot replaces an earlier one", async () => {
    const strategy = new InMemoryActiveRecordStrategy({ positionKind: 'timestamp' });
    const mapper = new SequencedItemMapper({ positionAttrName: 'timestamp' });
    const eventStore = new EventStore({ activeRecordStrategy: strategy, sequencedItemMapper: mapper });
    const snapshotStore = new EventStore<Snapshot>({
      activeRecordStrategy: new InMemoryActiveRecordStrategy({ positionKind: 'timestamp' }),
      sequencedItemMapper: new SequencedItemMapper(),
    });
    const snapshotStrategy = new SnapshotStrategy({ snapshotStore });
    const policy = new PersistencePolicy(eventStore, { eventType: DomainEvent, publisher: notePublisher });
    const repository = new EventSourcedRepository<Note>({
      eventStore,
      mutator: Note.mutate,
      snapshotStrategy,
    });
    try {
      const note = createNote('one');
      await repository.takeSnapshot(note.id);
      note.text = 'two';
      await repository.takeSnapshot(note.id);
      note.text = 'three';
      const snapshot = await snapshotStrategy.getSnapshot(note.id);
      expect((snapshot!.state.attributes as { text: string }).text).toBe('two');
      expect((await repository.get(note.id)).text).toBe('three');
    } finally {
      await policy.close();
    }
  });
});

describe('the newest snapshot and the events after it, read together (SnapshotTailRecorder)', () => {
  const id = '6f1c1d8e-6b1a-4d8e-9a63-0d4f1c2b3a40';
  async function stores() {
    const events = new InMemoryActiveRecordStrategy();
    const snapshots = new InMemoryActiveRecordStrategy({ contiguous: false });
    await events.append(Array.from({ length: 10 }, (_, p) => new SequencedItem(id, p, 't.E', `{"p":${p}}`)));
    await snapshots.append(new SequencedItem(id, 3, 'es.Snapshot', '{"at":3}'));
    await snapshots.append(new SequencedItem(id, 7, 'es.Snapshot', '{"at":7}'));
    return { events, snapshots };
  }

  it('answers as the two reads one after the other would, for every bound', async () => {
    const { events, snapshots } = await stores();
    expect(readsSnapshotsWith(events, snapshots)).toBe(true);
    for (const snapshotLte of [undefined, 0, 2, 3, 6, 7, 9, 20, 6.5]) {
      for (const eventsLt of [undefined, 0, 3, 5, 8, 10, 7.5]) {
        for (const limit of [1, 2, 100]) {
          const [snapshot] = await snapshots.getItems(id, { lte: snapshotLte, descending: true, limit: 1 });
          const after = await events.getItems(id, { gte: snapshot?.position, lt: eventsLt, limit });
          const read = await events.getSnapshotTail(snapshots, id, { snapshotLte, eventsLt, limit });
          expect([snapshotLte, eventsLt, limit, read]).toEqual([
            snapshotLte,
            eventsLt,
            limit,
            { snapshot, events: after },
          ]);
        }
      }
    }
  });

  it('refuses bad input with a ValidationError, and a pair it cannot read together with NotSupportedError', async () => {
    const { events, snapshots } = await stores();
    for (const query of [{ limit: 0 }, { limit: 1.5 }, { limit: 1, snapshotLte: Number.NaN }]) {
      await expect(events.getSnapshotTail(snapshots, id, query)).rejects.toBeInstanceOf(ValidationError);
    }
    await expect(events.getSnapshotTail(snapshots, 'not a uuid', { limit: 1 })).rejects.toBeInstanceOf(
      ValidationError,
    );
    const timestamps = new InMemoryActiveRecordStrategy({ positionKind: 'timestamp' });
    expect(readsSnapshotsWith(timestamps, snapshots)).toBe(false);
    await expect(timestamps.getSnapshotTail(snapshots, id, { limit: 1 })).rejects.toBeInstanceOf(
      NotSupportedError,
    );
  });

  it('SnapshotStrategy.readsWith: whether an event store reads its snapshots with the events', () => {
    const mapper = new SequencedItemMapper();
    const snapshotStore = new EventStore<Snapshot>({
      activeRecordStrategy: new InMemoryActiveRecordStrategy({ contiguous: false }),
      sequencedItemMapper: mapper,
    });
    const strategy = new SnapshotStrategy({ snapshotStore });
    const over = (activeRecordStrategy: InMemoryActiveRecordStrategy) =>
      new EventStore({ activeRecordStrategy, sequencedItemMapper: mapper });
    expect(strategy.readsWith(over(new InMemoryActiveRecordStrategy()))).toBe(true);
    // Unversioned entities' events follow their last one's timestamp: read after the snapshot.
    expect(strategy.readsWith(over(new InMemoryActiveRecordStrategy({ positionKind: 'timestamp' })))).toBe(
      false,
    );
  });
});
