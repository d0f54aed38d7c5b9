import { BACKENDS, type ServerName, redactUrl, serverUrl } from './backends.js';

/**
 * The variable through which one probe of every server (jest-global-setup.mjs, or `pnpm test` for the
 * whole run) reaches every test file.
 */
export const PROBED_VARIABLE = 'ES_SERVERS_PROBED';

export type ProbeResult =
  | { readonly ok: true; readonly name: ServerName; readonly url: string; readonly version: string }
  | { readonly ok: false; readonly name: ServerName; readonly url: string; readonly reason: string };

/**
 * Whether a server is ready for the tests: not an open port, but an answer to a query through the same
 * driver the library uses (PostgreSQL and MySQL: `select version()`; Cassandra: a CQL session that reads
 * `system.local`, which a node still starting or still bootstrapping does not serve).
 */
export async function probe(
  name: ServerName,
  options: { url?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ProbeResult> {
  const url = options.url ?? serverUrl(name, options.env);
  const timeoutMs = options.timeoutMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const version = await Promise.race([QUERIES[name](url, timeoutMs), deadline]);
    return { ok: true, name, url: redactUrl(url), version };
  } catch (error) {
    const reason = error instanceof Error ? error.message || error.name : String(error);
    return { ok: false, name, url: redactUrl(url), reason: reason.split('\n')[0]! };
  } finally {
    clearTimeout(timer);
  }
}

/** Probes several servers at once. */
export function probeAll(
  names: readonly ServerName[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<ProbeResult[]> {
  return Promise.all(names.map((name) => probe(name, options)));
}

/** One line for a probe: `PostgreSQL at postgres://...: ready (15.19)` or why not. */
export function describeProbe(result: ProbeResult): string {
  const { label } = BACKENDS[result.name];
  return result.ok
    ? `${label} at ${result.url}: ready (${result.version})`
    : `${label} at ${result.url}: not ready (${result.reason})`;
}

/**
 * The contact points, data centre and credentials of a Cassandra URL,
 * `cassandra://[user:password@]host[:port][,host[:port]...][/keyspace][?localDataCenter=dc]`: only what the
 * probe needs (the library's CassandraSettings reads the whole URL).
 */
export function cassandraContact(url: string): {
  contactPoints: string[];
  localDataCenter: string;
  credentials?: { username: string; password: string };
} {
  const match = /^cassandra:\/\/(?:([^@/?#]*)@)?([^/?#]+)(?:\/[^?#]*)?(?:\?([^#]*))?$/i.exec(url.trim());
  if (!match) throw new Error(`not a cassandra:// URL: ${JSON.stringify(redactUrl(url))}`);
  const [, userInfo, hosts, query] = match;
  const params = new URLSearchParams(query ?? '');
  const contact = {
    contactPoints: hosts!.split(',').map((host) => (/:\d+$/.test(host) ? host : `${host}:9042`)),
    localDataCenter: params.get('localDataCenter') ?? 'datacenter1',
  };
  if (userInfo === undefined) return contact;
  const colon = userInfo.indexOf(':');
  const username = decodeURIComponent(colon < 0 ? userInfo : userInfo.slice(0, colon));
  const password = colon < 0 ? '' : decodeURIComponent(userInfo.slice(colon + 1));
  return { ...contact, credentials: { username, password } };
}

const QUERIES: Record<ServerName, (url: string, timeoutMs: number) => Promise<string>> = {
  async postgres(url, timeoutMs) {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
    client.on('error', () => {});
    try {
      await client.connect();
      const { rows } = await client.query<{ v: string }>("select current_setting('server_version') as v");
      return rows[0]!.v;
    } finally {
      await client.end().catch(() => {});
    }
  },
  async mysql(url, timeoutMs) {
    const mysql = await import('mysql2/promise');
    const connection = await mysql.createConnection({ uri: url, connectTimeout: timeoutMs });
    connection.on('error', () => {});
    try {
      const [rows] = await connection.query('select version() as v');
      return (rows as { v: string }[])[0]!.v;
    } finally {
      connection.destroy();
    }
  },
  async cassandra(url, timeoutMs) {
    const { Client, auth } = await import('cassandra-driver');
    const { credentials, ...contact } = cassandraContact(url);
    const client = new Client({
      ...contact,
      ...(credentials && {
        authProvider: new auth.PlainTextAuthProvider(credentials.username, credentials.password),
      }),
      socketOptions: { connectTimeout: timeoutMs, readTimeout: timeoutMs },
      // A probe must not linger: one attempt, no reconnection schedule, and no heartbeat. The driver
      // (4.10) arms a connection's 30 s heartbeat after a request is written; when the server closes the
      // socket during the handshake (a node stopping or restarting), the timer survives the closed
      // connection and the client's shutdown, and keeps the process alive about 60 s (two heartbeats).
      pooling: { warmup: false, heartBeatInterval: 0 },
    });
    try {
      await client.connect();
      // With one contact point, that node must answer (a ring's node probed on its own address), not
      // whichever node the load-balancing policy picks.
      const [only, ...others] = contact.contactPoints;
      const host = others.length === 0 ? client.hosts.get(only!) : undefined;
      if (others.length === 0 && host === undefined) throw new Error(`${only} is not among the ring's nodes`);
      const result = await client.execute('SELECT release_version FROM system.local', [], host && { host });
      return String(result.first()?.get('release_version'));
    } finally {
      await client.shutdown().catch(() => {});
    }
  },
};
