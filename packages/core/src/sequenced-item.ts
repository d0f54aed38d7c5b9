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
    if (item instanceof SequencedItem || item === null || typeof item !== 'object')
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

/**
 * A notification that is itself the sequenced item: what the built-in strategies' `selectNotifications`
 * give, so that a log reader hands it to the mapper as it is, with no item copied from it per row.
 */
export class NotificationItem extends SequencedItem implements Notification {
  constructor(
    readonly id: number,
    sequenceId: string,
    position: number,
    topic: string,
    data: string,
  ) {
    super(sequenceId, position, topic, data);
  }
}

/** The notification as a sequenced item: itself when it is one, else its four fields copied into one. */
export function notificationItem(n: Notification): SequencedItem {
  return n instanceof SequencedItem ? n : new SequencedItem(n.sequenceId, n.position, n.topic, n.data);
}
