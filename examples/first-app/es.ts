import { Aggregate, Application, type EventOf } from '@es/core';

type CartEvents = { Opened: { owner: string }; ItemAdded: { sku: string; price: number } };

export class Cart extends Aggregate<CartEvents> {
  static readonly topic = 'shop.Cart';
  owner = '';
  total = 0;
  add(sku: string, price: number) {
    this.trigger('ItemAdded', { sku, price });
  }
  protected apply(event: EventOf<CartEvents>) {
    if (event.type === 'Opened') this.owner = event.owner;
    else this.total += event.price;
  }
}

export async function firstApp(url: string): Promise<{ owner: string; total: number }> {
  await using app = await Application.open({ store: url, aggregates: [Cart], createTables: true });
  const cart = Cart.create('Opened', { owner: 'Ada' });
  cart.add('book', 12);
  await app.save(cart);
  return await app.get(Cart, cart.id);
}
