/**
 * Issue 10, defect 5, on each SQL dialect: a valid ciphertext copied by hand into another entity's row
 * (as someone with write access to the table could) is a DataIntegrityError on read, not the other
 * entity's data.
 */
import { randomUUID } from 'node:crypto';
import {
  AesGcmCipher,
  DataIntegrityError,
  DomainEvent,
  SequencedItem,
  SequencedItemMapper,
  TopicRegistry,
} from '@es/core';
import { SqlActiveRecordStrategy, SqlIntegerSequencedItem } from '../src/index.js';
import { describeEachDialect, uniqueName, useDatastore } from './dialects.js';

describeEachDialect('encrypted data bound to its row', (dialect) => {
  const table = SqlIntegerSequencedItem.withTableName(uniqueName('cipher'));
  const direct = useDatastore(dialect, [table]);

  it('a ciphertext moved to another sequence or topic: DataIntegrityError; in place: the event', async () => {
    const topics = new TopicRegistry();
    class PinSet extends DomainEvent {}
    class NameSet extends DomainEvent {}
    topics.register('test.PinSet', PinSet).register('test.NameSet', NameSet);
    const mapper = new SequencedItemMapper({ topics, cipher: new AesGcmCipher(AesGcmCipher.createKey()) });
    const store = new SqlActiveRecordStrategy({ datastore: direct(), table });
    const alice = randomUUID();
    const mallory = randomUUID();
    await store.append(
      mapper.toSequencedItem(new PinSet({ originatorId: alice, originatorVersion: 0, pin: 1234 })),
    );
    const [stored] = await store.getItems(alice);
    expect((mapper.fromSequencedItem(stored!) as unknown as { pin: number }).pin).toBe(1234);

    // Copied into another entity's stream, and under another topic of the same entity.
    await store.append(new SequencedItem(mallory, 0, stored!.topic, stored!.data));
    await store.append(new SequencedItem(alice, 1, 'test.NameSet', stored!.data));
    const [moved] = await store.getItems(mallory);
    expect(() => mapper.fromSequencedItem(moved!)).toThrow(DataIntegrityError);
    const [, retitled] = await store.getItems(alice);
    expect(() => mapper.fromSequencedItem(retitled!)).toThrow(DataIntegrityError);
  });
});
