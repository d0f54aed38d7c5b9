import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DomainEvent, type ProcessApplication, SystemRunner, memoryStore } from '@es/core';
import type { SqlActiveRecordStrategy } from '../src/index.js';
import {
  type AppName,
  type Layout,
  type Orders,
  aggregates,
  classes,
  openApplication,
  reactsTo,
  system,
} from './children/orders-system.js';
import { describeEachDialect, uniqueName } from './dialects.js';
import { type SystemHistory, systemProblems } from './system-check.js';

/**
 * The three-application system with each application in a process of its own, over its own store,
 * following the others' stores (in memory and in one process: packages/core/test/system.test.ts), on
 * every SQL backend and with the stores mixed. Half the orders are placed before the processes start
 * (they catch up), half while they run (they follow live); reservations is SIGKILLed inside the
 * transaction of one notification (its tracking row written, its events not) and started again.
 */
const ORDERS = 20;
const NAMES = system.names as readonly AppName[];
// tsx as a loader in the child's own process: its CLI would run the script in a grandchild, which a
// SIGKILL of the child would leave running.
const tsx = require.resolve('tsx');
const script = join(__dirname, 'children', 'orders-system.ts');
const tsconfig = join(__dirname, '..', 'tsconfig.json');

interface Child {
  readonly name: AppName;
  readonly process: ChildProcess;
  output: string;
}

function startChild(name: AppName, layout: Layout, extra: readonly string[] = []): Child {
  const proc = spawn(process.execPath, ['--import', tsx, script, name, JSON.stringify(layout), ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
  });
  const child: Child = { name, process: proc, output: '' };
  proc.stdout!.on('data', (c: Buffer) => (child.output += String(c)));
  proc.stderr!.on('data', (c: Buffer) => (child.output += String(c)));
  return child;
}

const exited = (proc: ChildProcess): Promise<unknown> =>
  proc.exitCode !== null || proc.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => proc.once('exit', resolve));

const strategyOf = (app: ProcessApplication): SqlActiveRecordStrategy =>
  app.eventStore.activeRecordStrategy as unknown as SqlActiveRecordStrategy;

/** Each application's log and tracking rows, read from its own store. */
async function readHistory(
  apps: Record<AppName, ProcessApplication>,
  layout: Layout,
  commands: readonly string[],
): Promise<SystemHistory> {
  const logs: Record<string, { id: number; event: DomainEvent }[]> = {};
  const tracking: Record<string, number[]> = {};
  for (const name of NAMES) {
    logs[name] = [];
    for await (const notification of apps[name].notificationLog!.readEvents()) logs[name].push(notification);
    const rows = await strategyOf(apps[name])
      .datastore.db.selectFrom(`${layout[name].prefix}_tracking`)
      .select(['application_name', 'notification_id'])
      .execute();
    for (const row of rows) (tracking[String(row.application_name)] ??= []).push(Number(row.notification_id));
  }
  return { logs, tracking, commands };
}

/**
 * Every follower has tracked its upstream's head: nothing is in flight, and nothing more will come.
 * The tracking is read first: a head read after it that it still equals has no notification past it.
 */
async function settled(apps: Record<AppName, ProcessApplication>): Promise<boolean> {
  const tracked: [string, number][] = [];
  for (const follower of system.followers as AppName[])
    for (const upstream of system.follows(follower))
      tracked.push([upstream, await apps[follower].processedUpTo(upstream)]);
  for (const [upstream, upTo] of tracked)
    if ((await apps[upstream as AppName].notificationLog!.maxNotificationId()) !== upTo) return false;
  return true;
}

async function until(condition: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

/**
 * A describe that runs the system over a layout of stores: the orders placed here, the three
 * applications in child processes, reservations killed at a random notification and started again;
 * then checks what the stores hold (system-check.ts). `servers`: drop the tables afterwards.
 */
function defineRun(title: string, layoutOf: (directory: string) => Layout, servers: boolean): void {
  describe(title, () => {
    const directory = mkdtempSync(join(tmpdir(), 'es-system-'));
    const layout = layoutOf(directory);
    const children: Child[] = [];
    const apps = {} as Record<AppName, ProcessApplication>;
    afterAll(async () => {
      for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
      await Promise.all(children.map((c) => exited(c.process)));
      for (const app of Object.values(apps)) {
        try {
          if (servers) await strategyOf(app).datastore.dropTables();
        } finally {
          await app.close();
        }
      }
      rmSync(directory, { recursive: true, force: true });
    });

    it(`every order through reservations and payments, each event handled once downstream, reservations killed mid-transaction`, async () => {
      // The tables first, one application after the other (creating them concurrently races on PostgreSQL).
      for (const name of NAMES) apps[name] = await openApplication(name, layout);
      const orders = apps.orders as Orders;
      const commands: string[] = [];
      const order = async () => {
        const command = randomUUID();
        commands.push(command);
        await orders.createOrder('book', command);
      };
      for (let i = 0; i < ORDERS / 2; i++) await order();
      const pauseAt = 1 + Math.floor(Math.random() * (ORDERS / 2));
      for (const name of NAMES)
        children.push(
          startChild(name, layout, name === 'reservations' ? ['--pause-at', String(pauseAt)] : []),
        );
      const victim = children.find((c) => c.name === 'reservations')!;

      const paused = await until(
        () => victim.output.includes('paused') || victim.process.exitCode !== null,
        60_000,
      );
      expect({ paused, output: victim.output }).toEqual({
        paused: true,
        output: `following\npaused ${pauseAt}\n`,
      });
      // Its open transaction has written the tracking row of its pauseAt-th notification: not visible.
      const tracked = (await readHistory(apps, layout, commands)).tracking['reservations<-orders'] ?? [];
      expect(tracked).toHaveLength(pauseAt - 1);
      victim.process.kill('SIGKILL');
      await exited(victim.process);
      expect(victim.process.signalCode).toBe('SIGKILL');
      children.push(startChild('reservations', layout));

      for (let i = 0; i < ORDERS / 2; i++) await order();
      const done = await until(
        async () => children.some((c) => c.process.exitCode !== null) || (await settled(apps)),
        90_000,
      );
      const history = await readHistory(apps, layout, commands);
      const running = children.filter((c) => c !== victim);
      expect({
        done,
        problems: systemProblems(system, history, reactsTo),
        outputs: running.map((c) => c.output),
      }).toEqual({ done: true, problems: [], outputs: running.map(() => 'following\n') });
      expect([
        history.logs.orders!.length,
        history.logs.reservations!.length,
        history.logs.payments!.length,
      ]).toEqual([3 * ORDERS, ORDERS, ORDERS]);
    }, 180_000);
  });
}

describeEachDialect('a system of three applications, one process each', (dialect) => {
  const on = (url: (directory: string, name: AppName) => string) => (directory: string) => {
    const prefix = uniqueName('sys');
    return Object.fromEntries(
      NAMES.map((name) => [name, { url: url(directory, name), prefix: `${prefix}_${name}` }]),
    ) as Layout;
  };
  const sqlite = (directory: string, name: AppName) => `sqlite:${join(directory, `${name}.db`)}`;
  if (dialect.name === 'sqlite') {
    defineRun('each over its own SQLite file', on(sqlite), false);
    return;
  }
  defineRun(
    `each over its own tables on ${dialect.name}`,
    on(() => dialect.url),
    true,
  );
  if (dialect.name === 'postgres')
    defineRun(
      'mixed: reservations over a SQLite file, orders and payments on postgres',
      on((directory, name) => (name === 'reservations' ? sqlite(directory, name) : dialect.url)),
      true,
    );
});

describe('the system check can fail', () => {
  // A correct history, from the same system run in memory in one process.
  let history: SystemHistory;
  beforeAll(async () => {
    const apps = Object.fromEntries(
      NAMES.map((name) => [name, new classes[name]({ store: memoryStore(), aggregates, name })]),
    ) as unknown as Record<AppName, ProcessApplication>;
    await using runner = new SystemRunner(system, apps).start();
    const commands = [randomUUID(), randomUUID()];
    for (const command of commands) await (apps.orders as Orders).createOrder('book', command);
    await runner.whenSettled();
    const logs: Record<string, { id: number; event: DomainEvent }[]> = {};
    for (const name of NAMES) {
      logs[name] = [];
      for await (const n of apps[name].notificationLog!.readEvents()) logs[name].push(n);
    }
    const tracking: Record<string, number[]> = {};
    for (const follower of system.followers)
      for (const upstream of system.follows(follower))
        tracking[`${follower}<-${upstream}`] = logs[upstream]!.map((n) => n.id);
    history = { logs, tracking, commands };
  });
  const edit = (
    change: (h: {
      logs: Record<string, { id: number; event: DomainEvent }[]>;
      tracking: Record<string, number[]>;
      commands: string[];
    }) => void,
  ) => {
    const copy = structuredClone(history) as Parameters<typeof change>[0];
    change(copy);
    return systemProblems(system, copy, reactsTo);
  };

  it('passes the history of a correct run', () => {
    expect(history.logs.orders).toHaveLength(6);
    expect(systemProblems(system, history, reactsTo)).toEqual([]);
    // The copy the flawed cases start from is itself sound: each finding below comes from its edit.
    expect(edit(() => undefined)).toEqual([]);
  });

  it.each([
    ['an event missing downstream', (h) => h.logs.payments!.pop(), /led to 0 events, expected 1/],
    [
      'an event recorded twice downstream',
      (h) => {
        const last = h.logs.payments!.at(-1)!;
        h.logs.payments!.push({
          id: last.id + 1,
          event: { ...last.event, eventId: randomUUID() } as DomainEvent,
        });
        h.tracking['orders<-payments']!.push(last.id + 1);
      },
      /led to 2 events, expected 1/,
    ],
    ['a notification skipped', (h) => h.tracking['payments<-reservations']!.shift(), /never tracked: 1$/],
    [
      'a follower behind',
      (h) => h.tracking['orders<-reservations']!.pop(),
      /tracked up to 1, the log's head is 2/,
    ],
    [
      'a notification tracked twice',
      (h) => h.tracking['reservations<-orders']!.push(1),
      /tracked but not in the log once: 1/,
    ],
    [
      'a wrong correlation id',
      (h) => ((h.logs.payments![0]!.event as { correlationId?: string }).correlationId = randomUUID()),
      /correlation id/,
    ],
    [
      'a cause from nowhere',
      (h) => ((h.logs.reservations![0]!.event as { causationId?: string }).causationId = randomUUID()),
      /neither a command nor an upstream event/,
    ],
    ['a command that led to nothing', (h) => h.commands.push(randomUUID()), /led to nothing/],
  ] as [string, Parameters<typeof edit>[0], RegExp][])('finds %s', (_, change, problem) => {
    const problems = edit(change);
    expect(problems.some((p) => problem.test(p)) ? [] : problems).toEqual([]);
    expect(problems.length).toBeGreaterThan(0);
  });
});
