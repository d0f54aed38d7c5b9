import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { DataIntegrityError, SettingsError, ValidationError } from './errors.js';
import { isUuid } from './validation.js';

/** Turns event payloads into strings and back. */
export interface Transcoder {
  encode(value: unknown): string;
  decode(data: string): unknown;
}

// Tagged values: {"$date": iso}, {"$bigint": digits}, {"$number": "NaN" | "Infinity" | "-Infinity" | "-0"}.
// An object whose keys could be mistaken for a tag is wrapped in {"$object": {...}} so decoding never
// misreads user data.
const TAGS = new Set(['$date', '$bigint', '$number', '$object']);
const SPECIAL_NUMBERS = new Set(['NaN', 'Infinity', '-Infinity', '-0']);

/** Default for JsonTranscoder's `maxDepth`: far deeper than event data needs, far from any stack limit. */
export const DEFAULT_MAX_DEPTH = 100;

function isTagLike(value: Record<string, unknown>): boolean {
  const keys = Object.keys(value);
  return keys.length === 1 && TAGS.has(keys[0]!);
}

/** The numbers plain JSON cannot hold exactly (it writes null, or 0 for -0). */
function isSpecialNumber(value: number): boolean {
  return !Number.isFinite(value) || Object.is(value, -0);
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor
    ?.name;
  return name ? `a ${name}` : 'an object';
}

/**
 * What `inspect` refuses, thrown up through the walk: each level it crosses adds its key to `trail`
 * on the way out, so the message can say where without the walk keeping a path for the data it
 * accepts (pushing and popping one for every field cost 0.06 of JsonTranscoder.encode's 0.21 CPU µs
 * of overhead per bench event: pnpm probe codec.ts, min of 15). Never leaves this module.
 */
class Refusal {
  readonly trail: (string | number)[] = [];
  constructor(
    readonly value: unknown,
    readonly reason: 'type' | 'hole' | 'class' | 'depth',
  ) {}

  /** The ValidationError to throw, with the path, for a transcoder whose depth limit is `maxDepth`. */
  error(maxDepth: number): ValidationError {
    const at = trailPath(this.trail);
    const value = this.value;
    switch (this.reason) {
      case 'type':
        return new ValidationError(`${at} is ${describe(value)}, which JSON cannot store`, 'data');
      case 'hole':
        return new ValidationError(`${at} is undefined or a hole: JSON would store null`, 'data');
      case 'class':
        return new ValidationError(
          `${at} is ${describe(value)}: only plain objects, arrays, Dates and bigints are stored (a Map or Set has no JSON form; convert it to an object or an array)`,
          'data',
        );
      case 'depth':
        return new ValidationError(
          `${at} is nested deeper than ${maxDepth} levels${isCircular(value as object) ? ': the data is circular' : ''}`,
          'data',
        );
    }
  }
}

/** Adds the step `key` to a refusal passing up through the walk; any other error passes as it is. */
function through(error: unknown, key: string | number): unknown {
  if (error instanceof Refusal) error.trail.unshift(key);
  return error;
}

/**
 * Checks that a payload round-trips exactly, before anything is stored, and says whether it needs tags.
 * Accepted: null, booleans, numbers (NaN, ±Infinity and -0 tagged), strings, bigints, Dates, arrays
 * without holes or undefined entries, and plain objects (string keys; an undefined field is omitted, as
 * in JSON), nested at most `maxDepth` levels. Anything else (a Map or Set, a class instance, a function,
 * a cycle, deeper nesting) is refused (a Refusal, which `encode` makes a ValidationError): it would be
 * stored as something else, or be unreadable.
 */
function inspect(value: unknown, depth: number, maxDepth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return false;
    case 'number':
      return isSpecialNumber(value);
    case 'bigint':
      return true;
    case 'object':
      break;
    default:
      throw new Refusal(value, 'type');
  }
  if (value === null) return false;
  if (value instanceof Date) return true;
  if (depth >= maxDepth) throw new Refusal(value, 'depth');
  let tags = false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value) || value[i] === undefined) throw through(new Refusal(value[i], 'hole'), i);
      try {
        if (inspect(value[i], depth + 1, maxDepth)) tags = true;
      } catch (error) {
        throw through(error, i);
      }
    }
    return tags;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) throw new Refusal(value, 'class');
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const field = record[key];
    if (field === undefined) continue;
    if (key.charCodeAt(0) === 36 /* $ */) tags = true;
    try {
      if (inspect(field, depth + 1, maxDepth)) tags = true;
    } catch (error) {
      throw through(error, key);
    }
  }
  return tags;
}

/** Where in the data a refused value sits, for the message: `data.items[3].name`. */
function trailPath(trail: readonly (string | number)[]): string {
  const steps = trail.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`));
  return `data${steps.length > 8 ? `${steps.slice(0, 4).join('')}...${steps.slice(-3).join('')}` : steps.join('')}`;
}

/** True when an object reaches itself (asked only of data that is already too deep). */
function isCircular(root: object): boolean {
  const ancestors = new Set<object>();
  const visit = (value: unknown): boolean => {
    if (value === null || typeof value !== 'object') return false;
    if (ancestors.has(value)) return true;
    ancestors.add(value);
    for (const child of Object.values(value)) if (visit(child)) return true;
    ancestors.delete(value);
    return false;
  };
  try {
    return visit(root);
  } catch {
    return false; // too deep to tell without a stack overflow: not circular within reach
  }
}

/** Sets a field as an own property, even `__proto__` (an assignment would replace the prototype). */
function setField(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

export interface JsonTranscoderOptions {
  /** Deepest nesting of objects and arrays accepted on write. Default 100. */
  maxDepth?: number;
}

/**
 * JSON that round-trips what events carry: Date, bigint, every number (NaN, ±Infinity, -0), nested
 * objects and arrays. (As in JSON, a field whose value is undefined is omitted.) UUIDs are strings and
 * stay strings. What would not round-trip is refused on write with a ValidationError (see `inspect`).
 */
export class JsonTranscoder implements Transcoder {
  readonly maxDepth: number;

  constructor(options: JsonTranscoderOptions = {}) {
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    if (!Number.isSafeInteger(this.maxDepth) || this.maxDepth < 1 || this.maxDepth > 1000)
      throw new SettingsError('maxDepth must be an integer from 1 to 1000', 'maxDepth');
  }

  encode(value: unknown): string {
    // Most payloads hold no Date, bigint, special number or '$' key: plain JSON is then exact, and ~2x
    // faster than a replacer.
    let tags: boolean;
    try {
      tags = inspect(value, 0, this.maxDepth);
    } catch (error) {
      throw error instanceof Refusal ? error.error(this.maxDepth) : error;
    }
    if (!tags) return stringify(value);
    // JSON.stringify passes a wrapper's own content back to the replacer: it must not be wrapped again.
    const wrappers = new WeakSet<object>();
    return stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
      const raw = this[key];
      if (raw instanceof Date) return { $date: Number.isNaN(raw.getTime()) ? null : raw.toISOString() };
      if (typeof raw === 'bigint') return { $bigint: raw.toString() };
      if (typeof raw === 'number' && isSpecialNumber(raw))
        return { $number: Object.is(raw, -0) ? '-0' : String(raw) };
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
    if (!mayHoldTags(parsed, data)) return parsed;
    try {
      return revive(parsed);
    } catch (cause) {
      // A RangeError too: data stored before depth limits could nest deeper than the stack allows.
      throw new DataIntegrityError('stored data holds a malformed tagged value, or nests too deep to read', {
        cause,
      });
    }
  }
}

/**
 * Whether parsed data may hold a tag: only where some key starts with '$'. The keys of a flat object
 * (most payloads: no field an object or an array) are all there is to look at, and looking at them
 * costs a third of searching the text for '"$' (0.03 against 0.09 CPU µs for a bench event: pnpm probe
 * codec.ts); nested data is told by that search. JSON.parse keeps "__proto__" as an own key, so
 * reading it reads the data, and a key enumerated from a polluted Object.prototype can only send the
 * data to the search (or to `revive`, which copies own keys only).
 */
function mayHoldTags(parsed: unknown, data: string): boolean {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return data.includes('"$');
  const record = parsed as Record<string, unknown>;
  for (const key in record) {
    if (key.charCodeAt(0) === 36 /* $ */) return true;
    const field = record[key];
    if (typeof field === 'object' && field !== null) return data.includes('"$');
  }
  return false;
}

/** JSON.stringify, with a string too long for the engine as a ValidationError. */
function stringify(value: unknown, replacer?: (this: any, key: string, value: unknown) => unknown): string {
  try {
    return JSON.stringify(value, replacer);
  } catch (cause) {
    throw new ValidationError(`data cannot be encoded as JSON: ${(cause as Error).message}`, 'data', {
      cause,
    });
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
      case '$number':
        if (typeof inner !== 'string' || !SPECIAL_NUMBERS.has(inner)) throw new Error(`bad $number ${inner}`);
        return Number(inner);
      default:
        return reviveFields(inner as Record<string, unknown>);
    }
  }
  return reviveFields(record);
}

function reviveFields(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(record)) setField(out, key, revive(record[key]));
  return out;
}

/**
 * Where a stored item sits: the cipher binds its ciphertext to it (AES-GCM associated data), so data
 * copied to another sequence, position or topic fails to decrypt.
 */
export interface StoredAt {
  readonly sequenceId: string;
  readonly position: number;
  readonly topic: string;
}

/** Ciphertexts of format 1 carry this first byte, then IV, tag and body, and are bound to StoredAt. */
const BOUND = 0x01;

/** The associated data of a ciphertext: where it is stored, unambiguously (UUIDs are stored in lower case). */
function associatedData(at: StoredAt): Buffer {
  const id = isUuid(at.sequenceId) ? at.sequenceId.toLowerCase() : at.sequenceId;
  return Buffer.from(JSON.stringify([BOUND, id, at.position, at.topic]), 'utf8');
}

export interface AesGcmCipherOptions {
  /**
   * Whether `decrypt` accepts ciphertexts written before format 1, which are bound to nothing (so one
   * moved to another row still decrypts). Default true, so existing data stays readable; set false
   * once every stored item has been written again.
   */
  acceptUnbound?: boolean;
}

/**
 * Encrypts and authenticates stored data with AES-256-GCM: a modified ciphertext fails to decrypt, and
 * so does one moved to another place (`StoredAt` is its associated data).
 *
 * Format 1: `0x01 | IV (12) | tag (16) | body`, bound to where it is stored. The earlier format,
 * `IV | tag | body`, bound to nothing, is still read (unless `acceptUnbound: false`): a ciphertext
 * starting with 0x01 is first tried as format 1, then, if it fails, as the earlier format (whose random
 * IV starts with 0x01 once in 256).
 */
export class AesGcmCipher {
  private readonly key: Buffer;
  readonly acceptUnbound: boolean;

  constructor(key: Buffer | Uint8Array | string, options: AesGcmCipherOptions = {}) {
    this.key = typeof key === 'string' ? Buffer.from(key, 'base64') : Buffer.from(key);
    if (this.key.length !== 32)
      throw new SettingsError('an AES-256-GCM key must be 32 bytes (base64 of 32 bytes)', 'key');
    this.acceptUnbound = options.acceptUnbound ?? true;
  }

  /** A fresh random key, base64-encoded. */
  static createKey(): string {
    return randomBytes(32).toString('base64');
  }

  /**
   * Encrypts `plain`. With `at` (as the mapper always passes), the ciphertext is bound to that place;
   * without it, it is written in the earlier, unbound format.
   */
  encrypt(plain: Buffer, at?: StoredAt): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    if (at !== undefined) cipher.setAAD(associatedData(at));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    const sealed = Buffer.concat([iv, cipher.getAuthTag(), body]);
    return at === undefined ? sealed : Buffer.concat([Buffer.of(BOUND), sealed]);
  }

  /** Decrypts what `encrypt` made for the same place; DataIntegrityError otherwise. */
  decrypt(sealed: Buffer, at?: StoredAt): Buffer {
    if (sealed.length < 28) throw new DataIntegrityError('encrypted data is truncated');
    if (at !== undefined && sealed[0] === BOUND && sealed.length >= 29) {
      const plain = this.open(sealed.subarray(1), associatedData(at));
      if (plain !== undefined) return plain;
    }
    if (at === undefined || this.acceptUnbound) {
      const plain = this.open(sealed, undefined);
      if (plain !== undefined) return plain;
    }
    throw new DataIntegrityError(
      at === undefined
        ? 'encrypted data failed authentication: tampered with, or the wrong key'
        : `encrypted data failed authentication at position ${at.position} of sequence ${at.sequenceId} (topic ${at.topic}): tampered with, moved from another item, or the wrong key`,
    );
  }

  private open(sealed: Buffer, aad: Buffer | undefined): Buffer | undefined {
    if (sealed.length < 28) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, 12));
      if (aad !== undefined) decipher.setAAD(aad);
      decipher.setAuthTag(sealed.subarray(12, 28));
      return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
    } catch {
      return undefined;
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
 * then base64. When a cipher is configured, unencrypted data is refused on read, and `at` (where the
 * item is stored) binds the ciphertext to its place.
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

  encode(value: unknown, at?: StoredAt): string {
    const json = this.transcoder.encode(value);
    if (!this.cipher && !this.compress) return json;
    let bytes: Buffer = Buffer.from(json, 'utf8');
    if (this.compress) bytes = deflateRawSync(bytes);
    if (this.cipher) bytes = this.cipher.encrypt(bytes, at);
    return bytes.toString('base64');
  }

  decode(data: string, at?: StoredAt): unknown {
    if (!this.cipher && !this.compress) return this.transcoder.decode(data);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data))
      throw new DataIntegrityError('stored data is not base64: expected encrypted or compressed data');
    let bytes: Buffer = Buffer.from(data, 'base64');
    if (this.cipher) bytes = this.cipher.decrypt(bytes, at);
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
