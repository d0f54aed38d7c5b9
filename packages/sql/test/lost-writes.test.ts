/**
 * Issue 10, defect 1 on SQL: integer sequences are contiguous, checked in the append's own statement,
 * so an entity whose setter write was lost (the store unreachable) cannot then append a version that
 * builds on it: the append is a ConcurrencyError and the entity still loads.
 */
import { randomUUID } from 'node:crypto';
import { ConcurrencyError, SequencedItem, StoreConnectionError } from '@es/core';
import { type Example, ExampleApplication } from '@es/example';
import {
  LockTimeoutError,
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
} from '../src/index.js';
import { describeEachDialect, uniqueName, useDatastore } from './dialects.js';
import { faults, faultyClient, userClient } from './faults.js';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describeEachDialect('a writer after a lost write', (dialect) => {
  const table = SqlIntegerSequencedItem.withTableName(uniqueName('lost'));
  const direct = useDatastore(dialect, [table]);

  it('an append that would leave a gap is refused in the statement itself, and writes nothing', async () => {
    const store = new SqlActiveRecordStrategy({ datastore: direct(), table });
    const id = randomUUID();
    const item = (p: number) => new SequencedItem(id, p, 'test.Item', `{"p":${p}}`);
    expect(await rejection(store.append(item(3)))).toBeInstanceOf(ConcurrencyError);
    await store.append(item(0));
    for (const p of [2, 5])
      expect(await rejection(store.append([item(p), item(p + 1)]))).toBeInstanceOf(ConcurrencyError);
    expect(await rejection(store.append(item(0)))).toBeInstanceOf(ConcurrencyError);
    await store.append([item(1), item(2)]);
    expect((await store.getItems(id)).map((i) => i.position)).toEqual([0, 1, 2]);
  });

  it('a setter after a lost setter write is refused, and the entity still loads', async () => {
    const own = userClient(dialect);
    const faulty = faultyClient(own.client);
    const datastore = await SqlDatastore.open({ client: faulty.client, tables: [table] });
    const app = new ExampleApplication({
      activeRecordStrategy: new SqlActiveRecordStrategy({ datastore, table }),
    });
    try {
      const entity: Example = app.createExample('a');
      expect((await app.exampleRepository.get(entity.id)).foo).toBe('a');
      // The store is unreachable for the next write: nothing reaches it.
      if (dialect.name === 'sqlite') faulty.inject(/^insert into/, faults('sqlite').busy);
      else faulty.injectConnect(faults(dialect.name).refused);
      entity.foo = 'b';
      expect(await rejection(app.exampleRepository.get(entity.id))).toBeInstanceOf(
        dialect.name === 'sqlite' ? LockTimeoutError : StoreConnectionError,
      );
      entity.foo = 'c'; // would build on the lost version
      expect(await rejection(app.exampleRepository.get(entity.id))).toBeInstanceOf(ConcurrencyError);
      const loaded = await app.exampleRepository.get(entity.id);
      expect([loaded.foo, loaded.version]).toEqual(['a', 1]);
      loaded.foo = 'd';
      expect((await app.exampleRepository.get(entity.id)).foo).toBe('d');
    } finally {
      await app.close().catch(() => {});
      await datastore.close();
      await own.end();
    }
  });
});
