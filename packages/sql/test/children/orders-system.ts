/**
 * python eventsourcing's example system (orders -> reservations -> payments -> orders), for the test
 * that runs each application in a process of its own (system-processes.test.ts). Run as a script it is
 * one application over its own store, following the others' stores:
 * `orders-system.ts <name> <layout as JSON> [--pause-at N]`, where the layout gives each application's
 * URL and table prefix. `--pause-at N` stops inside the transaction of the N-th notification it
 * processes (its tracking row written, its events not yet), says `paused N`, and waits to be killed.
 */
import {
  Aggregate,
  type DomainEvent,
  type EventOf,
  ProcessApplication,
  System,
  withCausation,
} from '@es/core';
import { openStore } from '../../src/index.js';

type OrderEvents = {
  Created: { item: string };
  Reserved: Record<string, never>;
  Paid: Record<string, never>;
};
export class Order extends Aggregate<OrderEvents> {
  static readonly topic = 'test.processes.Order';
  reserved = false;
  paid = false;
  protected apply(event: EventOf<OrderEvents>): void {
    if (event.type === 'Reserved') this.reserved = true;
    if (event.type === 'Paid') this.paid = true;
  }
  // Unguarded on purpose: a notification processed twice would record its consequence twice.
  reserve(): void {
    this.trigger('Reserved', {});
  }
  pay(): void {
    this.trigger('Paid', {});
  }
}
type RelatedEvents = { Created: { orderId: string } };
export class Reservation extends Aggregate<RelatedEvents> {
  static readonly topic = 'test.processes.Reservation';
  protected apply(): void {}
}
export class Payment extends Aggregate<RelatedEvents> {
  static readonly topic = 'test.processes.Payment';
  protected apply(): void {}
}
type Any = DomainEvent & { type?: string; originatorId: string; orderId?: string };

export class Orders extends ProcessApplication {
  createOrder(item: string, commandId: string): Promise<string> {
    return withCausation({ correlationId: commandId, causationId: commandId }, async () => {
      const order = Order.create('Created', { item });
      await this.save(order);
      return order.id;
    });
  }
  // Reserved and Paid by upstream, not by the order's state: the two upstream logs are followed
  // independently, so a payment may be seen before its reservation.
  protected async policy(event: DomainEvent, { upstream }: { upstream: string }): Promise<void> {
    const e = event as Any;
    if (e.type !== 'Created' || e.orderId === undefined) return;
    const order = await this.get(Order, e.orderId);
    if (upstream === 'reservations') order.reserve();
    else order.pay();
    await this.save(order);
  }
}
export class Reservations extends ProcessApplication {
  protected async policy(event: DomainEvent): Promise<void> {
    const e = event as Any;
    if (e.type === 'Created' && e.orderId === undefined && 'item' in e)
      await this.save(Reservation.create('Created', { orderId: e.originatorId }));
  }
}
export class Payments extends ProcessApplication {
  protected async policy(event: DomainEvent): Promise<void> {
    const e = event as Any;
    if (e.type === 'Created' && e.orderId !== undefined)
      await this.save(Payment.create('Created', { orderId: e.orderId }));
  }
}

export const system = new System([
  ['orders', 'reservations', 'orders'],
  ['reservations', 'payments', 'orders'],
]);
/**
 * Which upstream events an application's policy answers with one event of its own (the policies above,
 * restated for the test that checks nothing was lost or repeated).
 */
export function reactsTo(follower: string, upstream: string, event: DomainEvent): boolean {
  const e = event as Any;
  if (e.type !== 'Created') return false;
  if (follower === 'reservations') return e.orderId === undefined;
  return upstream !== 'orders' && e.orderId !== undefined;
}

export const classes = { orders: Orders, reservations: Reservations, payments: Payments } as const;
export type AppName = keyof typeof classes;
export const aggregates = [Order, Reservation, Payment];

/** Where each application keeps its store: a URL, and a prefix for its three tables' names. */
export type Layout = Record<AppName, { url: string; prefix: string }>;

export function openStoreOf(layout: Layout, name: AppName): ReturnType<typeof openStore> {
  const { url, prefix } = layout[name];
  return openStore(url, {
    createTables: true,
    tableNames: {
      events: `${prefix}_events`,
      snapshots: `${prefix}_snapshots`,
      tracking: `${prefix}_tracking`,
    },
  });
}

export async function openApplication(
  name: AppName,
  layout: Layout,
  pauseAt = Infinity,
): Promise<ProcessApplication> {
  const store = await openStoreOf(layout, name);
  let processed = 0;
  const events = new Proxy(store.events, {
    get(target, key) {
      if (key !== 'processWithTracking') return Reflect.get(target, key, target);
      return ((tracking, run, options) =>
        target.processWithTracking(
          tracking,
          async (trx) => {
            if (++processed === pauseAt) {
              process.stdout.write(`paused ${processed}\n`);
              // Wait to be killed. A timer keeps the process alive: a pending promise alone does not, and
              // over SQLite (no socket open) the process would exit 0 here instead of being killed.
              await new Promise(() => setInterval(() => undefined, 60_000));
            }
            return run(trx);
          },
          options,
        )) satisfies typeof target.processWithTracking;
    },
  });
  // The application closes the store on close().
  return new classes[name]({ store: { ...store, events }, aggregates, name });
}

async function main(): Promise<void> {
  const [name, layoutJson, mode, at] = process.argv.slice(2) as [AppName, string, string?, string?];
  const layout = JSON.parse(layoutJson) as Layout;
  const app = await openApplication(name, layout, mode === '--pause-at' ? Number(at) : Infinity);
  const following: Promise<void>[] = [];
  for (const upstream of system.follows(name)) {
    // The upstream's own store, opened here: this process reads its log.
    const store = await openStoreOf(layout, upstream as AppName);
    const mapper = app.eventStore.sequencedItemMapper;
    following.push(
      app.follow(upstream, { store: store.events, mapper }, { pollIntervalMs: 20, maxPollIntervalMs: 100 }),
    );
  }
  process.stdout.write('following\n');
  await Promise.all(following);
}

if (process.argv[1]?.endsWith('orders-system.ts')) {
  main().catch((error: unknown) => {
    process.stderr.write(`${String((error as Error)?.stack ?? error)}\n`);
    process.exit(1);
  });
}
