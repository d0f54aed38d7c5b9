import {
  AesGcmCipher,
  DataCodec,
  DataIntegrityError,
  JsonTranscoder,
  SettingsError,
  ValidationError,
} from '../src/index.js';

function flipByte(base64: string, index: number): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[index] = bytes[index]! ^ 0x01;
  return bytes.toString('base64');
}

describe('JsonTranscoder', () => {
  const json = new JsonTranscoder();
  const roundTrip = (value: unknown): unknown => json.decode(json.encode(value));

  it('round-trips Dates, bigints, nested objects and arrays', () => {
    const value = {
      when: new Date('2024-02-29T12:34:56.789Z'),
      big: 12345678901234567890123n,
      negative: -5n,
      nested: { list: [1, 'two', { at: new Date(0) }, [3n]], empty: {}, nil: null },
      uuid: '2f1d3b52-8c9a-4e0b-9d2c-0123456789ab',
      flag: true,
    };
    const back = roundTrip(value) as typeof value;
    expect(back).toEqual(value);
    expect(back.when).toBeInstanceOf(Date);
    expect(typeof back.big).toBe('bigint');
    expect((back.nested.list[2] as { at: Date }).at).toBeInstanceOf(Date);
    expect(back.uuid).toBe(value.uuid);
  });

  it('round-trips an invalid Date as an invalid Date', () => {
    const back = roundTrip({ when: new Date(NaN) }) as { when: Date };
    expect(back.when).toBeInstanceOf(Date);
    expect(Number.isNaN(back.when.getTime())).toBe(true);
  });

  it('omits undefined fields, as JSON does', () => {
    expect(roundTrip({ a: undefined, b: 1 })).toEqual({ b: 1 });
    expect(Object.keys(roundTrip({ a: undefined, b: 1 }) as object)).toEqual(['b']);
  });

  it('user objects that look like tags round-trip as plain objects', () => {
    const value = {
      date: { $date: 'x' },
      big: { $bigint: 'not a number' },
      object: { $object: { $date: 'y' } },
      list: [{ $date: '2020-01-01T00:00:00.000Z' }],
      deeper: { $object: { inner: new Date(7) } },
    };
    const back = roundTrip(value) as Record<string, unknown>;
    expect(back).toEqual(value);
    expect(back.date).not.toBeInstanceOf(Date);
    expect((back.list as unknown[])[0]).not.toBeInstanceOf(Date);
    expect(((back.deeper as { $object: { inner: unknown } }).$object.inner as Date).getTime()).toBe(7);
  });

  // Decoding looks at a flat object's keys only, and searches the text for '"$' once a field is an
  // object or an array: a tag after any number of plain fields, at any depth, is still found.
  it('finds tags after plain fields, at the top and deeper', () => {
    const value = { s: 'a', n: 1, at: new Date(5), deep: { s: 'b', list: [1, { big: 7n }] }, x: NaN };
    const back = roundTrip(value) as typeof value;
    expect(back).toEqual(value);
    expect(back.at).toBeInstanceOf(Date);
    expect(back.deep.list[1]).toEqual({ big: 7n });
    expect(roundTrip({ s: 'a', z: -0 })).toEqual({ s: 'a', z: -0 });
    expect(Object.is((roundTrip({ s: 'a', z: -0 }) as { z: number }).z, -0)).toBe(true);
  });

  it('a flat payload with a "$" key, or a tag as the whole value, round-trips', () => {
    expect(roundTrip({ a: 1, $b: 2 })).toEqual({ a: 1, $b: 2 });
    expect(json.encode({ $date: 'x' })).toBe('{"$object":{"$date":"x"}}');
    expect(roundTrip({ $date: 'x' })).toEqual({ $date: 'x' });
    expect(roundTrip(new Date(3))).toEqual(new Date(3));
    expect(roundTrip([new Date(4), 'y'])).toEqual([new Date(4), 'y']);
    expect(roundTrip('plain')).toBe('plain');
  });

  it('decodes exactly while Object.prototype has an enumerable field (polluted by other code)', () => {
    Object.defineProperty(Object.prototype, 'polluted', {
      value: { $date: '1970-01-01T00:00:00.000Z' },
      enumerable: true,
      configurable: true,
    });
    try {
      const flat = json.decode('{"a":1,"b":"c"}') as Record<string, unknown>;
      expect(Object.keys(flat)).toEqual(['a', 'b']);
      const tagged = json.decode('{"a":1,"at":{"$date":"1970-01-01T00:00:00.006Z"}}') as Record<
        string,
        unknown
      >;
      expect(Object.keys(tagged)).toEqual(['a', 'at']);
      expect(tagged.at).toEqual(new Date(6));
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
  });

  it('objects with a tag key among others are not tags', () => {
    const value = { a: { $date: 'x', other: 1 } };
    expect(json.encode(value)).toBe('{"a":{"$date":"x","other":1}}');
    expect(roundTrip(value)).toEqual(value);
  });

  it('invalid JSON is a DataIntegrityError with the parse error as cause', () => {
    let error: unknown;
    try {
      json.decode('{"a":');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DataIntegrityError);
    expect((error as Error).cause).toBeInstanceOf(SyntaxError);
  });

  it('a corrupt tag is a DataIntegrityError', () => {
    expect(() => json.decode('{"a":{"$bigint":"12x"}}')).toThrow(DataIntegrityError);
    expect(() => json.decode('{"a":{"$object":null}}')).toThrow(DataIntegrityError);
  });
});

describe('AesGcmCipher', () => {
  const key = AesGcmCipher.createKey();

  it('creates 32-byte keys, different each time', () => {
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    expect(AesGcmCipher.createKey()).not.toBe(key);
  });

  it('round-trips, with a fresh nonce each time', () => {
    const cipher = new AesGcmCipher(key);
    const plain = Buffer.from('attack at dawn');
    const a = cipher.encrypt(plain);
    const b = cipher.encrypt(plain);
    expect(a.equals(b)).toBe(false);
    expect(a.includes(plain)).toBe(false);
    expect(cipher.decrypt(a).toString()).toBe('attack at dawn');
    expect(cipher.decrypt(b).toString()).toBe('attack at dawn');
    expect(new AesGcmCipher(Buffer.from(key, 'base64')).decrypt(a).toString()).toBe('attack at dawn');
    expect(new AesGcmCipher(new Uint8Array(Buffer.from(key, 'base64'))).decrypt(a).toString()).toBe(
      'attack at dawn',
    );
    expect(cipher.decrypt(cipher.encrypt(Buffer.alloc(0)))).toHaveLength(0);
  });

  it('the wrong key is a DataIntegrityError', () => {
    const sealed = new AesGcmCipher(key).encrypt(Buffer.from('secret'));
    expect(() => new AesGcmCipher(AesGcmCipher.createKey()).decrypt(sealed)).toThrow(DataIntegrityError);
  });

  it('a flipped byte anywhere (nonce, tag or body) is a DataIntegrityError', () => {
    const cipher = new AesGcmCipher(key);
    const sealed = cipher.encrypt(Buffer.from('secret message')).toString('base64');
    for (const index of [0, 11, 12, 27, 28, 30]) {
      expect(() => cipher.decrypt(Buffer.from(flipByte(sealed, index), 'base64'))).toThrow(
        DataIntegrityError,
      );
    }
  });

  it('truncated data is a DataIntegrityError', () => {
    const cipher = new AesGcmCipher(key);
    const sealed = cipher.encrypt(Buffer.from('secret message'));
    expect(() => cipher.decrypt(sealed.subarray(0, 20))).toThrow(/truncated/);
    expect(() => cipher.decrypt(sealed.subarray(0, sealed.length - 1))).toThrow(DataIntegrityError);
  });

  it('a key that is not 32 bytes is a SettingsError naming the key', () => {
    for (const bad of [Buffer.alloc(16), Buffer.alloc(33), '', Buffer.alloc(24).toString('base64')]) {
      let error: unknown;
      try {
        new AesGcmCipher(bad);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(SettingsError);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as SettingsError).field).toBe('key');
    }
  });
});

describe('DataCodec', () => {
  const cipher = new AesGcmCipher(AesGcmCipher.createKey());
  const payload = { text: 'lorem ipsum '.repeat(200), when: new Date(1), n: 3n };

  it('without a cipher or compression, stores plain JSON', () => {
    const codec = new DataCodec();
    const data = codec.encode(payload);
    expect(JSON.parse(data).text).toBe(payload.text);
    expect(codec.decode(data)).toEqual(payload);
  });

  it('compression round-trips, and is smaller for repetitive data', () => {
    const plain = new DataCodec().encode(payload);
    const codec = new DataCodec({ compress: true });
    const data = codec.encode(payload);
    expect(data).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
    expect(data.length).toBeLessThan(plain.length / 5);
    expect(codec.decode(data)).toEqual(payload);
  });

  it('encryption round-trips, and hides the plaintext', () => {
    const codec = new DataCodec({ cipher });
    const data = codec.encode(payload);
    expect(data).not.toContain('lorem');
    expect(Buffer.from(data, 'base64').toString('latin1')).not.toContain('lorem');
    expect(codec.decode(data)).toEqual(payload);
  });

  it('cipher plus compression round-trips and is smaller than encryption alone', () => {
    const both = new DataCodec({ cipher, compress: true });
    const data = both.encode(payload);
    expect(both.decode(data)).toEqual(payload);
    expect(data.length).toBeLessThan(new DataCodec({ cipher }).encode(payload).length / 5);
    // Compressed and encrypted data is not readable by a codec that only decrypts.
    expect(() => new DataCodec({ cipher }).decode(data)).toThrow(DataIntegrityError);
  });

  it('an encrypting codec refuses plaintext data', () => {
    const plain = new DataCodec().encode({ a: 1 });
    expect(() => new DataCodec({ cipher }).decode(plain)).toThrow(DataIntegrityError);
    expect(() => new DataCodec({ cipher }).decode(plain)).toThrow(/not base64/);
  });

  it('tampered encrypted data is a DataIntegrityError', () => {
    const codec = new DataCodec({ cipher });
    const data = codec.encode({ a: 1 });
    expect(() => codec.decode(flipByte(data, 30))).toThrow(DataIntegrityError);
    expect(() => new DataCodec({ cipher: new AesGcmCipher(AesGcmCipher.createKey()) }).decode(data)).toThrow(
      DataIntegrityError,
    );
  });

  it('data that fails to decompress is a DataIntegrityError', () => {
    const codec = new DataCodec({ compress: true });
    expect(() => codec.decode(Buffer.from('definitely not deflate data').toString('base64'))).toThrow(
      /decompress/,
    );
  });

  it('uses a custom transcoder', () => {
    const upper = {
      encode: (value: unknown): string => JSON.stringify(value).toUpperCase(),
      decode: (data: string): unknown => ({ raw: data }),
    };
    const codec = new DataCodec({ transcoder: upper });
    expect(codec.encode({ a: 'b' })).toBe('{"A":"B"}');
    expect(codec.decode('x')).toEqual({ raw: 'x' });
  });
});
