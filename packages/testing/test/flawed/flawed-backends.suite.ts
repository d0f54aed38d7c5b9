// Not a test file of its own: test/suite-catches-flaws.test.ts runs it in a child jest and checks that
// each flawed store fails the tests aimed at its flaw (and the unflawed one fails none).
import { defineActiveRecordStrategySuite } from '../../src/conformance.js';
import { type Flaw, FlawedStrategy } from './flawed-strategy.js';

const flaws = (process.env.ES_TESTING_FLAWS ?? 'none').split(',') as Flaw[];

for (const flaw of flaws) {
  defineActiveRecordStrategySuite({
    name: `flaw=${flaw}`,
    createStrategy: async (options) => new FlawedStrategy(flaw, options),
    notifications: true,
    contiguous: true,
  });
}
