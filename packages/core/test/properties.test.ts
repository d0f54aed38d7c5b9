/**
 * Property-based tests (fast-check) of the transcoder, the cipher, the mapper and query ranges:
 * anything accepted round-trips exactly; anything else is rejected with a typed error and writes
 * nothing. Runs are bounded (numRuns) so the file takes seconds.
 */
import fc from 'fast-check';
import {
  AesGcmCipher,
  ConcurrencyError,
  DataCodec,
  DataIntegrityError,
  DomainEvent,
  EsError,
  InMemoryActiveRecordStrategy,
  type ItemQuery,
  JsonTranscoder,
  SequencedItem,
  SequencedItemMapper,
  TopicRegistry,
  ValidationError,
} from '../src/index.js';

const RUNS = { numRuns: 300 };

/** Strings of any UTF-16 code units, lone surrogates included. */
const anyString = fc.string({ unit: 'binary', maxLength: 12 });
/** Keys users write, and keys that look like our tags or like a prototype. */
const key = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.constantFrom('__proto__', '$date', '$bigint', '$number', '$object', 'constructor', '$'),
);

/** What the JSON transcoder promises to store exactly. */
const storable: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double(), // NaN, ±Infinity and -0 included
    fc.integer(),
    anyString,
    fc.bigInt(),
    fc.date({ noInvalidDate: false }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }).map(ownKeys),
  ),
})).value;

/** A dictionary with every key as an own data property (fast-check may set `__proto__` as a prototype). */
function ownKeys(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(record)) {
    Object.defineProperty(out, k, { value: record[k], enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** What a read gives back of an accepted value: undefined fields dropped, null prototypes made plain. */
function expected(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  if (Array.isArray(value)) return value.map(expected);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined)
      Object.defineProperty(out, k, {
        value: expected(v),
        enumerable: true,
        writable: true,
        configurable: true,
      });
  }
  return out;
}

/**
 * Exact equality: the same prototypes, own keys and values (Object.is for numbers, so -0 and NaN
 * count), Dates by time. (Jest's toStrictEqual misreads objects with an own `constructor` key.)
 */
function same(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime());
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every(
    (k) =>
      Object.prototype.hasOwnProperty.call(b, k) &&
      same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

function expectSame(actual: unknown, wanted: unknown): void {
  if (!same(actual, wanted)) expect(actual).toStrictEqual(wanted); // fails, with a diff
}

const json = new JsonTranscoder();

describe('JsonTranscoder, property-based', () => {
  it('every storable value round-trips exactly (NaN, -0, lone surrogates, __proto__ and tag-like keys)', () => {
    fc.assert(
      fc.property(
        storable.map((value) => ({ value })),
        (payload) => {
          const data = json.encode(payload);
          expectSame(json.decode(data), payload);
        },
      ),
      RUNS,
    );
  });

  it('anything at all: round-trips exactly, or is a ValidationError on write', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withMap: true,
          withSet: true,
          withBigInt: true,
          withDate: true,
          withTypedArray: true,
          withSparseArray: true,
          withBoxedValues: true,
          withNullPrototype: true,
          withObjectString: true,
          maxDepth: 4,
        }),
        (value) => {
          let data: string;
          try {
            data = json.encode({ value });
          } catch (error) {
            expect(error).toBeInstanceOf(ValidationError);
            return;
          }
          expectSame(json.decode(data), expected({ value }));
        },
      ),
      RUNS,
    );
  });
});

describe('AES-GCM cipher, property-based', () => {
  const cipher = new AesGcmCipher(AesGcmCipher.createKey());
  const codec = new DataCodec({ cipher, compress: false });
  const place = fc.record({
    sequenceId: fc.oneof(fc.uuid(), fc.string({ minLength: 1, maxLength: 8 })),
    position: fc.oneof(fc.nat(), fc.double({ min: 0, noNaN: true, noDefaultInfinity: true })),
    topic: fc.string({ minLength: 1, maxLength: 8 }),
  });

  it('decrypts where it was stored; anywhere else, or with a flipped byte, it is a DataIntegrityError', () => {
    fc.assert(
      fc.property(
        storable.map((value) => ({ value })),
        place,
        place,
        fc.nat(),
        (payload, at, other, flip) => {
          const data = codec.encode(payload, at);
          expectSame(codec.decode(data, at), payload);
          const same =
            at.sequenceId.toLowerCase() === other.sequenceId.toLowerCase() &&
            Object.is(at.position, other.position) &&
            at.topic === other.topic;
          if (!same) expect(() => codec.decode(data, other)).toThrow(DataIntegrityError);
          const bytes = Buffer.from(data, 'base64');
          bytes[flip % bytes.length]! ^= 0x01;
          expect(() => codec.decode(bytes.toString('base64'), at)).toThrow(DataIntegrityError);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('SequencedItemMapper over the in-memory store, property-based', () => {
  const topics = new TopicRegistry();
  class Happened extends DomainEvent {}
  topics.register('test.Happened', Happened);

  it('an event with any storable fields is read back equal; an unstorable one writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(
          key.filter((k) => !['originatorId', 'originatorVersion', 'timestamp'].includes(k)),
          fc.oneof(storable, fc.anything({ withMap: true, withSet: true, maxDepth: 2 })),
          { maxKeys: 4 },
        ),
        fc.boolean(),
        async (fields, encrypted) => {
          const store = new InMemoryActiveRecordStrategy();
          const mapper = new SequencedItemMapper({
            topics,
            ...(encrypted ? { cipher: new AesGcmCipher(AesGcmCipher.createKey()) } : {}),
          });
          const id = '6f1d3b52-8c9a-4e0b-9d2c-0123456789ab';
          let event: DomainEvent;
          let item: SequencedItem;
          try {
            event = new Happened({ ...ownKeys(fields), originatorId: id, originatorVersion: 0 });
            item = mapper.toSequencedItem(event);
          } catch (error) {
            expect(error).toBeInstanceOf(EsError);
            expect(await store.maxNotificationId()).toBe(0);
            return;
          }
          await store.append(item);
          const back = mapper.fromSequencedItem((await store.getItems(id))[0]!);
          expect(back).toBeInstanceOf(Happened);
          expectSame({ ...back }, expected({ ...event }));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('the store, property-based', () => {
  it('any item: stored and read back exactly, or rejected with a typed error and nothing written', async () => {
    const anyValue = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 10 }),
      fc.double(),
      fc.anything({ maxDepth: 1 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          sequenceId: fc.oneof(fc.uuid(), anyValue),
          position: fc.oneof(fc.constantFrom(0, 1, -1, 0.5, NaN, Infinity, 2 ** 53), anyValue),
          topic: fc.oneof(fc.string({ maxLength: 8 }), anyValue),
          data: fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), anyValue),
        }),
        async (raw) => {
          const store = new InMemoryActiveRecordStrategy({ sequenceIdKind: 'string' });
          try {
            await store.append(raw as unknown as SequencedItem);
          } catch (error) {
            expect(error instanceof ValidationError || error instanceof ConcurrencyError).toBe(true);
            expect(await store.maxNotificationId()).toBe(0);
            expect(await store.listSequenceIds()).toEqual([]);
            return;
          }
          const [back] = await store.getItems(raw.sequenceId as string);
          expect(back).toStrictEqual(
            new SequencedItem(
              raw.sequenceId as string,
              raw.position as number,
              raw.topic as string,
              raw.data as string,
            ),
          );
        },
      ),
      RUNS,
    );
  });

  it('query ranges (gt/gte/lt/lte/limit/descending) agree with a model, or are a ValidationError', async () => {
    const store = new InMemoryActiveRecordStrategy();
    const id = '0d1d3b52-8c9a-4e0b-9d2c-0123456789ab';
    const count = 30;
    await store.append(Array.from({ length: count }, (_, p) => new SequencedItem(id, p, 't', `{"p":${p}}`)));
    await fc.assert(
      fc.asyncProperty(queryArbitrary, async (query) => checkQuery(store, id, count, query)),
      {
        numRuns: 500,
      },
    );
  });
});

/** A bound: usually near the stored positions, sometimes fractional, infinite, NaN or not a number. */
const bound = fc.option(
  fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: -3, max: 33 }) },
    { weight: 2, arbitrary: fc.double({ min: -3, max: 33, noNaN: true }) },
    { weight: 1, arbitrary: fc.constantFrom(Infinity, -Infinity, NaN, '3' as unknown as number) },
  ),
  { nil: undefined, freq: 2 },
);
const queryArbitrary = fc.record(
  {
    gt: bound,
    gte: bound,
    lt: bound,
    lte: bound,
    limit: fc.option(fc.oneof(fc.integer({ min: -1, max: 35 }), fc.constant(1.5)), { nil: undefined }),
    descending: fc.boolean(),
  },
  { requiredKeys: [] },
);

/** The model: positions 0..count-1 filtered by the bounds, ordered, limited. */
function modelQuery(count: number, q: ItemQuery): number[] | 'invalid' {
  for (const b of [q.gt, q.gte, q.lt, q.lte])
    if (b !== undefined && (typeof b !== 'number' || Number.isNaN(b))) return 'invalid';
  if (q.limit !== undefined && (!Number.isSafeInteger(q.limit) || q.limit < 1)) return 'invalid';
  let positions = Array.from({ length: count }, (_, p) => p).filter(
    (p) =>
      (q.gt === undefined || p > q.gt) &&
      (q.gte === undefined || p >= q.gte) &&
      (q.lt === undefined || p < q.lt) &&
      (q.lte === undefined || p <= q.lte),
  );
  if (q.descending) positions = positions.reverse();
  return q.limit === undefined ? positions : positions.slice(0, q.limit);
}

async function checkQuery(
  store: { getItems(id: string, q: ItemQuery): Promise<SequencedItem[]> },
  id: string,
  count: number,
  query: ItemQuery,
): Promise<void> {
  const model = modelQuery(count, query);
  if (model === 'invalid') {
    await expect(store.getItems(id, query)).rejects.toBeInstanceOf(ValidationError);
    return;
  }
  expect({ query, positions: (await store.getItems(id, query)).map((i) => i.position) }).toEqual({
    query,
    positions: model,
  });
}
