/**
 * python eventsourcing's example system (orders -> reservations -> payments -> orders), for the test
 * that runs each application in a process of its own (system-processes.test.ts). Run as a script it is
 * one application over its own SQLite file, following the others' files: `orders-system.ts <name> <dir>`.
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
  status = '';
  protected apply(event: EventOf<OrderEvents>): void {
    this.status = event.type;
  }
  advance(): void {
    if (this.status === 'Created') this.trigger('Reserved', {});
    else if (this.status === 'Reserved') this.trigger('Paid', {});
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
  protected async policy(event: DomainEvent): Promise<void> {
    const e = event as Any;
    if (e.type !== 'Created' || e.orderId === undefined) return;
    const order = await this.get(Order, e.orderId);
    order.advance();
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
export const classes = { orders: Orders, reservations: Reservations, payments: Payments } as const;
export const aggregates = [Order, Reservation, Payment];
export const urlOf = (directory: string, name: string): string => `sqlite:${directory}/${name}.db`;

export async function openApplication(
  name: keyof typeof classes,
  directory: string,
): Promise<ProcessApplication> {
  const store = await openStore(urlOf(directory, name), { createTables: true });
  return new classes[name]({ store, aggregates, name });
}

async function main(): Promise<void> {
  const [name, directory] = process.argv.slice(2) as [keyof typeof classes, string];
  const app = await openApplication(name, directory);
  const following: Promise<void>[] = [];
  for (const upstream of system.follows(name)) {
    // The upstream's own store, opened here: this process reads its log.
    const store = await openStore(urlOf(directory, upstream), { createTables: true });
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
