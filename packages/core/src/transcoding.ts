import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { DataIntegrityError, SettingsError } from './errors.js';

/** Turns event payloads into strings and back. */
export interface Transcoder {
  encode(value: unknown): string;
  decode(data: string): unknown;
}

// Tagged values: {"$date": iso}, {"$bigint": digits}. An object whose keys could be mistaken for a tag
// is wrapped in {"$object": {...}} so decoding never misreads user data.
const TAGS = new Set(['$date', '$bigint', '$object']);

function isTagLike(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length === 1 && TAGS.has(keys[0]!);
}

/** True when plain JSON would lose something: a Date, a bigint, or a key that could read as a tag. */
function needsTags(value: unknown, depth: number): boolean {
  if (value === null || typeof value !== 'object') return typeof value === 'bigint';
  if (depth > 64 || value instanceof Date) return true; // deep (or cyclic) values take the careful path
  if (Array.isArray(value)) {
    for (const item of value) if (needsTags(item, depth + 1)) return true;
    return false;
  }
  for (const key in value) {
    if (key.charCodeAt(0) === 36 /* $ */ || needsTags((value as Record<string, unknown>)[key], depth + 1))
      return true;
  }
  return false;
}

/**
 * JSON that round-trips what events carry: Date, bigint, nested objects and arrays. (As in JSON, a field
 * whose value is undefined is omitted.) UUIDs are strings and stay strings.
 */
export class JsonTranscoder implements Transcoder {
  encode(value: unknown): string {
    // Most payloads hold no Date, bigint or '$' key: plain JSON is then exact, and ~2x faster than a replacer.
    if (!needsTags(value, 0)) return JSON.stringify(value);
    // JSON.stringify passes a wrapper's own content back to the replacer: it must not be wrapped again.
    const wrappers = new WeakSet<object>();
    return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
      const raw = this[key];
      if (raw instanceof Date) return { $date: Number.isNaN(raw.getTime()) ? null : raw.toISOString() };
      if (typeof raw === 'bigint') return { $bigint: raw.toString() };
      if (
        v !== null &&
        typeof v === 'object' &&
        !Array.isArray(v) &&
        !wrappers.has(this) &&
        isTagLike(v as Record<string, unknown>)
      ) {
        const wrapper = { $object: v };
        wrappers.add(wrapper);
        return wrapper;
      }
      return v;
    });
  }

  decode(data: string): unknown {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch (cause) {
      throw new DataIntegrityError('stored data is not valid JSON', { cause });
    }
    // No tag can be present unless a key starts with '$'.
    if (!data.includes('"$')) return parsed;
    try {
      return revive(parsed);
    } catch (cause) {
      throw new DataIntegrityError('stored data holds a malformed tagged value', { cause });
    }
  }
}

function revive(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(revive);
  const record = value as Record<string, unknown>;
  if (isTagLike(record)) {
    const [tag] = Object.keys(record);
    const inner = record[tag!];
    switch (tag) {
      case '$date':
        return inner === null ? new Date(NaN) : new Date(inner as string);
      case '$bigint':
        return BigInt(inner as string);
      default:
        return reviveFields(inner as Record<string, unknown>);
    }
  }
  return reviveFields(record);
}

function reviveFields(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record)) out[key] = revive(record[key]);
  return out;
}

/** Encrypts and authenticates stored data with AES-256-GCM: a modified ciphertext fails to decrypt. */
export class AesGcmCipher {
  private readonly key: Buffer;

  constructor(key: Buffer | Uint8Array | string) {
    this.key = typeof key === 'string' ? Buffer.from(key, 'base64') : Buffer.from(key);
    if (this.key.length !== 32)
      throw new SettingsError('an AES-256-GCM key must be 32 bytes (base64 of 32 bytes)', 'key');
  }

  /** A fresh random key, base64-encoded. */
  static createKey(): string {
    return randomBytes(32).toString('base64');
  }

  encrypt(plain: Buffer): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  decrypt(sealed: Buffer): Buffer {
    if (sealed.length < 28) throw new DataIntegrityError('encrypted data is truncated');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, 12));
      decipher.setAuthTag(sealed.subarray(12, 28));
      return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
    } catch (cause) {
      throw new DataIntegrityError('encrypted data failed authentication: tampered with, or the wrong key', {
        cause,
      });
    }
  }
}

export interface DataCodecOptions {
  transcoder?: Transcoder;
  cipher?: AesGcmCipher;
  /** Compress data (raw deflate) before encrypting. */
  compress?: boolean;
}

/**
 * The full path from a payload to the stored string: JSON, then optionally compressed and encrypted,
 * then base64. When a cipher is configured, unencrypted data is refused on read.
 */
export class DataCodec {
  private readonly transcoder: Transcoder;
  private readonly cipher: AesGcmCipher | undefined;
  private readonly compress: boolean;

  constructor(options: DataCodecOptions = {}) {
    this.transcoder = options.transcoder ?? new JsonTranscoder();
    this.cipher = options.cipher;
    this.compress = options.compress ?? false;
  }

  encode(value: unknown): string {
    const json = this.transcoder.encode(value);
    if (!this.cipher && !this.compress) return json;
    let bytes: Buffer = Buffer.from(json, 'utf8');
    if (this.compress) bytes = deflateRawSync(bytes);
    if (this.cipher) bytes = this.cipher.encrypt(bytes);
    return bytes.toString('base64');
  }

  decode(data: string): unknown {
    if (!this.cipher && !this.compress) return this.transcoder.decode(data);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data))
      throw new DataIntegrityError('stored data is not base64: expected encrypted or compressed data');
    let bytes: Buffer = Buffer.from(data, 'base64');
    if (this.cipher) bytes = this.cipher.decrypt(bytes);
    if (this.compress) {
      try {
        bytes = inflateRawSync(bytes);
      } catch (cause) {
        throw new DataIntegrityError('stored data failed to decompress', { cause });
      }
    }
    return this.transcoder.decode(bytes.toString('utf8'));
  }
}
