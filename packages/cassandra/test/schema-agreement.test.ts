import type { CqlClient } from '../src/datastore.js';
import { awaitSchemaAgreement } from '../src/datastore.js';
import { CassandraSettings, CassandraTrackingRecorder } from '../src/index.js';

/**
 * A stand-in for the driver's client on a 3-node ring: 127.0.0.2 (asked) and .3 up, .4 down with an old
 * schema version. Node .3 reports the new version after `lagging` checks; statements other than the
 * schema reads succeed.
 */
function ringClient(lagging: number) {
  const calls = { checks: 0, asked: new Set<string>(), statements: [] as string[] };
  const row = (fields: Record<string, string>) => ({ get: (name: string) => fields[name] });
  const host = (address: string, up: boolean) => ({ address: `${address}:9042`, isUp: () => up });
  const hosts = [host('127.0.0.2', true), host('127.0.0.3', true), host('127.0.0.4', false)];
  const client = {
    hosts: { values: () => hosts },
    execute: async (cql: string, _params: unknown[], options: { host?: { address: string } } = {}) => {
      if (cql.includes('FROM system.local')) {
        calls.checks++;
        calls.asked.add(options.host?.address ?? 'any');
        return { rows: [], first: () => row({ schema_version: 'new' }) };
      }
      if (cql.includes('FROM system.peers')) {
        const peers = [
          row({
            peer: '127.0.0.3',
            rpc_address: '127.0.0.3',
            schema_version: calls.checks > lagging ? 'new' : 'old',
          }),
          row({ peer: '127.0.0.4', rpc_address: '127.0.0.4', schema_version: 'old' }),
        ];
        return { rows: peers, first: () => peers[0] };
      }
      calls.statements.push(cql);
      return { rows: [], first: () => undefined };
    },
    batch: async () => ({}),
  };
  return { client: client as unknown as CqlClient, calls };
}

describe('waiting for the nodes to agree on the schema after creating tables', () => {
  it('asks one node that is up again until the nodes that are up report one version; a node down does not hold it', async () => {
    const { client, calls } = ringClient(2);
    const started = Date.now();
    await awaitSchemaAgreement(client);
    expect(calls.checks).toBe(3);
    expect([...calls.asked]).toEqual(['127.0.0.2:9042']);
    expect(Date.now() - started).toBeLessThan(20_000); // not the 30 s limit: .4's old version is not counted
  });

  it('does not wait for a client without the driver host list (a stand-in)', async () => {
    await expect(
      awaitSchemaAgreement({ execute: jest.fn(), batch: jest.fn() } as unknown as CqlClient),
    ).resolves.toBeUndefined();
  });

  it("the tracking table's setup returns only once the nodes agree (a write to a replica without the table fails)", async () => {
    const { client, calls } = ringClient(2);
    const recorder = new CassandraTrackingRecorder({
      session: { client, keyspace: 'ks', settings: new CassandraSettings({ keyspace: 'ks' }) },
    });
    await recorder.setupTable();
    expect(calls.statements).toEqual([expect.stringMatching(/^CREATE TABLE IF NOT EXISTS ks\.tracking /)]);
    expect(calls.checks).toBe(3);
  });
});
