import { describe } from '@jest/globals';
import { defineConcurrencyTests } from './concurrency.js';
import { type ActiveRecordStrategySuiteOptions, SuiteContext } from './context.js';
import { defineDomainTests } from './domain.js';
import { defineItemTests } from './items.js';
import { defineNotificationTests } from './notifications.js';
import { defineRangeTests } from './ranges.js';
import { defineStringSequenceIdTests } from './sequence-ids.js';
import { defineTimestampTests } from './timestamps.js';
import { defineValidationTests } from './validation.js';

/**
 * The contract every active record strategy must pass: defines jest `describe` blocks, so call it at
 * the top level of a backend's test file (or inside `describeIfAvailable`).
 *
 *     defineActiveRecordStrategySuite({
 *       name: 'in-memory',
 *       createStrategy: async (options) => new InMemoryActiveRecordStrategy(options),
 *       notifications: true, // then createStrategy must return ApplicationRecorders (stores with a log)
 *     });
 *
 * (`packages/sql/test/conformance.test.ts` and `packages/cassandra/test/conformance.test.ts` show a
 * backend with tables.)
 */
export function defineActiveRecordStrategySuite(options: ActiveRecordStrategySuiteOptions): void {
  describe(`${options.name}: active record strategy conformance`, () => {
    const ctx = new SuiteContext(options);
    ctx.closeAllAfter();
    const strategy = ctx.useStrategy({ positionKind: 'integer', sequenceIdKind: 'uuid' });

    describe('items', () => defineItemTests(ctx, strategy));
    defineRangeTests(strategy);
    defineConcurrencyTests(ctx, strategy);
    defineTimestampTests(ctx);
    defineNotificationTests(ctx, strategy);
    defineValidationTests(ctx, strategy);
    defineStringSequenceIdTests(ctx);
    defineDomainTests(ctx, strategy);
  });
}
