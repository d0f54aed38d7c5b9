/**
 * A child of probe.test.ts: probes Cassandra at a port whose server closes each connection during the
 * handshake (as a node that is stopping does), prints the probe's result, and then has nothing left to do:
 * the process must exit on its own, at once, with nothing of the probe's client still armed.
 */
import { type Socket, createServer } from 'node:net';
import { probe } from '../src/probe.js';

const server = createServer((socket: Socket) => {
  setTimeout(() => socket.destroy(), 300);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as { port: number };
const result = await probe('cassandra', { url: `cassandra://127.0.0.1:${port}`, timeoutMs: 1500 });
server.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
