import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { SequencedItem, ValidationError } from '@es/core';
import { MAX_SEQUENCE_ID_LENGTH } from '@es/core/backend';
import { type SuiteContext, TEST_TIMEOUT, collect, item, items, rejectionOf } from './context.js';

/** `tail` after a fresh UUID, cut or padded to `length` code units: unique, and of the length asked for. */
function freshId(tail: string, length?: number): string {
  const id = `${randomUUID()}${tail}`;
  if (length === undefined) return id;
  return id.length >= length ? id.slice(0, length) : id + 'x'.repeat(length - id.length);
}

/**
 * Stores created with `sequenceIdKind: 'string'` (sequence ids that are names, not entity ids): any
 * non-empty string of at most 255 UTF-16 code units without NUL, kept verbatim. Runs unless the
 * backend declares `sequenceIdKinds` without 'string'.
 */
export function defineStringSequenceIdTests(ctx: SuiteContext): void {
  const kinds = ctx.options.sequenceIdKinds ?? ['uuid', 'string'];
  if (!kinds.includes('string')) {
    describe('string sequence ids (not supported: sequenceIdKinds excludes "string")', () => {
      it(
        "createStrategy is never called with sequenceIdKind 'string'",
        () => {
          expect(ctx.requested.filter((o) => o.sequenceIdKind === 'string')).toEqual([]);
        },
        TEST_TIMEOUT,
      );
    });
    return;
  }

  describe("string sequence ids (a strategy created with sequenceIdKind: 'string')", () => {
    const strategy = ctx.useStrategy({ positionKind: 'integer', sequenceIdKind: 'string' });

    /** Appends two items to each id, reads them back every way, and checks the log and the listing. */
    async function expectRoundTrip(ids: readonly string[]): Promise<void> {
      const s = strategy();
      const mark = await ctx.mark(s);
      for (const id of ids) await s.append(items(id, 0, 2, (p) => JSON.stringify({ id, p })));
      for (const id of ids) {
        const expected = items(id, 0, 2, (p) => JSON.stringify({ id, p }));
        expect(await s.getItems(id)).toStrictEqual(expected);
        expect(await s.getItem(id, 1)).toStrictEqual(expected[1]);
        expect(await collect(s.iterateItems(id, { pageSize: 1 }))).toStrictEqual(expected);
      }
      const listed = await s.listSequenceIds();
      for (const id of ids)
        expect({ id, listed: listed.filter((l) => l === id).length }).toEqual({ id, listed: 1 });
      if (ctx.notifications) {
        // notificationsOf matches ids case-insensitively (UUIDs); string ids must match exactly.
        const logged = await ctx.notificationsOf(s, mark, ids);
        expect(logged.map((n) => [n.sequenceId, n.position])).toEqual(
          ids.flatMap((id) => [
            [id, 0],
            [id, 1],
          ]),
        );
      }
    }

    it(
      'createStrategy returns a strategy of the requested kinds',
      () => {
        expect(strategy().positionKind).toBe('integer');
        expect(strategy().sequenceIdKind).toBe('string');
      },
      TEST_TIMEOUT,
    );

    it(
      'ids are case-sensitive: Order-1 and order-1 are different sequences',
      async () => {
        const s = strategy();
        const tail = randomUUID();
        const upper = `Order-1-${tail}`;
        const lower = `order-1-${tail}`;
        await s.append(item(upper, 0, '"upper"'));
        // Not a conflict: position 0 of another sequence.
        await s.append(item(lower, 0, '"lower"'));
        expect(await s.getItems(upper)).toStrictEqual([item(upper, 0, '"upper"')]);
        expect(await s.getItems(lower)).toStrictEqual([item(lower, 0, '"lower"')]);
        expect(await s.getItems(upper.toUpperCase())).toEqual([]);
        await expectRoundTrip([`Order-2-${tail}`, `order-2-${tail}`, `ORDER-2-${tail}`]);
      },
      TEST_TIMEOUT,
    );

    it(
      'trailing and leading spaces are significant',
      async () => {
        const tail = randomUUID();
        await expectRoundTrip([`a${tail}`, `a${tail} `, `a${tail}  `, ` a${tail}`, `a${tail}\t`]);
      },
      TEST_TIMEOUT,
    );

    it(
      `an id of ${MAX_SEQUENCE_ID_LENGTH} characters round-trips (ASCII, 3-byte and astral characters)`,
      async () => {
        const ascii = freshId('', MAX_SEQUENCE_ID_LENGTH);
        // 765 UTF-8 bytes: a key column sized in bytes must allow for them.
        const euros = `${randomUUID()}${'€'.repeat(MAX_SEQUENCE_ID_LENGTH - 36)}`;
        // 109 astral characters: 218 code units, 436 UTF-8 bytes.
        const astral = `${randomUUID()}${'😀'.repeat(109)}x`;
        for (const id of [ascii, euros, astral]) expect(id).toHaveLength(MAX_SEQUENCE_ID_LENGTH);
        await expectRoundTrip([ascii, euros, astral]);
      },
      TEST_TIMEOUT,
    );

    it(
      'astral, emoji, quotes, semicolons, backslashes and SQL comments round-trip verbatim',
      async () => {
        await expectRoundTrip([
          freshId('/𝄞😀👩‍👩‍👧 naïve café 日本語'),
          freshId(`'; DROP TABLE items; --`),
          freshId(`"double" \`back\` \\ \\\\ back\\slash`),
          freshId('%_*?$1:name/* comment */'),
          freshId('\u0001\r\n\u2028\ufeff\uffff'),
          `--${randomUUID()}`,
          `\\${randomUUID()}\\`,
        ]);
      },
      TEST_TIMEOUT,
    );

    it(
      `an empty id, an id with NUL and an id of ${MAX_SEQUENCE_ID_LENGTH + 1} characters: ValidationError, nothing written`,
      async () => {
        const s = strategy();
        const mark = await ctx.mark(s);
        const tooLong = freshId('', MAX_SEQUENCE_ID_LENGTH + 1);
        const withNul = freshId('\0nul');
        for (const bad of ['', withNul, tooLong, '\0']) {
          for (const attempt of [
            s.append(item(bad, 0)),
            s.append(items(bad, 0, 3)),
            s.getItems(bad),
            s.getItem(bad, 0),
            collect(s.iterateItems(bad)),
          ]) {
            const error = await rejectionOf(attempt);
            expect(error).toBeInstanceOf(ValidationError);
            expect((error as ValidationError).field).toBe('sequenceId');
          }
        }
        // Nothing under the id, nor under what a store that truncates or strips NUL would keep.
        const variants = [
          tooLong.slice(0, MAX_SEQUENCE_ID_LENGTH),
          withNul.replace('\0', ''),
          withNul.split('\0')[0]!,
        ];
        await ctx.expectNothingWritten(s, mark, variants);
        const listed = await s.listSequenceIds();
        expect(
          listed.filter((l) => l === '' || l.includes('\0') || variants.includes(l) || l === tooLong),
        ).toEqual([]);
        expect(listed.every((l) => typeof l === 'string')).toBe(true);
        // A valid id is still accepted after the rejections.
        const ok = freshId('-ok');
        await s.append(new SequencedItem(ok, 0, 'es-testing.Item', '{}'));
        expect(await s.getItems(ok)).toHaveLength(1);
      },
      TEST_TIMEOUT,
    );
  });
}
