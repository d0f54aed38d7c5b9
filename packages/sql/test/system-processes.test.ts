import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DomainEvent } from '@es/core';
import { Order, type Orders, openApplication, system } from './children/orders-system.js';

/**
 * The three-application system with each application in a process of its own, over its own SQLite
 * file, following the others' files (in memory and in one process: packages/core/test/system.test.ts).
 */
const tsx = require.resolve('tsx');
const script = join(__dirname, 'children', 'orders-system.ts');
const tsconfig = join(__dirname, '..', 'tsconfig.json');

describe('a system of three applications, one process each (SQLite files)', () => {
  const directory = mkdtempSync(join(tmpdir(), 'es-system-'));
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(
      children.map((c) =>
        c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)),
      ),
    );
    rmSync(directory, { recursive: true, force: true });
  });

  it('processes an order through reservations and payments; every cause leads back to the command', async () => {
    // Orders takes the command here; its follower runs in a child, as the two others do.
    const orders = (await openApplication('orders', directory)) as Orders;
    const outputs = new Map<string, string>();
    for (const name of system.names) {
      const child = spawn(process.execPath, ['--import', tsx, script, name, directory], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
      });
      outputs.set(name, '');
      child.stdout!.on('data', (c: Buffer) => outputs.set(name, outputs.get(name) + String(c)));
      child.stderr!.on('data', (c: Buffer) => outputs.set(name, outputs.get(name) + String(c)));
      children.push(child);
    }
    const command = randomUUID();
    const id = await orders.createOrder('book', command);
    const deadline = Date.now() + 90_000;
    let status = '';
    while (Date.now() < deadline && children.every((c) => c.exitCode === null)) {
      status = (await orders.get(Order, id)).status;
      if (status === 'Paid') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect({ status, outputs: status === 'Paid' ? {} : Object.fromEntries(outputs) }).toEqual({
      status: 'Paid',
      outputs: {},
    });
    const events: (DomainEvent & { originatorId: string })[] = [];
    for (const name of system.names) {
      const app =
        name === 'orders' ? orders : await openApplication(name as 'reservations' | 'payments', directory);
      for await (const { event } of app.notificationLog!.readEvents()) events.push(event as never);
      if (app !== orders) await app.close();
    }
    expect(events).toHaveLength(5);
    for (const event of events) expect(event.correlationId).toBe(command);
    const byId = new Map(events.map((e) => [e.eventId!, e]));
    let depth = 0;
    const paid = events.find((e) => (e as { type?: string }).type === 'Paid')!;
    let cause: DomainEvent | undefined = paid;
    while (byId.has(cause!.causationId!)) {
      cause = byId.get(cause!.causationId!);
      depth += 1;
    }
    expect([depth, cause!.causationId]).toEqual([3, command]);
    await orders.close();
  }, 120_000);
});
