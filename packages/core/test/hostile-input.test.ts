/**
 * Input that used to be stored wrongly or poisoned a stream (issue 10, defects 3, 4, 5, 6, 7): each is
 * now either round-tripped exactly or refused on write with a ValidationError, and writes nothing.
 */
import {
  AesGcmCipher,
  DataCodec,
  DataIntegrityError,
  DomainEvent,
  InMemoryActiveRecordStrategy,
  JsonTranscoder,
  SequencedItem,
  SequencedItemMapper,
  TopicRegistry,
  ValidationError,
} from '../src/index.js';
import { hasLoneSurrogate } from '../src/backend.js';
import { describeValue } from '../src/validation.js';
import { uuid } from './fixtures.js';

const json = new JsonTranscoder();
const roundTrip = (value: unknown): unknown => json.decode(json.encode(value));

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

describe('nesting, cycles and size (defect 3)', () => {
  it('data nested deeper than maxDepth is a ValidationError on write; up to it, it round-trips', () => {
    expect(roundTrip(nested(100))).toEqual(nested(100));
    expect(() => json.encode(nested(101))).toThrow(ValidationError);
    expect(() => json.encode(nested(3000))).toThrow(/nested deeper than 100 levels/);
    expect(() => json.encode([nested(200)])).toThrow(ValidationError);
    expect(() => new JsonTranscoder({ maxDepth: 5 }).encode(nested(6))).toThrow(ValidationError);
    expect(new JsonTranscoder({ maxDepth: 500 }).encode(nested(400))).toContain('leaf');
  });

  it('circular data is a ValidationError that says so (not a TypeError or RangeError)', () => {
    const circular: Record<string, unknown> = { at: new Date(0) };
    circular.self = circular;
    expect(() => json.encode(circular)).toThrow(ValidationError);
    expect(() => json.encode(circular)).toThrow(/circular/);
    const list: unknown[] = [];
    list.push(list);
    expect(() => json.encode({ list })).toThrow(/circular/);
  });

  it('data stored deep before the limit existed reads as DataIntegrityError, never a stack overflow', () => {
    const deep = '{"a":'.repeat(20_000) + '{"$bigint":"1"}' + '}'.repeat(20_000);
    for (let i = 0; i < 3; i++) {
      // whatever the JIT state: several times
      let error: unknown;
      try {
        json.decode(deep);
      } catch (e) {
        error = e;
      }
      expect(error === undefined || error instanceof DataIntegrityError).toBe(true);
    }
  });

  it('an event too deep is refused by the mapper before anything is stored', async () => {
    const topics = new TopicRegistry();
    class Deep extends DomainEvent {}
    topics.register('test.Deep', Deep);
    const mapper = new SequencedItemMapper({ topics });
    const event = new Deep({ originatorId: uuid(), originatorVersion: 0, value: nested(3000) });
    expect(() => mapper.toSequencedItem(event)).toThrow(ValidationError);
  });
});

describe('__proto__ keys (defect 4)', () => {
  it('a nested __proto__ key round-trips as a plain own key, next to Dates and bigints', () => {
    const value = JSON.parse('{"x":{"__proto__":{"polluted":1},"at":0,"big":0}}') as {
      x: Record<string, unknown>;
    };
    value.x.at = new Date(5);
    value.x.big = 7n;
    const back = roundTrip(value) as { x: Record<string, unknown> };
    expect(Object.getPrototypeOf(back.x)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(back.x, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(back.x, '__proto__')?.value).toEqual({ polluted: 1 });
    expect((back.x as { polluted?: unknown }).polluted).toBeUndefined();
    expect(back.x.at).toEqual(new Date(5));
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('an event field named __proto__ is a ValidationError on write', () => {
    const topics = new TopicRegistry();
    class Odd extends DomainEvent {}
    topics.register('test.Odd', Odd);
    const event = new Odd({ originatorId: uuid(), originatorVersion: 0 });
    const fields = { ...event } as Record<string, unknown>;
    Object.defineProperty(fields, '__proto__', { value: { x: 1 }, enumerable: true });
    Object.setPrototypeOf(fields, Odd.prototype);
    expect(() =>
      new SequencedItemMapper({ topics }).toSequencedItem(fields as unknown as DomainEvent),
    ).toThrow(ValidationError);
  });
});

describe('lone UTF-16 surrogates (defect 6)', () => {
  const store = new InMemoryActiveRecordStrategy({ sequenceIdKind: 'string' });
  it('in a sequence id, a topic or data: ValidationError, and nothing written', async () => {
    for (const bad of ['a\ud800', '\udc00b', 'x\udfff\ud800y']) {
      await expect(store.append(new SequencedItem(bad, 0, 't', '{}'))).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(store.append(new SequencedItem('id', 0, bad, '{}'))).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(store.append(new SequencedItem('id', 0, 't', `"${bad}"`))).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(store.getItems(bad)).rejects.toBeInstanceOf(ValidationError);
    }
    expect(await store.listSequenceIds()).toEqual([]);
    expect(await store.maxNotificationId()).toBe(0);
    // A well-formed pair is fine.
    await store.append(new SequencedItem('a\ud83d\ude00', 0, 't\ud83d\ude00', '"\ud83d\ude00"'));
  });

  it('in event payload strings, the JSON transcoder escapes them: they round-trip exactly', () => {
    const value = { s: 'a\ud800b', [`k\udc00`]: ['\udfff'] };
    const data = json.encode(value);
    expect(hasLoneSurrogate(data)).toBe(false);
    expect(roundTrip(value)).toEqual(value);
  });
});

describe('values JSON cannot hold (defect 7)', () => {
  it('NaN, Infinity, -Infinity and -0 round-trip exactly (tagged), alone and nested', () => {
    const value = { nan: NaN, inf: Infinity, ninf: -Infinity, nzero: -0, list: [NaN, -0, 0, 1.5] };
    const back = roundTrip(value) as typeof value;
    expect(back).toEqual(value);
    expect(Object.is(back.nzero, -0)).toBe(true);
    expect(Object.is(back.list[1], -0)).toBe(true);
    expect(Object.is(back.list[2], 0)).toBe(true);
    // A user object that looks like the tag stays a plain object.
    expect(roundTrip({ n: { $number: 'NaN' } })).toEqual({ n: { $number: 'NaN' } });
  });

  it('Map, Set, class instances, functions, symbols and undefined array entries: ValidationError', () => {
    class Money {
      constructor(readonly cents: number) {}
    }
    for (const bad of [
      new Map([['a', 1]]),
      new Set([1]),
      new Money(5),
      () => 1,
      Symbol('s'),
      [1, undefined],
      // eslint-disable-next-line no-sparse-arrays
      [1, , 3],
      new Uint8Array(2),
      /re/,
    ]) {
      expect(() => json.encode({ field: bad })).toThrow(ValidationError);
    }
    expect(() => json.encode({ deep: [{ m: new Map() }] })).toThrow(/data\.deep\[0\]\.m is a Map/);
  });

  it('undefined fields are omitted, as documented (not an error)', () => {
    expect(roundTrip({ a: undefined, b: 1 })).toEqual({ b: 1 });
  });
});

describe('ciphertext bound to where it is stored (defect 5)', () => {
  const cipher = new AesGcmCipher(AesGcmCipher.createKey());
  const codec = new DataCodec({ cipher });
  const at = { sequenceId: uuid(), position: 3, topic: 'test.Event' };

  it('decrypts in place; moved to another sequence, position or topic: DataIntegrityError', () => {
    const data = codec.encode({ secret: 1 }, at);
    expect(codec.decode(data, at)).toEqual({ secret: 1 });
    expect(codec.decode(data, { ...at, sequenceId: at.sequenceId.toUpperCase() })).toEqual({ secret: 1 });
    for (const moved of [
      { ...at, sequenceId: uuid() },
      { ...at, position: 4 },
      { ...at, topic: 'test.Other' },
    ]) {
      expect(() => codec.decode(data, moved)).toThrow(DataIntegrityError);
      expect(() => codec.decode(data, moved)).toThrow(/moved from another item/);
    }
  });

  it('ciphertext stored before binding (no version byte) still decrypts, unless acceptUnbound is false', () => {
    const key = AesGcmCipher.createKey();
    const old = new DataCodec({ cipher: new AesGcmCipher(key) }).encode({ old: true }); // no place: unbound
    expect(new DataCodec({ cipher: new AesGcmCipher(key) }).decode(old, at)).toEqual({ old: true });
    const strict = new DataCodec({ cipher: new AesGcmCipher(key, { acceptUnbound: false }) });
    expect(() => strict.decode(old, at)).toThrow(DataIntegrityError);
    expect(strict.decode(new DataCodec({ cipher: new AesGcmCipher(key) }).encode({ b: 1 }, at), at)).toEqual({
      b: 1,
    });
  });

  it('through the mapper: an item copied into another entity is a DataIntegrityError on read', () => {
    const topics = new TopicRegistry();
    class Secret extends DomainEvent {}
    topics.register('test.Secret', Secret);
    const mapper = new SequencedItemMapper({ topics, cipher });
    const a = mapper.toSequencedItem(new Secret({ originatorId: uuid(), originatorVersion: 0, pin: 1234 }));
    expect((mapper.fromSequencedItem(a) as unknown as { pin: number }).pin).toBe(1234);
    const copied = new SequencedItem(uuid(), 0, a.topic, a.data);
    expect(() => mapper.fromSequencedItem(copied)).toThrow(DataIntegrityError);
    expect(() => mapper.fromSequencedItem(new SequencedItem(a.sequenceId, 1, a.topic, a.data))).toThrow(
      DataIntegrityError,
    );
  });
});

describe('values that cannot be printed (found by the property tests)', () => {
  it('a position or an id whose toString is not a function is a ValidationError, not a TypeError from the message', async () => {
    const store = new InMemoryActiveRecordStrategy();
    const hostile = { toString: '' };
    await expect(
      store.append({ sequenceId: uuid(), position: hostile, topic: 't', data: '' } as never),
    ).rejects.toThrow(
      new ValidationError('position must be a non-negative integer, got an object', 'position'),
    );
    expect(await store.maxNotificationId()).toBe(0);
    expect(describeValue(hostile)).toBe('an object');
    expect(describeValue(Object.create(null))).toBe('an object');
    expect(describeValue('x'.repeat(50))).toBe(JSON.stringify(`${'x'.repeat(40)}...`));
    expect(describeValue(-1)).toBe('-1');
  });
});
