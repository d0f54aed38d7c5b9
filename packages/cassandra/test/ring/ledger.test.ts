import { type AppendOutcome, type StoredItem, checkLedger } from './ledger.js';

const append = (
  kind: AppendOutcome['kind'],
  writer: number,
  first: number,
  ...data: string[]
): AppendOutcome => ({
  kind,
  writer,
  sequence: 's',
  items: data.map((d, i) => ({ position: first + i, data: d })),
  startedAt: 0,
  at: 0,
});
const store = (...data: string[]): Map<string, StoredItem[]> =>
  new Map([['s', data.map((d, position) => ({ position, data: d }))]]);

describe("the ring tests' ledger (it must be able to fail)", () => {
  it('a clean run: one winner per position, refusals not stored, unknown outcomes resolved', () => {
    const report = checkLedger(
      [
        append('ack', 1, 0, 'a', 'b'),
        append('conflict', 2, 0, 'x'),
        append('unknown', 2, 2, 'c'),
        append('unavailable', 1, 3, 'y'),
        append('unknown', 1, 3, 'z'),
      ],
      store('a', 'b', 'c'),
    );
    expect(report).toMatchObject({
      lost: [],
      doubleWinners: [],
      writtenButRefused: [],
      phantoms: [],
      gaps: [],
      unknownApplied: 1,
      unknownNotApplied: 1,
      stored: 3,
    });
    expect(report.counts).toMatchObject({ ack: 1, conflict: 1, unknown: 2, unavailable: 1 });
  });

  it.each([
    ['an acknowledged item lost', [append('ack', 1, 0, 'a', 'b')], store('a'), 'lost'],
    [
      'an acknowledged item overwritten',
      [append('ack', 1, 0, 'a'), append('unknown', 2, 0, 'x')],
      store('x'),
      'lost',
    ],
    [
      'two winners of one position',
      [append('ack', 1, 0, 'a'), append('ack', 2, 0, 'b')],
      store('a'),
      'doubleWinners',
    ],
    ['a refused append stored', [append('conflict', 1, 0, 'a')], store('a'), 'writtenButRefused'],
    ['an append half applied', [append('unknown', 1, 0, 'a', 'b')], store('a'), 'phantoms'],
    ['an item nobody wrote', [], store('q'), 'phantoms'],
  ] as const)('finds %s', (_, outcomes, stored, field) => {
    const report = checkLedger(outcomes, stored);
    expect(report[field]).toHaveLength(1);
  });

  it('finds a gap', () => {
    const report = checkLedger(
      [append('ack', 1, 0, 'a'), append('ack', 1, 2, 'c')],
      new Map([
        [
          's',
          [
            { position: 0, data: 'a' },
            { position: 2, data: 'c' },
          ],
        ],
      ]),
    );
    expect(report.gaps).toHaveLength(1);
  });
});
