/**
 * A TCP proxy that delays what the server sends by LATENCY_MS (each chunk, in order), as a network hop
 * or a busier server would: a probe's statements then wait a fixed, known time for their answer, whatever
 * the machine's load, and a read that overlaps its round trips with the client's work shows it. Runs in
 * its own process (in the probe's process it could not read the server's answer while the probe is busy).
 * Not a test, not part of `pnpm bench`.
 *
 *     node probes/latency-proxy.mjs LISTEN_PORT TARGET_HOST:PORT LATENCY_MS
 *     # then e.g. ES_SQL_URL=mysql://root@127.0.0.1:LISTEN_PORT/<db> npx tsx probes/sql-load-wall.ts ...
 */
import net from 'node:net';

const [listen, target, latency] = process.argv.slice(2);
const [host, port] = target.split(':');
const delay = Number(latency);
net
  .createServer((client) => {
    const server = net.connect(Number(port), host);
    client.on('data', (chunk) => server.write(chunk));
    // In order: one queue per connection, drained by one timer at a time (timers of different
    // lengths could fire out of order and cut the protocol's stream).
    const queue = [];
    let timer;
    const drain = () => {
      timer = undefined;
      while (queue.length > 0 && queue[0].at <= performance.now()) client.write(queue.shift().chunk);
      if (queue.length > 0) timer = setTimeout(drain, Math.max(0, queue[0].at - performance.now()));
    };
    server.on('data', (chunk) => {
      queue.push({ at: performance.now() + delay, chunk });
      if (timer === undefined) timer = setTimeout(drain, delay);
    });
    const end = () => {
      client.destroy();
      server.destroy();
    };
    client.on('error', end).on('close', end);
    server.on('error', end).on('close', end);
  })
  .listen(Number(listen), '127.0.0.1', () => console.log(`proxy on ${listen} -> ${target}, +${delay} ms`));
