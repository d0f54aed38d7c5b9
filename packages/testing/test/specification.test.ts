import { AssertionError } from 'node:assert';
import { ValidationError } from '@es/core';
import { given, givenEntity } from '../src/specification.js';
import { Account, Note } from './spec-domain.js';

describe('given/when/then for aggregates', () => {
  it('passes when the command records the expected events, and resolves to the aggregate', async () => {
    const account = await given(Account, { type: 'Opened', owner: 'Ada' }, { type: 'Deposited', amount: 2 })
      .when((a) => a.deposit(5))
      .thenEvents([{ type: 'Deposited', amount: 5 }]);
    expect(account.balance).toBe(7);
    expect(account.version).toBe(3);
  });

  it('creates the aggregate in the command when there is no history', async () => {
    await given(Account)
      .when(() => Account.create('Opened', { owner: 'Ada' }))
      .thenEvents([{ type: 'Opened', owner: 'Ada' }]);
  });

  it('fails with an AssertionError showing both sides when the events differ', async () => {
    const failure = await given(Account, { type: 'Opened', owner: 'Ada' })
      .when((a) => a.deposit(5))
      .thenEvents([{ type: 'Deposited', amount: 6 }])
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AssertionError);
    expect((failure as AssertionError).actual).toEqual([{ type: 'Deposited', amount: 5 }]);
    expect((failure as AssertionError).expected).toEqual([{ type: 'Deposited', amount: 6 }]);
  });

  it('thenThrows checks the error by class, message or predicate, and fails when nothing is thrown', async () => {
    const closed = given(Account, { type: 'Opened', owner: 'Ada' }, { type: 'Closed' });
    await closed.when((a) => a.deposit(5)).thenThrows(ValidationError);
    await closed.when((a) => a.deposit(5)).thenThrows(/is closed/);
    await closed.when((a) => a.deposit(5)).thenThrows((e) => (e as ValidationError).field === 'amount');
    await expect(closed.when((a) => a.deposit(5)).thenThrows(TypeError)).rejects.toBeInstanceOf(
      AssertionError,
    );
    await expect(
      given(Account, { type: 'Opened', owner: 'Ada' })
        .when((a) => a.deposit(5))
        .thenThrows(),
    ).rejects.toThrow(/expected the command to throw, but it recorded/);
  });

  it('thenEvents fails when the command throws, saying what it threw', async () => {
    await expect(
      given(Account, { type: 'Opened', owner: 'Ada' })
        .when((a) => a.deposit(-1))
        .thenEvents([]),
    ).rejects.toThrow(/expected events, but the command threw ValidationError: a deposit is positive/);
  });

  it('thenState hands over the aggregate after the command', async () => {
    await given(Account, { type: 'Opened', owner: 'Ada' })
      .when((a) => a.close())
      .thenState((a) => expect(a.closed).toBe(true));
  });
});

describe('given/when/then for entities', () => {
  it('compares the events an entity publishes', async () => {
    const note = await givenEntity(Note, { text: 'a' })
      .when((n) => {
        n.text = 'b';
      })
      .thenEvents([{ type: 'AttributeChanged', name: 'text', value: 'b' }]);
    expect(note.text).toBe('b');
    await givenEntity(Note, { text: 'a' })
      .when((n) => n.discard())
      .thenEvents([{ type: 'Discarded' }]);
  });

  it('fails when an entity publishes something else', async () => {
    await expect(
      givenEntity(Note, { text: 'a' })
        .when((n) => {
          n.text = 'c';
        })
        .thenEvents([{ type: 'AttributeChanged', name: 'text', value: 'b' }]),
    ).rejects.toBeInstanceOf(AssertionError);
  });
});
