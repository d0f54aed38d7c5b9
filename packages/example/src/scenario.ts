import {
  type EventSourcedRepository,
  type EventStore,
  type Notification,
  NotFoundError,
  NotificationLogReader,
  hasNotificationLog,
} from '@es/core';
import type { Example } from './domain.js';

/**
 * What the scenario needs of an application: `ExampleApplication` has it, and so does an application
 * written out by hand as the seed's `CassandraApplication` is.
 */
export interface SeedApplication {
  readonly eventStore: EventStore<any, any>;
  readonly exampleRepository: EventSourcedRepository<Example>;
  createExample(foo: string): Example;
}

/** One stored item, as the backend holds it: `position` is the entity's version before the event. */
export interface StoredItemView {
  readonly position: number;
  readonly topic: string;
  /** The stored payload, exactly as stored (JSON unless the app encrypts or compresses). */
  readonly data: string;
}

/** What `await exampleRepository.get(id)` gave: the entity rebuilt from its events, or the rejection. */
export type EntityView =
  | { readonly found: true; readonly foo: string; readonly version: number }
  | { readonly found: false; readonly rejectedWith: string; readonly message: string };

export interface ScenarioStep {
  readonly name: 'create' | 'change' | 'discard';
  /** The line of the seed this step runs. */
  readonly code: string;
  /** The items this step appended to the entity's sequence. */
  readonly stored: readonly StoredItemView[];
  /** `await exampleRepository.has(id)` after the step. */
  readonly has: boolean;
  /** `await exampleRepository.get(id)` after the step. */
  readonly readBack: EntityView;
  /** The in-process entity after the step (it keeps working until discarded). */
  readonly entity: { readonly version: number; readonly discarded: boolean };
}

export interface SeedScenarioReport {
  readonly entityId: string;
  readonly steps: readonly [ScenarioStep, ScenarioStep, ScenarioStep];
  /**
   * The notification log entries this run's entity added, in log order; undefined when the backend keeps
   * no notification log.
   */
  readonly notifications: readonly Notification[] | undefined;
  /** The highest notification id after the run (the log's length), or undefined without a log. */
  readonly notificationLogSize: number | undefined;
}

/**
 * Runs the seed's usage block against an application and reports what happened at each step: create an
 * Example with foo 'bar1' and read it back, set foo to 'bar2' and read it back, discard it, then check
 * that the repository no longer has it and that get() rejects with NotFoundError.
 *
 * It reports rather than asserts, so that tests assert on the report (see `checkSeedScenario`) and the
 * CLI prints it. Errors other than the expected NotFoundError (a lost connection, a failed write) reject.
 */
export async function runSeedScenario(app: SeedApplication): Promise<SeedScenarioReport> {
  const strategy = app.eventStore.activeRecordStrategy;
  const log = hasNotificationLog(strategy) ? strategy : undefined;
  const logBefore = await log?.maxNotificationId();
  const repository = app.exampleRepository;

  const storedSince = async (id: string, position: number): Promise<StoredItemView[]> => {
    await app.eventStore.flush();
    const items = await strategy.getItems(id, { gte: position });
    return items.map(viewOfItem);
  };
  const readBack = async (id: string): Promise<EntityView> => {
    try {
      const entity = await repository.get(id);
      return { found: true, foo: entity.foo, version: entity.version };
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      return { found: false, rejectedWith: error.name, message: error.message };
    }
  };
  const step = async (
    name: ScenarioStep['name'],
    code: string,
    entity: Example,
    from: number,
  ): Promise<ScenarioStep> => {
    const stored = await storedSince(entity.id, from);
    return {
      name,
      code,
      stored,
      has: await repository.has(entity.id),
      readBack: await readBack(entity.id),
      entity: { version: entity.version, discarded: entity.isDiscarded },
    };
  };

  const entity = app.createExample('bar1');
  const created = await step('create', "entity = app.createExample('bar1')", entity, 0);

  entity.foo = 'bar2';
  const changed = await step('change', "entity.foo = 'bar2'", entity, 1);

  entity.discard();
  const discarded = await step('discard', 'entity.discard()', entity, 2);

  let notifications: Notification[] | undefined;
  let notificationLogSize: number | undefined;
  if (log !== undefined && logBefore !== undefined) {
    notifications = [];
    for await (const notification of new NotificationLogReader(log).read({ after: logBefore })) {
      if (notification.sequenceId === entity.id) notifications.push(notification);
    }
    notificationLogSize = await log.maxNotificationId();
  }

  return { entityId: entity.id, steps: [created, changed, discarded], notifications, notificationLogSize };
}

/**
 * The seed's assertions, applied to a report: an empty list when the backend behaved as the seed says,
 * otherwise one line per difference.
 */
export function checkSeedScenario(report: SeedScenarioReport): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  const [created, changed, discarded] = report.steps;
  const expected: Array<
    [ScenarioStep, string, number, EntityView['found'], string | undefined, number | undefined]
  > = [
    [created, 'example.Example.Created', 0, true, 'bar1', 1],
    [changed, 'example.Example.AttributeChanged', 1, true, 'bar2', 2],
    [discarded, 'example.Example.Discarded', 2, false, undefined, undefined],
  ];
  for (const [step, topic, position, found, foo, version] of expected) {
    const item = step.stored[0];
    expect(step.stored.length === 1, `${step.name}: stored ${step.stored.length} items, expected 1`);
    expect(item?.topic === topic, `${step.name}: stored topic ${item?.topic}, expected ${topic}`);
    expect(
      item?.position === position,
      `${step.name}: stored at position ${item?.position}, expected ${position}`,
    );
    expect(step.has === found, `${step.name}: has() is ${step.has}, expected ${found}`);
    expect(
      step.entity.version === position + 1,
      `${step.name}: the entity is at version ${step.entity.version}, expected ${position + 1}`,
    );
    expect(
      step.entity.discarded === !found,
      `${step.name}: the entity is ${step.entity.discarded ? '' : 'not '}discarded`,
    );
    if (step.readBack.found) {
      expect(found, `${step.name}: get() found the entity, expected NotFoundError`);
      expect(
        step.readBack.foo === foo,
        `${step.name}: foo is ${JSON.stringify(step.readBack.foo)}, expected ${foo}`,
      );
      expect(
        step.readBack.version === version,
        `${step.name}: version is ${step.readBack.version}, expected ${version}`,
      );
    } else {
      expect(!found, `${step.name}: get() rejected with ${step.readBack.rejectedWith}, expected the entity`);
    }
  }
  const createdData = parse(created.stored[0]?.data);
  expect(createdData?.foo === 'bar1', "create: the stored Created event does not carry foo 'bar1'");
  const changedData = parse(changed.stored[0]?.data);
  expect(
    changedData?.name === 'foo' && changedData?.value === 'bar2',
    "change: the stored AttributeChanged event does not carry foo = 'bar2'",
  );
  if (report.notifications !== undefined) {
    const stored = report.steps.flatMap((s) => s.stored);
    const log = report.notifications;
    expect(log.length === 3, `notification log: ${log.length} entries for the entity, expected 3`);
    expect(
      log.every(
        (n, i) =>
          n.position === stored[i]?.position && n.topic === stored[i]?.topic && n.data === stored[i]?.data,
      ),
      'notification log: entries differ from the stored items',
    );
    expect(
      log.every((n, i) => i === 0 || n.id > log[i - 1]!.id),
      'notification log: ids are not increasing',
    );
  }
  return problems;
}

export interface StoreSummary {
  /** How many entities (sequences) the store holds. */
  readonly entities: number;
  /** The notification log's highest id, or undefined when the backend keeps no log. */
  readonly notificationLogSize: number | undefined;
}

/** How much the application's store holds: for showing what earlier runs left behind. */
export async function describeStore(app: SeedApplication): Promise<StoreSummary> {
  const strategy = app.eventStore.activeRecordStrategy;
  const entities = (await strategy.listSequenceIds()).length;
  const notificationLogSize = hasNotificationLog(strategy) ? await strategy.maxNotificationId() : undefined;
  return { entities, notificationLogSize };
}

function viewOfItem(item: unknown): StoredItemView {
  // The default item class is SequencedItem; the seed's StoredEvent names the same fields differently.
  const r = item as Record<string, unknown>;
  return {
    position: (r.position ?? r.originatorVersion) as number,
    topic: r.topic as string,
    data: (r.data ?? r.state) as string,
  };
}

function parse(data: string | undefined): Record<string, unknown> | undefined {
  if (data === undefined) return undefined;
  try {
    return JSON.parse(data) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
