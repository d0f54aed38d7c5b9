import {
  DomainEvent,
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
