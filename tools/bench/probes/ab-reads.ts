/**
 * Two builds of @es/core + @es/sql in ONE process, their rounds interleaved (each goes first in every
 * other round), so that a busy machine weighs on both alike: CPU µs per call of the layers of a SQLite
 * read, from the raw statement up to a repository's load from a snapshot, minimum and median of the
 * rounds. Not a test, not part of `pnpm bench`. Make the two variants first (see make-variant.sh):
 *
 *     cd tools/bench && npx tsx probes/ab-reads.ts before after [n per round] [rounds]
 *
 * An A/A run (the same build as two variants) shows the noise: at load ~10, minimums agreed within
 * ~0.3 µs for a read and ~2 µs for a load, medians by up to 6 µs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { variantEntity } from './variant-parts.js';

const names = [process.argv[2] ?? 'base', process.argv[3] ?? 'new'];
const n = Number(process.argv[4] ?? 1000);
const rounds = Number(process.argv[5] ?? 31);

async function setup(name: string) {
  const root = new URL(`./variants/${name}/node_modules/@es/`, import.meta.url).pathname;
  // `any`: a variant is a build imported by path at run time, not the workspace's typed sources.
  const core: any = await import(`${root}core/dist/index.js`);
  const sqlp: any = await import(`${root}sql/dist/index.js`);
  const { EventStore, EventSourcedRepository, SequencedItemMapper, SnapshotStrategy } = core;
  const E = variantEntity(core, `ab.${name}`);
  const EVENTS = sqlp.SqlIntegerSequencedItem.withTableName('ab_events');
  const SNAPSHOTS = sqlp.SqlSnapshot.withTableName('ab_snapshots');
  const file = join(mkdtempSync(join(tmpdir(), `ab-${name}-`)), 'l.sqlite');
  const datastore = new sqlp.SqlDatastore({
    settings: new sqlp.SqlSettings({ url: `sqlite:${file}` }),
    tables: [EVENTS, SNAPSHOTS],
  });
  await datastore.setupConnection();
  await datastore.setupTables();
  const events = new sqlp.SqlActiveRecordStrategy({ datastore, table: EVENTS });
  const snaps = new sqlp.SqlActiveRecordStrategy({ datastore, table: SNAPSHOTS });
  const mapper = new SequencedItemMapper();
  const eventStore = new EventStore({ activeRecordStrategy: events, sequencedItemMapper: mapper });
  const snapshotStore = new EventStore({ activeRecordStrategy: snaps, sequencedItemMapper: mapper });
  const repo = new EventSourcedRepository({
    eventStore,
    entity: E,
    snapshotStrategy: new SnapshotStrategy({ snapshotStore }),
  });
  const stream = randomUUID();
  for (let v = 0; v < 1000; v += 100)
    await eventStore.append(
      Array.from({ length: 100 }, (_, i) =>
        v + i === 0
          ? new E.Created({ originatorId: stream, originatorVersion: 0, value: 'x' })
          : new E.AttributeChanged({
              originatorId: stream,
              originatorVersion: v + i,
              name: 'value',
              value: `v${i}:${randomUUID()}`,
            }),
      ),
    );
  await repo.takeSnapshot(stream);
  const plain = randomUUID();
  await eventStore.append(
    Array.from({ length: 10 }, (_, i) =>
      i === 0
        ? new E.Created({ originatorId: plain, originatorVersion: 0, value: 'x' })
        : new E.AttributeChanged({
            originatorId: plain,
            originatorVersion: i,
            name: 'value',
            value: `v${i}`,
          }),
    ),
  );
  const plainRepo = new EventSourcedRepository({ eventStore, entity: E });
  const conn = await datastore.connection();
  const rawSnap = conn.database
    .prepare(
      'select "position", "topic", "data" from "ab_snapshots" where "sequence_id" = ? order by "position" desc limit cast(? as integer)',
    )
    .raw(true);
  const rawEvents = conn.database
    .prepare(
      'select "position", "topic", "data" from "ab_events" where "sequence_id" = ? and "position" >= ? order by "position" asc limit cast(? as integer)',
    )
    .raw(true);
  const tests: [string, () => unknown][] = [
    ['raw snapshot stmt', () => rawSnap.all(stream, 1)],
    ['raw events stmt (0 rows)', () => rawEvents.all(stream, 1000, 1000)],
    ['snaps.getItems desc 1', () => snaps.getItems(stream, { descending: true, limit: 1 })],
    ['snapshotStore.getMostRecentEvent', () => snapshotStore.getMostRecentEvent(stream)],
    ['events.getItems gte (0 rows)', () => events.getItems(stream, { gte: 1000 })],
    [
      'iterateDomainEventPages (0 rows)',
      async () => {
        for await (const p of eventStore.iterateDomainEventPages(stream, { gte: 1000 })) void p;
      },
    ],
    ['repo.get from snapshot', () => repo.get(stream)],
    ['repo.get 10 events', () => plainRepo.get(plain)],
  ];
  return { tests, close: () => datastore.close() };
}

const variants = [];
for (const name of names) variants.push(await setup(name));
const results = names.map(() => new Map<string, number[]>());
for (let r = 0; r < rounds; r++) {
  // ABBA: each variant goes first in half the rounds.
  for (const v of r % 2 === 0 ? variants.keys() : [...variants.keys()].reverse()) {
    for (const [name, f] of variants[v]!.tests) {
      for (let i = 0; i < n / 10; i++) await f();
      const c0 = process.cpuUsage();
      for (let i = 0; i < n; i++) await f();
      const c = process.cpuUsage(c0);
      const m = results[v]!;
      (m.get(name) ?? m.set(name, []).get(name)!).push((c.user + c.system) / n);
    }
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const min = (xs: number[]) => Math.min(...xs);
console.log(
  `${('cpu µs per call, ' + rounds + ' interleaved rounds').padEnd(36)} ${names.map((x) => ` ${x} min`.padStart(12) + ` ${x} med`.padStart(12)).join(' ')}`,
);
for (const [name] of variants[0]!.tests)
  console.log(
    `${name.padEnd(36)} ${results.map((m) => min(m.get(name)!).toFixed(2).padStart(12) + median(m.get(name)!).toFixed(2).padStart(12)).join(' ')}`,
  );
for (const v of variants) await v.close();
