// Compiled by `pnpm typecheck`, never run: the suite's options must agree with the store's type. Each
// `@ts-expect-error` is a mistake the compiler must keep refusing (one that compiles fails the typecheck).
import { InMemoryActiveRecordStrategy, type SequencedItem } from '@es/core';
import { ActiveRecordStrategy } from '@es/core/backend';
import type { ActiveRecordStrategySuiteOptions } from '../src/conformance.js';

class WithoutLog extends ActiveRecordStrategy {
  protected async insert(): Promise<void> {}
  protected async select(): Promise<SequencedItem[]> {
    return [];
  }
  protected async selectSequenceIds(): Promise<string[]> {
    return [];
  }
}

export const withLog: ActiveRecordStrategySuiteOptions = {
  name: 'a store with a log',
  createStrategy: async (options) => new InMemoryActiveRecordStrategy(options),
  notifications: true,
  closeStrategy: (strategy) => strategy.maxNotificationId().then(() => strategy.close()),
};

export const withoutLog: ActiveRecordStrategySuiteOptions = {
  name: 'a store without a log',
  createStrategy: async () => new WithoutLog(),
  notifications: false,
};

// A store with a log may also be checked as one without (the suite then checks nothing of its log).
export const logIgnored: ActiveRecordStrategySuiteOptions = {
  name: 'a store with a log, its log unchecked',
  createStrategy: async (options) => new InMemoryActiveRecordStrategy(options),
  notifications: false,
};

// @ts-expect-error: notifications: true takes only stores with a notification log
export const claimsALog: ActiveRecordStrategySuiteOptions = {
  name: 'a store without a log, declared with one',
  createStrategy: async () => new WithoutLog(),
  notifications: true,
};

export const closesAsIfLogged: ActiveRecordStrategySuiteOptions = {
  name: 'a store without a log, closed as if it had one',
  createStrategy: async () => new WithoutLog(),
  notifications: false,
  // @ts-expect-error: without a log, closeStrategy receives an AggregateRecorder
  closeStrategy: (strategy) => strategy.maxNotificationId(),
};
