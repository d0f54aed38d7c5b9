/**
 * CPU time per event of each step between a stored item and an entity, and back: what decoding and
 * encoding cost apart from any database (see probes/memory.ts for why CPU time). Not a test, not part
 * of `pnpm bench`: run it by hand, on two checkouts for a before/after.
 *
 *     cd tools/bench && npx tsx probes/codec.ts [steps] [n]      (ROUNDS=7, n=10000 events)
 *
 * steps (comma-separated, all by default):
 *   parse     JSON.parse alone of the stored data (the raw baseline's whole decode)
 *   decode    JsonTranscoder.decode of the same data
 *   tagged    JsonTranscoder.decode of data holding a Date and a bigint (the tagged path)
 *   from      SequencedItemMapper.fromSequencedItem of unfrozen items (a SQL row's; no decoded cache)
 *   mutate    BenchEntity.mutate folding the decoded events into an entity
 *   load      from + mutate, as a repository load does per event
 *   encode    JsonTranscoder.encode of a payload
 *   to        SequencedItemMapper.toSequencedItem of BenchEntity events
 *   build     constructing the BenchEntity events that `to` encodes
 *
 * The items are those of the bench's 10,000-event stream: one Created, then AttributeChanged events
 * with `value` `v<i>:<uuid>` (see src/domain.ts). Each step runs ROUNDS rounds over all n events; the
 * minimum and median CPU µs per event are printed, with every round's figure. On a shared machine the
 * minimum is the steadier figure (other processes only ever add to a round), and `--single-threaded-gc`
 * keeps the collector's helper threads out of the count: `npx tsx --single-threaded-gc probes/codec.ts`.
 */
import { randomUUID } from 'node:crypto';
import { JsonTranscoder, SequencedItem, SequencedItemMapper, type DomainEvent } from '@es/core';
import { BenchEntity } from '../src/domain.js';

const steps = (process.argv[2] ?? 'parse,decode,tagged,from,mutate,load,encode,to,build').split(',');
const n = Number(process.argv[3] ?? 10_000);
const rounds = Number(process.env.ROUNDS ?? 15);

const stream = randomUUID();
const mapper = new SequencedItemMapper();
const transcoder = new JsonTranscoder();

function buildEvents(): DomainEvent[] {
  const events: DomainEvent[] = [];
  for (let i = 0; i < n; i++) {
    const value = `v${i}:${randomUUID()}`;
    events.push(
      i === 0
        ? new BenchEntity.Created({ originatorId: stream, originatorVersion: i, value })
        : new BenchEntity.AttributeChanged({
            originatorId: stream,
            originatorVersion: i,
            name: 'value',
            value,
          }),
    );
  }
  return events;
}

const events = buildEvents();
// Stored items as a SQL row gives them: fresh, unfrozen objects (so the mapper's cache never serves),
// holding fresh strings (whose hashes no Map lookup has computed yet).
const stored = events.map((event) => mapper.toSequencedItem(event));
const fresh = (text: string): string => Buffer.from(text).toString();
const items = (): SequencedItem[] =>
  stored.map((s) => new SequencedItem(fresh(s.sequenceId), s.position, fresh(s.topic), fresh(s.data)));
const payloads = stored.map((s) => JSON.parse(s.data) as Record<string, unknown>);
const tagged = payloads.map((p, i) =>
  transcoder.encode({ ...p, at: new Date(1_700_000_000_000 + i), amount: BigInt(i) * 10n ** 20n }),
);
const decoded = stored.map((s) => mapper.fromSequencedItem(s));
const mutate = BenchEntity.mutate;

let sink: unknown;
/** CPU µs per event of `run`, which handles all n events; `setup` (not timed) makes its input. */
function measure<T>(setup: () => T, run: (input: T) => void): number {
  const input = setup();
  const c0 = process.cpuUsage();
  run(input);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

const bodies: Record<string, () => number> = {
  parse: () =>
    measure(
      () => stored,
      (xs) => {
        for (const x of xs) sink = JSON.parse(x.data);
      },
    ),
  decode: () =>
    measure(
      () => stored,
      (xs) => {
        for (const x of xs) sink = transcoder.decode(x.data);
      },
    ),
  tagged: () =>
    measure(
      () => tagged,
      (xs) => {
        for (const x of xs) sink = transcoder.decode(x);
      },
    ),
  from: () =>
    measure(items, (xs) => {
      for (const x of xs) sink = mapper.fromSequencedItem(x);
    }),
  mutate: () =>
    measure(
      () => decoded,
      (xs) => {
        let entity: BenchEntity | undefined;
        for (const x of xs) entity = mutate(entity, x) as BenchEntity;
        sink = entity;
      },
    ),
  load: () =>
    measure(items, (xs) => {
      let entity: BenchEntity | undefined;
      for (const x of xs) entity = mutate(entity, mapper.fromSequencedItem(x)) as BenchEntity;
      sink = entity;
    }),
  encode: () =>
    measure(
      () => payloads,
      (xs) => {
        for (const x of xs) sink = transcoder.encode(x);
      },
    ),
  to: () =>
    measure(buildEvents, (xs) => {
      for (const x of xs) sink = mapper.toSequencedItem(x);
    }),
  build: () =>
    measure(
      () => undefined,
      () => (sink = buildEvents()),
    ),
};

for (const step of steps) {
  const body = bodies[step];
  if (body === undefined) throw new Error(`unknown step ${step}: one of ${Object.keys(bodies).join(',')}`);
  for (let i = 0; i < 3; i++) body(); // warm-up: optimised code, as in a long-running process
  const r: number[] = [];
  for (let round = 0; round < rounds; round++) r.push(body());
  r.sort((x, y) => x - y);
  console.log(
    step.padEnd(7),
    'cpu us/event: min',
    r[0]!.toFixed(3),
    'median',
    r[Math.floor(r.length / 2)]!.toFixed(3),
    ' rounds',
    r.map((x) => x.toFixed(3)).join(' '),
  );
}
if (sink === 42) console.log(sink);
