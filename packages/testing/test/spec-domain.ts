import {
  Aggregate,
  type EventOf,
  TimestampedVersionedEntity,
  ValidationError,
  registerEntity,
} from '@es/core';

/** The domain the given/when/then tests use, under jest and under node:test alike. */
export type AccountEvents = {
  Opened: { owner: string };
  Deposited: { amount: number };
  Closed: { reason?: string };
};

export class Account extends Aggregate<AccountEvents> {
  static readonly topic = 'testing.spec.Account';
  owner = '';
  balance = 0;
  closed = false;
  deposit(amount: number): void {
    if (this.closed) throw new ValidationError('the account is closed', 'amount');
    if (amount <= 0) throw new ValidationError('a deposit is positive', 'amount');
    this.trigger('Deposited', { amount });
  }
  close(): void {
    this.trigger('Closed', {});
  }
  protected apply(event: EventOf<AccountEvents>): void {
    switch (event.type) {
      case 'Opened':
        this.owner = event.owner;
        break;
      case 'Deposited':
        this.balance += event.amount;
        break;
      case 'Closed':
        this.closed = true;
        break;
    }
  }
}

export class Note extends TimestampedVersionedEntity<{ text: string }> {
  get text(): string {
    return this.getAttribute('text');
  }
  set text(value: string) {
    this.changeAttribute('text', value);
  }
}
registerEntity('testing.spec.Note', Note);
