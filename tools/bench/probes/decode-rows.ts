/**
 * The CPU of turning a page of rows (arrays `[position, topic, data]`, as the SQL drivers return them)
 * into events, the two ways an event store can: through a SequencedItem per row and the items array
 * (`fromSequencedItem`, main's only way), and straight from the row (`rowDecoder()`, a strategy that
 * `decodesRows`). No driver, no I/O: what the row decoder can take from a load at most. Rounds
 * interleaved, the order turning each round; CPU µs per 10,000 rows, min / median. Not a test.
 *
 *     cd tools/bench && npx tsx --single-threaded-gc probes/decode-rows.ts [rounds] [pages per round]
 */
import { randomUUID } from 'node:crypto';
import { SequencedItem, SequencedItemMapper, VersionedEntity, registerTopic } from '@es/core';

const rounds = Number(process.argv[2] ?? 31);
const perRound = Number(process.argv[3] ?? 10);
const length = 10_000;

class E extends VersionedEntity {
  static readonly Created = registerTopic('decode.Created', class extends VersionedEntity.Created {});
  static readonly AttributeChanged = registerTopic(
    'decode.Changed',
    class extends VersionedEntity.AttributeChanged {},
  );
}
registerTopic('decode.E', E);

const mapper = new SequencedItemMapper();
const id = randomUUID();
const stored = Array.from({ length }, (_, v) =>
  mapper.toSequencedItem(
    v === 0
      ? new E.Created({ originatorId: id, originatorVersion: 0, value: `v0:${randomUUID()}` })
      : new E.AttributeChanged({
          originatorId: id,
          originatorVersion: v,
          name: 'value',
          value: `v${v}:${randomUUID()}`,
        }),
  ),
);
/** Fresh rows per page, as a driver makes them (new strings for topic and data). */
const rowsOf = (): unknown[][] =>
  stored.map((item) => [item.position, item.topic.slice(0).concat(''), `${item.data} `.slice(0, -1)]);

const viaItems = (rows: unknown[][]): unknown[] => {
  const items = new Array<SequencedItem>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const [position, topic, data] = rows[i]!;
    items[i] = new SequencedItem(id, Number(position), topic as string, data as string);
  }
  const events = new Array<unknown>(items.length);
  for (let i = 0; i < items.length; i++) events[i] = mapper.fromSequencedItem(items[i]!);
  return events;
};
const decode = mapper.rowDecoder()!;
const viaRows = (rows: unknown[][]): unknown[] => {
  const events = new Array<unknown>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    events[i] = decode(id, Number(row[0]), row[1] as string, row[2] as string);
  }
  return events;
};

const ways: [string, (rows: unknown[][]) => unknown[]][] = [
  ['items', viaItems],
  ['rows', viaRows],
];
const samples = new Map<string, number[]>(ways.map(([name]) => [name, []]));
let sink = 0;
for (let round = 0; round < rounds; round++) {
  for (const [name, way] of round % 2 === 0 ? ways : [...ways].reverse()) {
    const pages = Array.from({ length: perRound }, rowsOf);
    const start = process.cpuUsage();
    for (const rows of pages) sink += way(rows).length;
    const used = process.cpuUsage(start);
    if (round > 0) samples.get(name)!.push((used.user + used.system) / perRound);
  }
}
const stat = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return `${Math.round(sorted[0]!)} / ${Math.round(sorted[sorted.length >> 1]!)}`;
};
console.log(`CPU µs per ${length} rows made events (min / median of ${rounds - 1} rounds of ${perRound})`);
for (const [name] of ways) console.log(`  ${name.padEnd(6)} ${stat(samples.get(name)!)}`);
if (sink === 0) console.log('no events decoded');
