/**
 * A writer process SIGKILLed at a random moment while appending (issue 10): every append it
 * acknowledged is stored, the sequence stays contiguous, and a new writer continues it at once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SequencedItem } from '@es/core';
import { SqlActiveRecordStrategy, SqlIntegerSequencedItem } from '../src/index.js';
import { describeEachDialect, uniqueName, useDatastore } from './dialects.js';

const KILLS = 2;

/** Starts the writer; resolves once it is appending, with the positions it acknowledged so far. */
async function startWriter(
  url: string,
  table: string,
  id: string,
): Promise<{ child: ChildProcess; acked: number[] }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'processes', 'writer.ts'), url, table, id],
    {
      cwd: join(__dirname, '..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const acked: number[] = [];
  let buffered = '';
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      if (line === 'ready') ready();
      else if (line.startsWith('ack ')) acked.push(Number(line.slice(4)));
    }
  });
  await Promise.race([
    isReady,
    sleep(20_000).then(() => Promise.reject(new Error('the writer did not start'))),
  ]);
  return { child, acked };
}

describeEachDialect('a writer process SIGKILLed while appending', (dialect) => {
  const table = SqlIntegerSequencedItem.withTableName(uniqueName('sigkill'));
  const direct = useDatastore(dialect, [table]);

  it(`${KILLS} kills: every acknowledged append stored, contiguous, and the next writer continues`, async () => {
    const id = randomUUID();
    const store = new SqlActiveRecordStrategy({ datastore: direct(), table });
    let acknowledged = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const { child, acked } = await startWriter(dialect.url, table.tableName, id);
      await sleep(150 + Math.random() * 400);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      const stored = (await store.getItems(id)).map((i) => i.position);
      expect(acked.length).toBeGreaterThan(0);
      for (const p of acked) expect(stored).toContain(p); // nothing acknowledged lost
      expect(stored).toEqual(stored.map((_, i) => i)); // contiguous from 0
      acknowledged += acked.length;
    }
    // Recovery: a new writer appends right after the stored head. A lock the killed writer left held
    // would make it wait out lockTimeoutMs and reject with LockTimeoutError.
    const head = (await store.getItems(id, { descending: true, limit: 1 }))[0]!.position;
    const appended = await store.append(new SequencedItem(id, head + 1, 'test.Written', '{}')).then(
      () => 'appended',
      (error: unknown) => error,
    );
    expect(appended).toBe('appended');
    expect((await store.getItems(id)).length).toBeGreaterThanOrEqual(acknowledged + 1);
  }, 60_000);
});
