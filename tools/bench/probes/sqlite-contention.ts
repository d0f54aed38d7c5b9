/**
 * 8 writers contending on 10 streams on a SQLite file (the bench's scenario 4), @es against
 * better-sqlite3 alone: wall-clock events/s, CPU µs per acknowledged append, conflicts, and for the
 * library how the appends were committed. Not a test, not part of `pnpm bench`.
 *
 *     cd tools/bench && npx tsx probes/sqlite-contention.ts [raw,store,strategy,store-nogather,strategy-nogather] [appends per writer]   (ROUNDS=5)
 *
 * raw: the bench's raw adapter (one autocommitted INSERT per append; a conflict is the unique key's
 * error, then a max(position) read). store: the bench's library adapter (EventStore.append; a conflict
 * re-reads the stream's last event). strategy: SqlActiveRecordStrategy.append of ready items and a
 * one-item read on a conflict (no events, no mapper): the SQL layer and the core's record strategy.
 * `-nogather`: the same with GroupLimits.gather off. Variants alternate round by round; figures are medians.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConcurrencyError } from '@es/core';
import {
  SqlActiveRecordStrategy,
  SqlDatastore,
  SqlIntegerSequencedItem,
  SqlSettings,
  SqlSnapshot,
} from '@es/sql';
import type { BenchAdapter } from '../src/adapter.js';
import { LibraryAdapter } from '../src/adapters/library.js';
import { rawSqlite } from '../src/adapters/raw-sqlite.js';
import { CHANGED_TOPIC, CREATED_TOPIC, rawEventData } from '../src/domain.js';
import { mulberry32 } from '../src/scenarios/contention.js';

const WRITERS = 8;
const STREAMS = 10;
const variants = (process.argv[2] ?? 'raw,store,strategy').split(',');
const APPENDS = Number(process.argv[3] ?? 200);
const rounds = Number(process.env.ROUNDS ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'es-sqlite-contention-'));
/** How the library's appends of the last round were committed: alone, or in how many groups of how many. */
const commits = { alone: 0, groups: 0, grouped: 0 };

/** What a writer needs: append one event at a version (false on a conflict), and the current version. */
interface Writer {
  append(stream: string, version: number, value: string): Promise<boolean>;
  version(stream: string): Promise<number>;
}

/** The raw adapter's prepared rows and the library's specs differ: each adapter prepares its own. */
function adapterWriter<E>(adapter: BenchAdapter<E>): Writer {
  return {
    append: (stream, version, value) =>
      adapter.append(stream, version, adapter.prepare([{ created: version === 0, value }])),
    version: (stream) => adapter.streamVersion(stream, 0),
  };
}

/**
 * A datastore on its own file; `gather: false` turns off the group committer's wait for the turn's end
 * (GroupLimits.gather) on SQLite, for an A/B in one process.
 */
async function datastoreOn(name: string, gather: boolean) {
  const table = SqlIntegerSequencedItem.withTableName('es_probe_contention');
  const snapshots = SqlSnapshot.withTableName('es_probe_snapshots');
  const url = `sqlite:${join(dir, `${name}.sqlite`)}`;
  const datastore = new SqlDatastore({ settings: new SqlSettings({ url }), tables: [table, snapshots] });
  await datastore.setupConnection();
  await datastore.setupTables();
  const connection = (await datastore.connection()) as { groupLimits?: object };
  const c = connection as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const insertItems = c.insertItems!.bind(connection);
  const insertBatches = c.insertBatches!.bind(connection);
  c.insertItems = (...args) => ((commits.alone += 1), insertItems(...args));
  c.insertBatches = (...args) => (
    (commits.groups += 1),
    (commits.grouped += (args[1] as unknown[]).length),
    insertBatches(...args)
  );
  if (!gather && connection.groupLimits)
    Object.defineProperty(connection, 'groupLimits', { value: { ...connection.groupLimits, gather: false } });
  return { datastore, table, snapshots };
}

async function storeWriter(name: string, gather: boolean): Promise<Writer> {
  const { datastore, table, snapshots } = await datastoreOn(name, gather);
  const adapter = new LibraryAdapter({
    strategyDescription: name,
    open: async () => ({
      events: new SqlActiveRecordStrategy({ datastore, table }),
      snapshots: new SqlActiveRecordStrategy({ datastore, table: snapshots }),
    }),
    close: () => datastore.close(),
    serverVersion: async () => undefined,
  });
  await adapter.open();
  return adapterWriter(adapter);
}

async function strategyWriter(name: string, gather: boolean): Promise<Writer> {
  const { datastore, table } = await datastoreOn(name, gather);
  const strategy = new SqlActiveRecordStrategy({ datastore, table });
  return {
    async append(stream, version, value) {
      try {
        await strategy.append({
          sequenceId: stream,
          position: version,
          topic: version === 0 ? CREATED_TOPIC : CHANGED_TOPIC,
          data: rawEventData(version === 0, value),
        });
        return true;
      } catch (error) {
        if (ConcurrencyError.isInstance(error)) return false;
        throw error;
      }
    },
    async version(stream) {
      const [last] = await strategy.getItems(stream, { descending: true, limit: 1 });
      return last === undefined ? 0 : last.position + 1;
    },
  };
}

interface Result {
  readonly perSecond: number;
  readonly cpu: number;
  readonly conflicts: number;
  readonly commits: string;
}

async function round(writer: Writer): Promise<Result> {
  const streams = Array.from({ length: STREAMS }, () => randomUUID());
  for (const s of streams) if (!(await writer.append(s, 0, 'created'))) throw new Error('conflict');
  let conflicts = 0;
  Object.assign(commits, { alone: 0, groups: 0, grouped: 0 });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      const random = mulberry32(w + 1);
      const known = new Map(streams.map((s) => [s, 1]));
      for (let i = 0; i < APPENDS;) {
        const s = streams[Math.floor(random() * STREAMS)]!;
        const version = known.get(s)!;
        if (await writer.append(s, version, `w${w}:${i}:${randomUUID()}`)) {
          known.set(s, version + 1);
          i += 1;
        } else {
          conflicts += 1;
          known.set(s, await writer.version(s));
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return {
    perSecond: (WRITERS * APPENDS) / seconds,
    cpu: (c.user + c.system) / (WRITERS * APPENDS),
    conflicts,
    commits: `${commits.alone} alone, ${commits.grouped} in ${commits.groups} groups`,
  };
}

const writers: Record<string, Writer> = {};
for (const v of variants) {
  if (v === 'raw') {
    const a = rawSqlite(dir);
    await a.open();
    writers[v] = adapterWriter(a);
  } else if (v.startsWith('store')) writers[v] = await storeWriter(v, v !== 'store-nogather');
  else if (v.startsWith('strategy')) writers[v] = await strategyWriter(v, v !== 'strategy-nogather');
  else throw new Error(`unknown variant ${v}`);
}
const results: Record<string, Result[]> = Object.fromEntries(variants.map((v) => [v, []]));
for (let r = 0; r < rounds; r++) {
  for (const v of [...variants.slice(r % variants.length), ...variants.slice(0, r % variants.length)])
    results[v]!.push(await round(writers[v]!));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const v of variants) {
  const rs = results[v]!;
  console.log(
    `${v.padEnd(9)} events/s ${median(rs.map((x) => x.perSecond)).toFixed(0)} (${rs.map((x) => x.perSecond.toFixed(0)).join(' ')})` +
      `  cpu us/append ${median(rs.map((x) => x.cpu)).toFixed(0)}  conflicts ${median(rs.map((x) => x.conflicts))}  last round: ${rs[rs.length - 1]!.commits}`,
  );
}
