/**
 * Type-level tests: `pnpm typecheck` compiles this file. Each `@ts-expect-error` line must fail to
 * compile; if a change makes one compile, the typecheck fails ("unused @ts-expect-error").
 */
import { z } from 'zod';
import {
  Aggregate,
  EventSourcedRepository,
  EventStore,
  type EventOf,
  type EventSchemas,
  InMemoryActiveRecordStrategy,
  SequencedItemMapper,
  TimestampedVersionedEntity,
  VersionedEntityEvent,
  withPayload,
} from '../../src/index.js';

type AccountEvents = { Opened: { owner: string }; Deposited: { amount: number } };

export class Account extends Aggregate<AccountEvents> {
  static readonly topic = 'types.Account';
  owner = '';
  balance = 0;
  deposit(amount: number): void {
    this.trigger('Deposited', { amount });
  }
  mistakes(): void {
    // @ts-expect-error a misspelt payload field
    this.trigger('Deposited', { amout: 5 });
    // @ts-expect-error a payload of the wrong type
    this.trigger('Deposited', { amount: '5' });
    // @ts-expect-error an event the map does not have
    this.trigger('Withdrawn', { amount: 5 });
  }
  protected apply(event: EventOf<AccountEvents>): void {
    switch (event.type) {
      case 'Opened':
        this.owner = event.owner;
        break;
      case 'Deposited':
        this.balance += event.amount;
        // @ts-expect-error narrowed: a Deposited event has no owner
        this.owner = event.owner;
        break;
      default: {
        const exhaustive: never = event;
        throw new Error(String(exhaustive));
      }
    }
  }
}

class Incomplete extends Aggregate<AccountEvents> {
  static readonly topic = 'types.Incomplete';
  protected apply(event: EventOf<AccountEvents>): void {
    switch (event.type) {
      case 'Opened':
        break;
      default: {
        // @ts-expect-error the switch misses Deposited, so the default is reachable
        const exhaustive: never = event;
        throw new Error(String(exhaustive));
      }
    }
  }
}
void Incomplete;

const account: Account = Account.create('Opened', { owner: 'Ada' });
void account;
// @ts-expect-error create with the wrong payload
Account.create('Opened', { owner: 1 });
// @ts-expect-error create with an event the map does not have
Account.create('Closed', {});

const eventStore = new EventStore({
  activeRecordStrategy: new InMemoryActiveRecordStrategy(),
  sequencedItemMapper: new SequencedItemMapper(),
});
const accounts = new EventSourcedRepository({ eventStore, entity: Account });
export async function repositoryIsTyped(): Promise<void> {
  const loaded = await accounts.get('id');
  const balance: number = loaded.balance;
  void balance;
  // @ts-expect-error get() is an Account, not any
  const wrong: string = loaded.balance;
  void wrong;
  // @ts-expect-error a repository of Accounts does not save Examples
  await accounts.save(Example.create({ foo: 'x' }));
}

class Example extends TimestampedVersionedEntity<{ foo: string; count: number }> {
  get foo(): string {
    return this.getAttribute('foo');
  }
  set foo(value: string) {
    this.changeAttribute('foo', value);
  }
  mistakes(): void {
    // @ts-expect-error an attribute the entity does not have
    this.getAttribute('bar');
    // @ts-expect-error a value of the wrong type
    this.changeAttribute('count', 'one');
  }
}
const example: Example = Example.create({ foo: 'bar1' });
void example;
// @ts-expect-error create with an attribute of the wrong type
Example.create({ foo: 1 });
const examples = new EventSourcedRepository({ eventStore, entity: Example });
export async function entityRepositoryIsTyped(): Promise<string> {
  return (await examples.get('id')).foo;
}

class Deposited extends withPayload<{ amount: number }>()(VersionedEntityEvent) {}
const deposited = new Deposited({ originatorId: 'id', originatorVersion: 1, amount: 5 });
const amount: number = deposited.amount;
void amount;
// @ts-expect-error a misspelt payload field
new Deposited({ originatorId: 'id', originatorVersion: 1, amout: 5 });
// @ts-expect-error the originator version is required for a versioned entity's event
new Deposited({ originatorId: 'id', amount: 5 });

// zod schemas fit an aggregate's schemas by their payload type, though @es/core does not depend on zod.
export class CheckedAccount extends Aggregate<AccountEvents> {
  static readonly topic = 'types.CheckedAccount';
  static readonly schemas: EventSchemas<AccountEvents> = {
    Opened: z.object({ owner: z.string().min(1) }),
    // @ts-expect-error a schema whose payload type is not the event's
    Deposited: z.object({ amount: z.string() }),
  };
  protected apply(): void {}
}

// The seed's wiring, `mutator: Example.mutate`, without a type argument: the repository holds entities
// (not `any`), so a misspelt member is an error; with the type argument, the class's own members.
const byMutator = new EventSourcedRepository({ eventStore, mutator: Example.mutate });
const byAggregateMutator = new EventSourcedRepository({ eventStore, mutator: Account.mutate });
const typedByMutator = new EventSourcedRepository<Example>({ eventStore, mutator: Example.mutate });
export async function mutatorRepositoriesAreNotAny(id: string): Promise<void> {
  // @ts-expect-error DomainEntity has no member 'nothing' (with Mutator<any> this compiled)
  void (await byMutator.get(id)).nothing;
  // @ts-expect-error Aggregate has no member 'nothing'
  void (await byAggregateMutator.get(id)).nothing;
  const example: Example = await typedByMutator.get(id);
  void example;
}
