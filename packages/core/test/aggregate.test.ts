import { z } from 'zod';
import {
  Aggregate,
  EventSchemaError,
  EventSourcedRepository,
  EventStore,
  type EventOf,
  InMemoryActiveRecordStrategy,
  NotFoundError,
  OriginatorError,
  SequencedItemMapper,
  SettingsError,
  TopicRegistry,
  registerAggregate,
  withCausation,
} from '../src/index.js';
import { uuid } from './fixtures.js';

type AccountEvents = {
  Opened: { owner: string };
  Deposited: { amount: number };
  Withdrawn: { amount: number };
};

class Account extends Aggregate<AccountEvents> {
  static readonly topic = 'test.Account';
  static readonly schemas = { Deposited: z.object({ amount: z.number().positive() }) };
  owner = '';
  balance = 0;
  history: number[] = [];

  static open(owner: string): Account {
    return Account.create('Opened', { owner });
  }
  deposit(amount: number): void {
    this.trigger('Deposited', { amount });
  }
  withdraw(amount: number): void {
    if (amount > this.balance) throw new Error('insufficient funds');
    this.trigger('Withdrawn', { amount });
  }
  protected apply(event: EventOf<AccountEvents>): void {
    switch (event.type) {
      case 'Opened':
        this.owner = event.owner;
        break;
      case 'Deposited':
        this.balance += event.amount;
        this.history.push(event.amount);
        break;
      case 'Withdrawn':
        this.balance -= event.amount;
        this.history.push(-event.amount);
        break;
      default: {
        const unknown: never = event;
        throw new Error(`unknown event ${String(unknown)}`);
      }
    }
  }
}

class Dog extends Aggregate<{ Registered: { name: string } }> {
  static readonly topic = 'test.Dog';
  name = '';
  protected apply(event: EventOf<{ Registered: { name: string } }>): void {
    this.name = event.name;
  }
}

function wiring() {
  const topics = new TopicRegistry();
  registerAggregate(Account, undefined, topics);
  registerAggregate(Dog, undefined, topics);
  const strategy = new InMemoryActiveRecordStrategy();
  const eventStore = new EventStore({
    activeRecordStrategy: strategy,
    sequencedItemMapper: new SequencedItemMapper({ topics }),
  });
  return { strategy, eventStore, accounts: new EventSourcedRepository({ eventStore, entity: Account }) };
}

describe('Aggregate', () => {
  it('records typed events, applies them, and keeps them pending until saved', () => {
    const account = Account.open('Ada');
    account.deposit(10);
    account.withdraw(3);
    expect([account.owner, account.balance, account.version]).toEqual(['Ada', 7, 3]);
    expect(account.pendingEvents.map((e) => [e.type, e.originatorVersion])).toEqual([
      ['Opened', 0],
      ['Deposited', 1],
      ['Withdrawn', 2],
    ]);
    expect(account.pendingEvents[1]).toMatchObject({ amount: 10, originatorId: account.id });
    expect(account.pendingEvents.every((e) => typeof e.eventId === 'string')).toBe(true);
    expect(Object.isFrozen(account.pendingEvents[0])).toBe(true);
    expect(account.createdOn).toBeInstanceOf(Date);
  });

  it('is saved, then rebuilt by a repository typed by its class', async () => {
    const { eventStore, accounts, strategy } = wiring();
    const account = Account.open('Ada');
    account.deposit(10);
    await accounts.save(account);
    expect(account.pendingEvents).toHaveLength(0);
    const items = await strategy.getItems(account.id);
    expect(items.map((i) => i.topic)).toEqual(['test.Account.Opened', 'test.Account.Deposited']);
    expect(JSON.parse(items[1]!.data)).not.toHaveProperty('type');
    const copy = await accounts.get(account.id);
    expect(copy).toBeInstanceOf(Account);
    expect([copy.owner, copy.balance, copy.version, copy.history]).toEqual(['Ada', 10, 2, [10]]);
    copy.deposit(5);
    await accounts.save(copy);
    expect((await accounts.get(account.id)).balance).toBe(15);
    const [first] = await eventStore.getDomainEvents(account.id);
    expect(first).toMatchObject({ type: 'Opened', owner: 'Ada', originatorVersion: 0 });
  });

  it('refuses to rebuild another class from its events: has() is false, get() is NotFoundError', async () => {
    const { eventStore, accounts } = wiring();
    const dog = Dog.create('Registered', { name: 'Fido' });
    await new EventSourcedRepository({ eventStore, entity: Dog }).save(dog);
    await expect(accounts.has(dog.id)).resolves.toBe(false);
    await expect(accounts.get(dog.id)).rejects.toThrow(NotFoundError);
  });

  it('checks payloads against the class schemas when recorded: nothing is applied on failure', () => {
    const account = Account.open('Ada');
    expect(() => account.deposit(-1)).toThrow(EventSchemaError);
    expect([account.balance, account.version, account.pendingEvents.length]).toEqual([0, 1, 1]);
  });

  it('a concurrent save of the same aggregate is a ConcurrencyError and writes nothing', async () => {
    const { accounts } = wiring();
    const account = Account.open('Ada');
    await accounts.save(account);
    const a = await accounts.get(account.id);
    const b = await accounts.get(account.id);
    a.deposit(1);
    b.deposit(2);
    await accounts.save(a);
    await expect(accounts.save(b)).rejects.toMatchObject({ name: 'ConcurrencyError' });
    expect((await accounts.get(account.id)).balance).toBe(1);
  });

  it('must be made with create(), not new', () => {
    expect(() => new Dog()['trigger']('Registered', { name: 'x' })).toThrow(OriginatorError);
  });

  it('needs a topic to be registered', () => {
    class Nameless extends Aggregate<{ A: object }> {
      protected apply(): void {}
    }
    expect(() => registerAggregate(Nameless)).toThrow(SettingsError);
  });

  it('carries the causation context into its events', () => {
    const account = withCausation({ correlationId: 'story', causationId: 'command-1' }, () =>
      Account.open('Ada'),
    );
    expect(account.pendingEvents[0]).toMatchObject({ correlationId: 'story', causationId: 'command-1' });
    account.deposit(1);
    expect(account.pendingEvents[1]!.correlationId).toBeUndefined();
  });

  it('is snapshotted and restored from its own fields', () => {
    const account = Account.open('Ada');
    account.deposit(4);
    const state = account.toState();
    expect(state.attributes).toEqual({ owner: 'Ada', balance: 4, history: [4] });
    const copy = Account.fromState(state);
    expect([copy.id, copy.version, copy.balance]).toEqual([account.id, 2, 4]);
    copy.deposit(1);
    expect(copy.pendingEvents[0]!.originatorVersion).toBe(2);
  });

  it('ids are UUIDs', () => {
    expect(() => Account.create('Opened', { owner: 'x' }, { id: 'nope' })).toThrow('UUID');
    const id = uuid();
    expect(Account.create('Opened', { owner: 'x' }, { id }).id).toBe(id);
  });
});
