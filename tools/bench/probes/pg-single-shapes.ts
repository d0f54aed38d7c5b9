/**
 * PostgreSQL single-event appends, split into client CPU, server CPU and wall time, the candidates taking
 * turns in one process (the order turns each round) so that a busy machine weighs on all alike. Not a
 * test, not part of `pnpm bench`.
 *
 *     cd tools/bench && npx tsx probes/pg-single-shapes.ts shapes [rounds] [appends]
 *     cd tools/bench && npx tsx probes/pg-single-shapes.ts paths [rounds] [appends] [variant ...]
 *
 * `shapes`: statement shapes through ONE pg.Client (one server backend), each append to a new stream at
 * position 0 as the bench's single scenario does: the library's statement as src/postgres.ts makes it
 * (the table's advisory xact lock in a CTE, rows from `unnest(...) with ordinality`, the contiguity
 * check), the same for one event with plain parameters, with and without the lock or the check, named
 * or not, under each plan_cache_mode, and the raw adapter's INSERT ... VALUES.
 *
 * `paths`: whole appends as the bench makes them: the raw adapter (src/adapters/raw-postgres.ts), Emmett
 * (src/adapters/emmett-postgres.ts), the workspace's @es (`es`, EventStore.append over
 * SqlActiveRecordStrategy, as src/adapters/library-sql.ts) and built variants of @es (make-variant.sh),
 * with the number of pg `Client.query` calls (round trips) per append.
 *
 * Server CPU is the run time of the backends (/proc/<pid>/schedstat) of the probe's own database
 * (ES_POSTGRES_URL, default the table's server (@es/servers) with database pgsingle: `createdb pgsingle` first, so
 * that no other run's backends are counted), less the backend that reads it. Client CPU is
 * process.cpuUsage. Figures are µs per append: median (min) of the rounds.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Duplex } from 'node:stream';
import pg from 'pg';
import { serverUrl } from '@es/servers';
import type { BenchAdapter, EventSpec } from '../src/adapter.js';
import { variantEntity } from './variant-parts.js';

// Unless ES_POSTGRES_URL says otherwise, the table's server with the probe's own database (see above).
const url = process.env.ES_POSTGRES_URL?.trim()
  ? serverUrl('postgres')
  : serverUrl('postgres').replace(/\/[^/?#]*$/, '/pgsingle');
const mode = process.argv[2] ?? 'shapes';
const rounds = Number(process.argv[3] ?? 9);
const n = Number(process.argv[4] ?? 300);
const variants = process.argv.slice(5);
/** `paths`: which of raw, emmett and es to run besides the variants (all three by default). */
const only = (process.env.ONLY ?? 'raw,emmett,es').split(',');

// Round trips: every query a pg.Client sends, whoever sends it.
let queries = 0;
const clientQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  queries++;
  return (clientQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof clientQuery;

const monitor = new pg.Client({ connectionString: url });
await monitor.connect();
const monitorPid = (await monitor.query('select pg_backend_pid() as pid')).rows[0].pid as number;
const database = (await monitor.query('select current_database() as d')).rows[0].d as string;
queries = 0;
/** The run time in ns of each backend of the probe's database but the monitor's. */
async function backendNs(): Promise<Map<number, number>> {
  // The unwrapped query: the monitor's own queries are not the candidates' round trips.
  const { rows } = await (clientQuery as (text: string, values: unknown[]) => Promise<pg.QueryResult>).call(
    monitor,
    'select pid from pg_stat_activity where datname = $1 and pid <> $2',
    [database, monitorPid],
  );
  const ns = new Map<number, number>();
  for (const { pid } of rows as { pid: number }[]) {
    try {
      ns.set(pid, Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      // A backend that ended since.
    }
  }
  return ns;
}
/** The backends' run time since `before` (a backend that ended meanwhile is left out; a new one counts whole). */
async function serverNsSince(before: Map<number, number>): Promise<number> {
  let ns = 0;
  for (const [pid, t] of await backendNs()) ns += t - (before.get(pid) ?? 0);
  return ns;
}

interface Candidate {
  /** Appends `count` events, each to a new stream, one at a time. */
  run(count: number): Promise<void>;
  /** Set-up before each measured block (e.g. a SET), off the clock. */
  before?(): Promise<void>;
}
interface Figures {
  wall: number[];
  client: number[];
  server: number[];
  trips: number[];
  /** CPU of the process's other threads (V8's helpers, libuv's pool, tsx's loader), part of `client`. */
  threads: number[];
}
/** The main thread's CPU in ns (/proc/self/task/<pid>/schedstat). */
const mainThreadNs = () =>
  Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);

async function measure(candidates: Map<string, Candidate>): Promise<void> {
  const names = [...candidates.keys()];
  const results = new Map<string, Figures>(
    names.map((name) => [name, { wall: [], client: [], server: [], trips: [], threads: [] }]),
  );
  for (const candidate of candidates.values()) {
    await candidate.before?.();
    await candidate.run(50);
  }
  for (let r = 0; r < rounds; r++) {
    const order = [...names];
    for (let k = 0; k < r % order.length; k++) order.push(order.shift()!);
    for (const name of order) {
      const candidate = candidates.get(name)!;
      await candidate.before?.();
      const s0 = await backendNs();
      queries = 0;
      const m0 = mainThreadNs();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await candidate.run(n);
      const wall = performance.now() - t0;
      const c = process.cpuUsage(c0);
      const main = (mainThreadNs() - m0) / 1000;
      const trips = queries;
      const server = await serverNsSince(s0);
      const f = results.get(name)!;
      f.wall.push((wall * 1000) / n);
      f.client.push((c.user + c.system) / n);
      f.server.push(server / 1000 / n);
      f.trips.push(trips / n);
      f.threads.push((c.user + c.system - main) / n);
    }
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const fmt = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return `${s[s.length >> 1]!.toFixed(0)} (${s[0]!.toFixed(0)})`.padStart(12);
  };
  console.log(`${mode}: µs per append, median (min) of ${rounds} interleaved rounds of ${n}; load ${load}`);
  console.log(
    `${''.padEnd(34)}${'wall'.padStart(12)}${'client CPU'.padStart(12)}${'server CPU'.padStart(12)}${'threads'.padStart(12)}  trips`,
  );
  for (const [name, f] of results)
    console.log(
      `${name.padEnd(34)}${fmt(f.wall)}${fmt(f.client)}${fmt(f.server)}${fmt(f.threads)}  ${(f.trips.reduce((a, b) => a + b, 0) / f.trips.length).toFixed(2)}`,
    );
}

async function shapes(): Promise<void> {
  const T = 'pg_probe_shapes';
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`drop table if exists ${T}`);
  await client.query(`create table ${T} (
    id bigint not null generated always as identity unique,
    sequence_id text collate "C" not null,
    position bigint not null,
    topic text not null,
    data text not null,
    primary key (sequence_id, position))`);
  const lock = `pg_advisory_xact_lock(${0x4553}, 12345)`;
  const insert = `insert into ${T} (sequence_id, position, topic, data)`;
  const check = (p: string) =>
    ` where (select coalesce(max(position), -1) from ${T} where sequence_id = $1) = ${p} - 1`;
  const rows = `unnest($2::bigint[], $3::text[], $4::text[]) with ordinality as i (position, topic, data, n)`;
  // The library's statement as src/postgres.ts builds it for a table with a log.
  const library = `with ordering as (select ${lock}) ${insert} select $1, i.position, i.topic, i.data from ordering, ${rows}${check('$2[1]')} order by i.n`;
  const single = `with ordering as (select ${lock}) ${insert} select $1, $2::bigint, $3::text, $4::text from ordering${check('$2::bigint')}`;
  const singleNoLock = `${insert} select $1, $2::bigint, $3::text, $4::text${check('$2::bigint')}`;
  const singleNoCheck = `with ordering as (select ${lock}) ${insert} select $1, $2::bigint, $3::text, $4::text from ordering`;
  // The lock in a scalar subquery of a VALUES row: evaluated once, before the row is inserted.
  const valuesLock = `${insert} select $1, $2::bigint, $3::text, $4::text where (select ${lock}) is not null and (select coalesce(max(position), -1) from ${T} where sequence_id = $1) = $2::bigint - 1`;
  const raw = `INSERT INTO ${T} (sequence_id, position, topic, data) VALUES ($1, $2, $3, $4)`;
  const arrays = (s: string, d: string) => [s, [0], ['t'], [d]];
  const plain = (s: string, d: string) => [s, 0, 't', d];
  const data = () => `{"value":"${randomUUID()}"}`;
  let names = 0;
  const shape = (
    text: string,
    values: (s: string, d: string) => unknown[],
    opts: { named?: boolean; planCache?: string } = {},
  ): Candidate => {
    const name = opts.named === false ? undefined : `probe_${names++}`;
    const planCache = opts.planCache ?? 'auto';
    return {
      before: async () => {
        await client.query(`set plan_cache_mode = ${planCache}`);
      },
      async run(count) {
        for (let i = 0; i < count; i++) {
          const result = await client.query({ name, text, values: values(randomUUID(), data()) });
          if (result.rowCount !== 1) throw new Error(`${text}: ${result.rowCount} rows`);
        }
      },
    };
  };
  const all = new Map([
    ['library (unnest, named)', shape(library, arrays)],
    ['library, unnamed', shape(library, arrays, { named: false })],
    ['library, force_custom_plan', shape(library, arrays, { planCache: 'force_custom_plan' })],
    ['library, force_generic_plan', shape(library, arrays, { planCache: 'force_generic_plan' })],
    ['single (plain $1..$4, named)', shape(single, plain)],
    ['single, force_generic_plan', shape(single, plain, { planCache: 'force_generic_plan' })],
    ['single, lock in where', shape(valuesLock, plain)],
    ['single, no lock', shape(singleNoLock, plain)],
    ['single, no check', shape(singleNoCheck, plain)],
    ['raw (unnamed, as the adapter)', shape(raw, plain, { named: false })],
    ['raw, named', shape(raw, plain)],
  ]);
  // SHAPES=library,single,raw: only the shapes whose names start so.
  const wanted = process.env.SHAPES?.split(',');
  await measure(
    new Map([...all].filter(([name]) => wanted === undefined || wanted.some((w) => name.startsWith(w)))),
  );
  await client.query(`drop table ${T}`);
  await client.end();
}

/**
 * Adds @es's candidates to `candidates`: the workspace's sources (when ONLY has `es`), then each variant's
 * build, each appending one new entity's Created event a time through an EventStore over the datastore
 * `open` gives for its table.
 */
async function addEsCandidates(
  candidates: Map<string, Candidate>,
  open: (sqlp: any, table: any) => Promise<unknown>,
): Promise<void> {
  const es = async (name: string, core: any, sqlp: any): Promise<Candidate> => {
    const table = sqlp.SqlIntegerSequencedItem.withTableName(`pg_probe_${name}`);
    const datastore = await open(sqlp, table);
    const events = new sqlp.SqlActiveRecordStrategy({ datastore, table });
    const store = new core.EventStore({
      activeRecordStrategy: events,
      sequencedItemMapper: new core.SequencedItemMapper(),
    });
    const E = variantEntity(core, `probe.${name}`);
    return {
      async run(count) {
        for (let i = 0; i < count; i++)
          await store.append([
            new E.Created({ originatorId: randomUUID(), originatorVersion: 0, value: randomUUID() }),
          ]);
      },
    };
  };
  if (only.includes('es'))
    candidates.set(
      'es (workspace sources)',
      await es('es', await import('@es/core'), await import('@es/sql')),
    );
  for (const name of variants) {
    const root = new URL(`./variants/${name}/node_modules/@es/`, import.meta.url).pathname;
    // `any`: a variant is a build imported by path at run time, not the workspace's typed sources.
    const core: any = await import(`${root}core/dist/index.js`);
    const sqlp: any = await import(`${root}sql/dist/index.js`);
    candidates.set(name, await es(name, core, sqlp));
  }
}

async function paths(): Promise<void> {
  const candidates = new Map<string, Candidate>();
  const closers: (() => Promise<void>)[] = [];
  const adapterCandidate = async (a: BenchAdapter<unknown>): Promise<Candidate> => {
    await a.open();
    closers.push(() => a.close());
    const spec: EventSpec = { created: true, value: 'x' };
    return {
      async run(count) {
        for (let i = 0; i < count; i++) {
          const events = a.prepare([{ ...spec, value: randomUUID() }]);
          if (!(await a.append(randomUUID(), 0, events))) throw new Error('conflict');
        }
      },
    };
  };
  if (only.includes('raw'))
    candidates.set(
      'raw',
      await adapterCandidate((await import('../src/adapters/raw-postgres.js')).rawPostgres(url)),
    );
  if (only.includes('emmett'))
    candidates.set(
      'emmett',
      await adapterCandidate((await import('../src/adapters/emmett-postgres.js')).emmettPostgres(url)),
    );
  await addEsCandidates(candidates, async (sqlp, table) => {
    const datastore = new sqlp.SqlDatastore({ settings: new sqlp.SqlSettings({ url }), tables: [table] });
    await datastore.setupConnection();
    await datastore.dropTables();
    await datastore.setupTables();
    closers.push(() => datastore.close());
    return datastore;
  });
  await measure(candidates);
  for (const close of closers) await close();
}

/**
 * A PostgreSQL server in process for `client`: it answers every message at once (a statement inserts
 * one row and returns none), so that only the client's CPU is measured: the library's or raw's code,
 * pg's serialisation of the statement and its parsing of the answer, without a socket or a server.
 */
class FakeServer extends Duplex {
  private pending: Buffer = Buffer.alloc(0);
  private started = false;
  setNoDelay(): void {}
  setKeepAlive(): void {}
  ref(): void {}
  unref(): void {}
  connect(): this {
    process.nextTick(() => this.emit('connect'));
    return this;
  }
  override _read(): void {}
  override _write(chunk: Buffer, _: BufferEncoding, done: () => void): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    const message = (type: string, body: Buffer = Buffer.alloc(0)) => {
      const head = Buffer.alloc(5);
      head.write(type, 0, 'latin1');
      head.writeInt32BE(body.length + 4, 1);
      out.push(head, body);
    };
    const ready = () => message('Z', Buffer.from('I'));
    for (;;) {
      if (!this.started) {
        if (this.pending.length < 4) break;
        const length = this.pending.readInt32BE(0);
        if (this.pending.length < length) break;
        this.pending = this.pending.subarray(length);
        this.started = true;
        message('R', Buffer.alloc(4)); // AuthenticationOk
        ready();
        continue;
      }
      if (this.pending.length < 5) break;
      const type = String.fromCharCode(this.pending[0]!);
      const length = this.pending.readInt32BE(1);
      if (this.pending.length < length + 1) break;
      this.pending = this.pending.subarray(length + 1);
      if (type === 'P') message('1');
      else if (type === 'B') message('2');
      else if (type === 'D') message('n');
      else if (type === 'E') message('C', Buffer.from('INSERT 0 1\0'));
      else if (type === 'S') ready();
      else if (type === 'Q') {
        message('C', Buffer.from('SELECT 0\0'));
        ready();
      } else if (type === 'X') {
        this.push(null);
        break;
      }
    }
    if (out.length > 0) {
      const answer = Buffer.concat(out);
      process.nextTick(() => this.push(answer));
    }
    done();
  }
}

/** `client`: client CPU alone, against FakeServer; raw as src/adapters/raw-postgres.ts appends. */
async function clientOnly(): Promise<void> {
  const candidates = new Map<string, Candidate>();
  const closers: (() => Promise<void>)[] = [];
  const fakePool = () => new pg.Pool({ stream: () => new FakeServer(), max: 10 } as pg.PoolConfig);
  {
    const pool = fakePool();
    closers.push(() => pool.end());
    const text =
      'INSERT INTO es_bench_raw_events (sequence_id, position, topic, data) VALUES ($1, $2, $3, $4)';
    candidates.set('raw', {
      async run(count) {
        for (let i = 0; i < count; i++) {
          const data = `{"value":"${randomUUID()}"}`;
          const client = await pool.connect();
          try {
            await client.query(text, [randomUUID(), 0, 'bench.Created', data]);
          } finally {
            client.release();
          }
        }
      },
    });
  }
  await addEsCandidates(candidates, async (sqlp, table) => {
    const pool = fakePool();
    const datastore = new sqlp.SqlDatastore({ client: { dialect: 'postgres', pool }, tables: [table] });
    closers.push(async () => {
      await datastore.close();
      await pool.end();
    });
    return datastore;
  });
  await measure(candidates);
  for (const close of closers) await close();
}

if (mode === 'shapes') await shapes();
else if (mode === 'client') await clientOnly();
else await paths();
await monitor.end();
