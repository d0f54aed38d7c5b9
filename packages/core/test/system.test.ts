import { randomUUID } from 'node:crypto';
import {
  Aggregate,
  Application,
  type DomainEvent,
  type EventOf,
  ProcessApplication,
  System,
  SystemRunner,
  ValidationError,
  memoryStore,
  withCausation,
} from '../src/index.js';

// python eventsourcing's example system: orders -> reservations -> payments, and back to orders.
type OrderEvents = {
  Created: { item: string };
  Reserved: Record<string, never>;
  Paid: Record<string, never>;
};
class Order extends Aggregate<OrderEvents> {
  static readonly topic = 'test.system.Order';
  status = '';
  reserve(): void {
    this.trigger('Reserved', {});
  }
  pay(): void {
    this.trigger('Paid', {});
  }
  protected apply(event: EventOf<OrderEvents>): void {
    this.status = event.type;
  }
}
type ReservationEvents = { Created: { orderId: string } };
class Reservation extends Aggregate<ReservationEvents> {
  static readonly topic = 'test.system.Reservation';
  orderId = '';
  protected apply(event: EventOf<ReservationEvents>): void {
    this.orderId = event.orderId;
  }
}
type PaymentEvents = { Created: { orderId: string } };
class Payment extends Aggregate<PaymentEvents> {
  static readonly topic = 'test.system.Payment';
  orderId = '';
  protected apply(event: EventOf<PaymentEvents>): void {
    this.orderId = event.orderId;
  }
}
type Any = DomainEvent & { type?: string; originatorId: string; orderId?: string };

class Orders extends ProcessApplication {
  /** A command: the story starts here, with the command's id as correlation and first cause. */
  async createOrder(item: string, commandId: string = randomUUID()): Promise<string> {
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
    if (order.status === 'Created') order.reserve();
    else if (order.status === 'Reserved') order.pay();
    await this.save(order);
  }
}
class Reservations extends ProcessApplication {
  protected async policy(event: DomainEvent): Promise<void> {
    const e = event as Any;
    if (e.type === 'Created' && e.orderId === undefined)
      await this.save(Reservation.create('Created', { orderId: e.originatorId }));
  }
}
class Payments extends ProcessApplication {
  protected async policy(event: DomainEvent): Promise<void> {
    const e = event as Any;
    if (e.type === 'Created' && e.orderId !== undefined)
      await this.save(Payment.create('Created', { orderId: e.orderId }));
  }
}

const system = new System([
  ['orders', 'reservations', 'orders'],
  ['reservations', 'payments', 'orders'],
]);

async function openApps() {
  const aggregates = [Order, Reservation, Payment];
  return {
    orders: new Orders({ store: memoryStore(), aggregates, name: 'orders' }),
    reservations: new Reservations({ store: memoryStore(), aggregates, name: 'reservations' }),
    payments: new Payments({ store: memoryStore(), aggregates, name: 'payments' }),
  };
}

async function allEvents(app: Application<any>): Promise<Any[]> {
  const events: Any[] = [];
  for await (const { event } of app.notificationLog!.readEvents()) events.push(event as Any);
  return events;
}

describe('a system of process applications', () => {
  it('declares who follows whom from pipes, cycles included', () => {
    expect(system.follows('orders')).toEqual(['reservations', 'payments']);
    expect(system.follows('reservations')).toEqual(['orders']);
    expect(system.follows('payments')).toEqual(['reservations']);
    expect(() => new System([['a']])).toThrow(ValidationError);
    expect(() => new System([['a', 'a']])).toThrow(ValidationError);
  });

  it('runs orders -> reservations -> payments in one process; every causation chain leads back to the command', async () => {
    const apps = await openApps();
    await using runner = new SystemRunner(system, apps).start();
    const commands = [randomUUID(), randomUUID()];
    const ids = [
      await apps.orders.createOrder('book', commands[0]),
      await apps.orders.createOrder('pen', commands[1]),
    ];
    await runner.whenSettled();
    for (const id of ids) expect((await apps.orders.get(Order, id)).status).toBe('Paid');
    const everything = [
      ...(await allEvents(apps.orders)),
      ...(await allEvents(apps.reservations)),
      ...(await allEvents(apps.payments)),
    ];
    expect(everything).toHaveLength(2 * 5);
    const byId = new Map(everything.map((e) => [e.eventId!, e]));
    for (const event of everything) {
      // Causes lead from event to event, across the three applications, back to the command.
      let cause: Any = event;
      let steps = 0;
      while (byId.has(cause.causationId!)) {
        cause = byId.get(cause.causationId!)!;
        steps += 1;
      }
      expect(cause.type).toBe('Created');
      const command = commands[ids.indexOf(cause.originatorId)];
      expect(cause.causationId).toBe(command);
      expect(event.correlationId).toBe(command);
      expect(steps).toBeLessThanOrEqual(4);
    }
    // The story of one order: Created <- Reservation <- Reserved, Payment <- Paid: Paid is four causes away.
    const paid = everything.find((e) => e.type === 'Paid' && e.originatorId === ids[0])!;
    let depth = 0;
    for (let e: Any | undefined = paid; byId.has(e!.causationId!); e = byId.get(e!.causationId!)) depth += 1;
    expect(depth).toBe(3);
    for (const app of Object.values(apps)) await app.close();
  });

  it('a process application restarted over its store resumes: nothing repeated', async () => {
    const apps = await openApps();
    const first = new SystemRunner(system, apps).start();
    const id = await apps.orders.createOrder('cup');
    await first.whenSettled();
    await first.stop();
    const again = new SystemRunner(system, apps).start();
    await again.whenSettled();
    await again.stop();
    expect((await allEvents(apps.reservations)).filter((e) => (e as Any).orderId === id)).toHaveLength(1);
    expect((await apps.orders.get(Order, id)).version).toBe(3);
  });

  it('an old stored event without metadata still decodes and is processed; its consequences carry no story', async () => {
    const apps = await openApps();
    const id = randomUUID();
    // An Order Created stored before events had ids: no eventId, correlationId or causationId in its data.
    const mapper = apps.orders.eventStore.sequencedItemMapper;
    const fresh = mapper.toSequencedItem(
      Order.create('Created', { item: 'old' }, { id }).pendingEvents[0] as never,
    );
    const data = JSON.parse(fresh.data) as Record<string, unknown>;
    delete data.eventId;
    delete data.correlationId;
    delete data.causationId;
    await apps.orders.eventStore.activeRecordStrategy.append({
      ...fresh,
      data: JSON.stringify(data),
    } as never);
    await using runner = new SystemRunner(system, apps).start();
    await runner.whenSettled();
    expect((await apps.orders.get(Order, id)).status).toBe('Paid');
    const reservation = (await allEvents(apps.reservations)).find((e) => e.orderId === id)!;
    expect(reservation.eventId).toBeDefined();
    expect([reservation.correlationId, reservation.causationId]).toEqual([undefined, undefined]);
  });

  it('refuses a follower that is no process application, and an application missing', () => {
    const plain = new Application({ store: memoryStore() });
    expect(
      () => new SystemRunner(system, { orders: plain, reservations: plain, payments: plain } as never),
    ).toThrow(ValidationError);
    expect(() => new SystemRunner(system, {} as never)).toThrow(ValidationError);
  });
});
