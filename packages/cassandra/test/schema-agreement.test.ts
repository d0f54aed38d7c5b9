import type { CqlClient } from '../src/datastore.js';
import { awaitSchemaAgreement } from '../src/datastore.js';
import { CassandraSettings, CassandraTrackingRecorder } from '../src/index.js';

/** A stand-in for the driver's client: statements succeed; schema agreement comes after `disagreements`. */
function clientAgreeingAfter(disagreements: number) {
  const calls = { checks: 0, statements: [] as string[] };
  const client = {
    execute: async (cql: string) => {
      calls.statements.push(cql);
      return { rows: [], first: () => undefined };
    },
    batch: async () => ({}),
    metadata: { checkSchemaAgreement: async () => ++calls.checks > disagreements },
  };
  return { client: client as unknown as CqlClient, calls };
}

describe('waiting for the nodes to agree on the schema after creating tables', () => {
  it('asks again until every node that is up has the same schema version', async () => {
    const { client, calls } = clientAgreeingAfter(2);
    await awaitSchemaAgreement(client);
    expect(calls.checks).toBe(3);
  });

  it('does not wait for a client without the driver metadata (a stand-in)', async () => {
    await expect(
      awaitSchemaAgreement({ execute: jest.fn(), batch: jest.fn() } as unknown as CqlClient),
    ).resolves.toBeUndefined();
  });

  it("the tracking table's setup returns only once the nodes agree (a write to a replica without the table fails)", async () => {
    const { client, calls } = clientAgreeingAfter(2);
    const recorder = new CassandraTrackingRecorder({
      session: { client, keyspace: 'ks', settings: new CassandraSettings({ keyspace: 'ks' }) },
    });
    await recorder.setupTable();
    expect(calls.statements).toEqual([expect.stringMatching(/^CREATE TABLE IF NOT EXISTS ks\.tracking /)]);
    expect(calls.checks).toBe(3);
  });
});
