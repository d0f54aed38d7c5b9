/**
 * When does a read ahead's next statement leave the process? @es/sql's `iteratePages` over a
 * 10,000-item sequence in pages of 5,000, each page held for 20 ms of synchronous work (as decoding it
 * is): the times at which each statement is sent (mysql2's `execute`, pg's `query`, hooked) and each
 * page is handed over, twice. The next page's statement is sent only after the caller's work on the
 * page ("busy done" then "execute sent"): the pools hand a connection over on a later tick. With
 * commit ef20316 (`readsStartLater`, not merged: docs/benchmarks.md, Round 2h: reads) it is sent before
 * the page is handed over. Not a test, not part of `pnpm bench`.
 *
 *     cd tools/bench && ES_MYSQL_URL=mysql://root@127.0.0.1:3306/<db> npx tsx probes/read-ahead-timeline.ts
 *     cd tools/bench && ES_MYSQL_URL=postgres://postgres@127.0.0.1:5432/<db> npx tsx probes/read-ahead-timeline.ts
 *
 * ES_MYSQL_URL unset: the table's MariaDB (@es/servers); a postgres:// URL in it runs the same on PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { SequencedItem } from '@es/core';
import { serverUrl } from '@es/servers';
import { SqlActiveRecordStrategy, SqlDatastore, SqlIntegerSequencedItem, SqlSettings } from '@es/sql';
import mysqlCallbacks from 'mysql2';
const url = serverUrl('mysql');
const t0 = performance.now();
const log: string[] = [];
const at = (s: string) => log.push(`${(performance.now() - t0).toFixed(1)} ${s}`);
// `any`: the drivers' classes, patched to log each statement as it is sent.
const proto = url.startsWith('mysql')
  ? (mysqlCallbacks as any).Connection.prototype
  : ((await import('pg')) as any).default.Client.prototype;
const method = url.startsWith('mysql') ? 'execute' : 'query';
const original = proto[method];
proto[method] = function (...args: any[]) {
  at('execute sent');
  return original.apply(this, args);
};
const table = SqlIntegerSequencedItem.withTableName('es_overlap');
const datastore = new SqlDatastore({ settings: new SqlSettings({ url }), tables: [table] });
await datastore.setupConnection();
await datastore.dropTables();
await datastore.setupTables();
const strategy = new SqlActiveRecordStrategy({ datastore, table });
const id = randomUUID();
for (let v = 0; v < 10000; v += 1000)
  await strategy.append(Array.from({ length: 1000 }, (_, k) => new SequencedItem(id, v + k, 't', '{"a":1}')));
log.length = 0;
for (let r = 0; r < 2; r++) {
  at('start');
  for await (const page of strategy.iteratePages(id, { pageSize: 5000 })) {
    at(`page of ${page.length}, busy 20 ms`);
    const end = performance.now() + 20;
    while (performance.now() < end);
    at('busy done');
  }
  at('end');
}
console.log(log.join('\n'));
await datastore.close();
