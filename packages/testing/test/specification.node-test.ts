/**
 * The same helpers under node:test, with no jest loaded (`node --import tsx --test`): they depend on no
 * test runner. Run by this package's `test` script after jest.
 */
import { AssertionError } from 'node:assert';
import { describe, it } from 'node:test';
import { ValidationError } from '@es/core';
import { given, givenEntity } from '../src/specification.js';
import { Account, Note } from './spec-domain.js';

describe('given/when/then under node:test', () => {
  it('passes, and fails with an AssertionError', async () => {
    await given(Account, { type: 'Opened', owner: 'Ada' })
      .when((a) => a.deposit(5))
      .thenEvents([{ type: 'Deposited', amount: 5 }]);
    await given(Account, { type: 'Opened', owner: 'Ada' }, { type: 'Closed' })
      .when((a) => a.deposit(5))
      .thenThrows(ValidationError);
    let failure: unknown;
    await given(Account, { type: 'Opened', owner: 'Ada' })
      .when((a) => a.deposit(5))
      .thenEvents([{ type: 'Deposited', amount: 6 }])
      .catch((e: unknown) => (failure = e));
    if (!(failure instanceof AssertionError)) throw new Error('a wrong expectation did not fail');
  });

  it('works for entities', async () => {
    await givenEntity(Note, { text: 'a' })
      .when((n) => {
        n.text = 'b';
      })
      .thenEvents([{ type: 'AttributeChanged', name: 'text', value: 'b' }]);
  });
});

describe('the package entry', () => {
  it('loads with no test runner but node:test (the conformance suite, which needs jest, is a subpath)', async () => {
    const entry = await import('../src/index.js');
    if (typeof entry.given !== 'function' || typeof entry.givenEntity !== 'function')
      throw new Error('the entry does not export given and givenEntity');
    if ('defineActiveRecordStrategySuite' in entry) throw new Error('the entry exports the jest suite');
  });
});
