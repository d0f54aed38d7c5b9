import { spawnSync } from 'node:child_process';
import { type Server, type Socket, createServer } from 'node:net';
import { join } from 'node:path';
import { describeProbe, probe } from '../src/index.js';
import { requireBackend } from '../src/jest.js';

describe('probe', () => {
  let server: Server;
  let port = 0;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    // Accepts connections and says nothing: an open port is not a ready server.
    server = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it.each([
    ['postgres', (p: number) => `postgres://postgres@127.0.0.1:${p}/test`],
    ['mysql', (p: number) => `mysql://root@127.0.0.1:${p}/test`],
    ['cassandra', (p: number) => `cassandra://127.0.0.1:${p}`],
  ] as const)('says %s is not ready when its port only accepts connections', async (name, url) => {
    const result = await probe(name, { url: url(port), timeoutMs: 1500 });
    expect(result.ok).toBe(false);
    expect(describeProbe(result)).toMatch(/not ready/);
  });

  it('says why when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const free = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await probe('postgres', { url: `postgres://postgres@127.0.0.1:${free}/test` });
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('leaves nothing behind when Cassandra closes the connection during the handshake', () => {
    // Before the probe turned the driver's heartbeat off, the child lived ~60 s after its last line (the
    // heartbeat timer outlived the closed connection and the client's shutdown); jest waited on it.
    const tsx = join(__dirname, '..', 'node_modules', '.bin', 'tsx');
    const started = Date.now();
    const child = spawnSync(tsx, [join(__dirname, 'probe-exit.ts')], { encoding: 'utf8', timeout: 45_000 });
    const seconds = (Date.now() - started) / 1000;
    expect(child.signal).toBeNull(); // not killed at the 45 s limit
    expect(JSON.parse(child.stdout)).toMatchObject({ ok: false });
    // tsx's start and the probe's 1.5 s, not the ~60 s of a heartbeat timer left armed.
    expect(seconds).toBeLessThan(20);
  }, 60_000);

  // The real servers, as every test file sees them: ready ones answer with their version.
  for (const name of ['postgres', 'mysql', 'cassandra'] as const) {
    const ready = requireBackend(name);
    (ready ? it : it.skip)(`finds ${name} ready, with its version`, async () => {
      const result = await probe(name);
      expect(result).toMatchObject({ ok: true, version: expect.stringMatching(/\d+\.\d+/) });
    });
  }
});
