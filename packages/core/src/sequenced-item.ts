/**
 * The unit every backend stores: one event, serialised, at one position of one sequence.
 * `data` is a string (JSON, or base64 when encrypted or compressed), so that every store keeps it as text.
 */
export class SequencedItem {
  constructor(
    readonly sequenceId: string,
    readonly position: number,
    readonly topic: string,
    readonly data: string,
  ) {}
}

/**
 * An item whose `data` is not made yet: the JSON of a flat payload of primitives, which the in-memory
 * store keeps as it is and turns into a plain, frozen `SequencedItem` when it is first read. Making
 * and keeping the JSON text was half the CPU of an in-memory append (docs/benchmarks.md, Round 2d).
 *
 * It is the same item: the payload is the mapper's own copy of the event's fields, frozen here, and
 * every value is a string, a boolean, null or a finite number other than -0, with no key starting
 * with '$' (`flatPayloadBound`), so `JsonTranscoder.encode` would write exactly `JSON.stringify` of it,
 * now or later. Never handed to a user: the mapper makes one only for an EventStore over a store that
 * keeps them (`keepsDeferredItems`), and that store's reads hand out `toItem()`.
 */
export class DeferredItem {
  private text: string | undefined;
  /** Where the in-memory store's log keeps it (an index of its log, set when it is stored). */
  logIndex = -1;

  constructor(
    readonly sequenceId: string,
    readonly position: number,
    readonly topic: string,
    private readonly payload: Readonly<FlatPayload>,
    /** At least the UTF-8 bytes of `data`: checked against `maxItemBytes` without making it. */
    readonly maxBytes: number,
  ) {}

  /** The JSON text, made once (for a store that reads `data` on its way in, or for the plain item). */
  get data(): string {
    return (this.text ??= JSON.stringify(this.payload));
  }

  /** The same item under another sequence id (the strategy's canonical case of a UUID). */
  withSequenceId(sequenceId: string): DeferredItem {
    return new DeferredItem(sequenceId, this.position, this.topic, this.payload, this.maxBytes);
  }

  /** The plain item a read hands out: frozen, as the in-memory store's items are. */
  toItem(): SequencedItem {
    return Object.freeze(new SequencedItem(this.sequenceId, this.position, this.topic, this.data));
  }
}

/** A value JSON holds exactly as it is, with no tag: see `flatPayloadBound`. */
export type FlatValue = string | boolean | number | null;
/** A payload `flatPayloadBound` accepted. */
export type FlatPayload = Record<string, FlatValue | undefined>;

/** UTF-8 bytes a JSON string takes per UTF-16 code unit, at most (`\u001f`, or a lone surrogate's escape). */
const BYTES_PER_UNIT = 6;
/** A string JSON writes as it is, one UTF-8 byte per character. */
const VERBATIM = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
/**
 * The largest bound deferred: JSON's bytes are at least its UTF-16 units, so a deferred text stays far
 * below V8's longest string (2^29 - 24 units), and a payload that could reach it is encoded at once,
 * where JsonTranscoder turns JSON's RangeError into a ValidationError before anything is stored.
 */
const MAX_DEFERRED_BYTES = 2 ** 28;
/** Characters of the longest JSON number (`-0.0000012345678901234567` is 25), with room to spare. */
const NUMBER_BYTES = 32;

/**
 * For a payload whose JSON `JsonTranscoder` writes without tags and whose fields are all primitives
 * (strings, booleans, null, finite numbers but -0; an undefined field is left out, as JSON does; no key
 * starting with '$'): at least the UTF-8 bytes of that JSON, counted without making it (a string of
 * printable ASCII exactly, any other at 6 bytes per code unit, the most an escape takes). Otherwise undefined: the payload is encoded as
 * usual, which also refuses what JSON cannot store, exactly as before.
 */
export function flatPayloadBound(payload: Record<string, unknown>): number | undefined {
  let bytes = 2; // {}
  for (const key in payload) {
    const value = payload[key];
    let size: number;
    switch (typeof value) {
      case 'string':
        // Printable ASCII but `"` and `\`: one byte each. The test also flattens a rope (what `+`,
        // `padEnd` or a template build, on V8), so the store keeps one string, not its tree: kept
        // trees cost the collector more than the JSON text they save (docs/benchmarks.md, Round 2e).
        size = 2 + (VERBATIM.test(value) ? value.length : value.length * BYTES_PER_UNIT);
        break;
      case 'number':
        if (!Number.isFinite(value) || Object.is(value, -0)) return undefined;
        size = NUMBER_BYTES;
        break;
      case 'boolean':
        size = 5;
        break;
      case 'undefined':
        continue;
      case 'object':
        if (value !== null) return undefined;
        size = 4;
        break;
      default:
        return undefined;
    }
    if (key.charCodeAt(0) === 36 /* $ */) return undefined;
    // "key": and a comma
    bytes += 4 + key.length * BYTES_PER_UNIT + size;
  }
  return bytes > MAX_DEFERRED_BYTES ? undefined : bytes;
}

/**
 * The property of a strategy that keeps deferred items as they are (the in-memory one, unless a subclass
 * changed how it stores): an EventStore over it asks its mapper for them.
 */
export const keepsDeferredItems: unique symbol = Symbol('keepsDeferredItems');

/** The same four fields under the names of the seed's stored-event variant. */
export class StoredEvent {
  constructor(
    readonly originatorId: string,
    readonly originatorVersion: number,
    readonly topic: string,
    readonly state: string,
  ) {}
}

/** A class of sequenced items: its constructor takes the four fields in the canonical order. */
export type SequencedItemClass<I = SequencedItem> = new (
  sequenceId: string,
  position: number,
  topic: string,
  data: string,
) => I;

/** Converts between a sequenced-item class and the canonical `SequencedItem` fields. */
export class ItemShape<I> {
  private readonly names: readonly [string, string, string, string];

  constructor(readonly itemClass: SequencedItemClass<I>) {
    this.names =
      itemClass === (StoredEvent as unknown)
        ? ['originatorId', 'originatorVersion', 'topic', 'state']
        : ['sequenceId', 'position', 'topic', 'data'];
  }

  get isCanonical(): boolean {
    return this.names[0] === 'sequenceId';
  }

  toCanonical(item: I): SequencedItem {
    // A non-object passes through for the strategy's validation to refuse with a ValidationError.
    if (
      item instanceof SequencedItem ||
      item instanceof DeferredItem ||
      item === null ||
      typeof item !== 'object'
    )
      return item as SequencedItem;
    const r = item as Record<string, unknown>;
    const [s, p, t, d] = this.names;
    return new SequencedItem(r[s] as string, r[p] as number, r[t] as string, r[d] as string);
  }

  fromCanonical(item: SequencedItem): I {
    if (this.itemClass === (SequencedItem as unknown)) return item as I;
    return new this.itemClass(item.sequenceId, item.position, item.topic, item.data);
  }

  /** The same for a list the caller owns: returned as it is when the class is SequencedItem itself. */
  fromCanonicalList(items: SequencedItem[]): I[] {
    if (this.itemClass === (SequencedItem as unknown)) return items as I[];
    return items.map((item) => this.fromCanonical(item));
  }
}

/** A sequenced item in the application-wide log, with its notification id. */
export interface Notification {
  readonly id: number;
  readonly sequenceId: string;
  readonly position: number;
  readonly topic: string;
  readonly data: string;
}
