import { type Event, type EventStore, CommandHandler } from '@event-driven-io/emmett';
import { getSQLiteEventStore } from '@event-driven-io/emmett-sqlite';
import { randomUUID } from 'node:crypto';

type Opened = Event<'Opened', { owner: string }>;
type ItemAdded = Event<'ItemAdded', { sku: string; price: number }>;
type CartEvent = Opened | ItemAdded;
type Cart = { owner: string; total: number };

const initialState = (): Cart => ({ owner: '', total: 0 });
const evolve = (state: Cart, { type, data }: CartEvent): Cart =>
  type === 'Opened' ? { ...state, owner: data.owner } : { ...state, total: state.total + data.price };

const handle = CommandHandler({ evolve, initialState });

export async function firstApp(fileName: string): Promise<{ owner: string; total: number }> {
  const eventStore: EventStore = getSQLiteEventStore({
    fileName,
    schema: { autoMigration: 'CreateOrUpdate' },
  });
  const id = `cart-${randomUUID()}`;
  await handle(eventStore, id, () => ({ type: 'Opened', data: { owner: 'Ada' } }) satisfies Opened);
  await handle(
    eventStore,
    id,
    () => ({ type: 'ItemAdded', data: { sku: 'book', price: 12 } }) satisfies ItemAdded,
  );
  const { state } = await eventStore.aggregateStream(id, { evolve, initialState });
  return state;
}
