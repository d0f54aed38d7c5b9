import { SettingsError, ValidationError } from '@es/core';
import { assertIdentifier } from '@es/core/backend';
import { types } from 'cassandra-driver';
import { z } from 'zod';

/** Consistency levels for ordinary reads and writes (CQL names). ANY and the serial levels are not among them. */
export const CONSISTENCY_LEVELS = [
  'ONE',
  'TWO',
  'THREE',
  'QUORUM',
  'ALL',
  'LOCAL_QUORUM',
  'EACH_QUORUM',
  'LOCAL_ONE',
] as const;
export type ConsistencyLevel = (typeof CONSISTENCY_LEVELS)[number];
/** Consistency levels of the Paxos phase of lightweight transactions, and of the reads that resolve them. */
export const SERIAL_CONSISTENCY_LEVELS = ['SERIAL', 'LOCAL_SERIAL'] as const;
export type SerialConsistencyLevel = (typeof SERIAL_CONSISTENCY_LEVELS)[number];
export type ReplicationStrategy = 'SimpleStrategy' | 'NetworkTopologyStrategy';

export interface CassandraSettingsOptions {
  /**
   * Everything below in one string: `cassandra://[user:password@]host[:port][,host...][/keyspace][?option=value&...]`,
   * where the options are the names below (`localDataCenter`, `consistency`, `replicationFactor`, ...). Explicit
   * options win over the URL, and the URL over the environment.
   */
  url?: string;
  /** Contact points (host names or addresses), or one comma-separated string. Default `127.0.0.1`. */
  hosts?: readonly string[] | string;
  /** CQL native transport port. Default 9042. */
  port?: number;
  /** The data centre whose nodes are queried (the driver's `localDataCenter`). Default `datacenter1`. */
  localDataCenter?: string;
  /** Default `eventsourcing`, as the original. A plain identifier. */
  keyspace?: string;
  /** Used when `setupTables()` creates the keyspace. Default `SimpleStrategy`. */
  replicationStrategy?: ReplicationStrategy;
  /** Default 1 (a single test node); use 3 in production. */
  replicationFactor?: number;
  /**
   * Replicas per data centre, for a keyspace spread over several: `{ dc1: 3, dc2: 3 }`, or as a string
   * `dc1:3,dc2:3` (the URL's `?replication=dc1:3,dc2:3`, `CASSANDRA_REPLICATION`). Implies
   * NetworkTopologyStrategy and must name `localDataCenter`. Default: `replicationFactor` replicas in
   * `localDataCenter` alone (NetworkTopologyStrategy) or in the ring (SimpleStrategy).
   */
  replication?: Readonly<Record<string, number>> | string;
  /** Sets both `readConsistency` and `writeConsistency`. */
  consistency?: ConsistencyLevel | string;
  /** Default LOCAL_QUORUM. EACH_QUORUM is not allowed for reads. */
  readConsistency?: ConsistencyLevel | string;
  /** Default LOCAL_QUORUM: also the commit consistency of lightweight transactions. */
  writeConsistency?: ConsistencyLevel | string;
  /** Default LOCAL_SERIAL. Use SERIAL when writers of one sequence run in several data centres. */
  serialConsistency?: SerialConsistencyLevel | string;
  username?: string;
  password?: string;
  /** How long to wait for a TCP connection to a host. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** How long the driver waits for one request's response (its `readTimeout`). Default 12000 ms. */
  requestTimeoutMs?: number;
  /** Rows per page when reading long ranges. Default 1000. */
  fetchSize?: number;
}

/** The environment variables read, by option (the first five as in the original library). */
const ENV: Record<Exclude<keyof CassandraSettingsOptions, 'url'>, string> = {
  hosts: 'CASSANDRA_HOSTS',
  port: 'CASSANDRA_PORT',
  keyspace: 'CASSANDRA_KEYSPACE',
  username: 'CASSANDRA_USERNAME',
  password: 'CASSANDRA_PASSWORD',
  consistency: 'CASSANDRA_CONSISTENCY_LEVEL',
  replicationFactor: 'CASSANDRA_REPLICATION_FACTOR',
  replicationStrategy: 'CASSANDRA_REPLICATION_STRATEGY',
  replication: 'CASSANDRA_REPLICATION',
  localDataCenter: 'CASSANDRA_LOCAL_DATACENTER',
  readConsistency: 'CASSANDRA_READ_CONSISTENCY_LEVEL',
  writeConsistency: 'CASSANDRA_WRITE_CONSISTENCY_LEVEL',
  serialConsistency: 'CASSANDRA_SERIAL_CONSISTENCY_LEVEL',
  connectTimeoutMs: 'CASSANDRA_CONNECT_TIMEOUT_MS',
  requestTimeoutMs: 'CASSANDRA_REQUEST_TIMEOUT_MS',
  fetchSize: 'CASSANDRA_FETCH_SIZE',
};

/** The URL may set these (the connection and consistency settings, not timeouts' units of code). */
const URL_OPTIONS = Object.keys(ENV) as (keyof typeof ENV)[];

/** The options a `cassandra://` URL holds (see CassandraSettingsOptions.url). */
export function parseCassandraUrl(url: string): Omit<CassandraSettingsOptions, 'url'> {
  const match =
    typeof url === 'string'
      ? /^cassandra:\/\/(?:([^@/?#]*)@)?([^/?#]+)(?:\/([^?#]*))?(?:\?([^#]*))?$/i.exec(url.trim())
      : null;
  if (!match) {
    throw new SettingsError(
      'invalid Cassandra setting url: expected cassandra://[user:password@]host[:port][,host...][/keyspace][?option=value...]',
      'url',
    );
  }
  const [, credentials, hostList, keyspace, query] = match;
  const options: Record<string, unknown> = {};
  if (credentials !== undefined) {
    const colon = credentials.indexOf(':');
    options.username = decodeURIComponent(colon < 0 ? credentials : credentials.slice(0, colon));
    if (colon >= 0) options.password = decodeURIComponent(credentials.slice(colon + 1));
  }
  const ports = new Set<number>();
  options.hosts = hostList!.split(',').map((entry) => {
    const port = /^(.*):(\d+)$/.exec(entry.trim());
    if (port) ports.add(Number(port[2]));
    return (port ? port[1]! : entry.trim()).replace(/^\[(.*)\]$/, '$1');
  });
  if (ports.size > 1) {
    throw new SettingsError('invalid Cassandra setting url: every host must use the same port', 'url');
  }
  if (ports.size === 1) options.port = [...ports][0];
  if (keyspace) options.keyspace = decodeURIComponent(keyspace);
  for (const [name, value] of new URLSearchParams(query ?? '')) {
    if (!(URL_OPTIONS as string[]).includes(name) || name === 'hosts' || name === 'port') {
      throw new SettingsError(`invalid Cassandra setting url: unknown option ${JSON.stringify(name)}`, 'url');
    }
    options[name] =
      NUMERIC.has(name as keyof CassandraSettingsOptions) && /^\d+$/.test(value) ? Number(value) : value;
  }
  return options as Omit<CassandraSettingsOptions, 'url'>;
}

const NUMERIC = new Set<keyof CassandraSettingsOptions>([
  'port',
  'replicationFactor',
  'connectTimeoutMs',
  'requestTimeoutMs',
  'fetchSize',
]);

/** `localQuorum`, `local_quorum` and `LOCAL_QUORUM` all name LOCAL_QUORUM. */
const levelName = (value: unknown): unknown =>
  typeof value === 'string'
    ? value
        .trim()
        .replace(/([a-z])([A-Z])/g, '$1_$2')
        .toUpperCase()
    : value;

/** `dc1:3,dc2:3` as `{ dc1: 3, dc2: 3 }`; anything else is left for the schema to reject. */
const replicationMap = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const pair = /^([^:]+):\s*(\d+)$/.exec(entry);
      return pair ? [pair[1]!.trim(), Number(pair[2])] : [entry, NaN];
    });
  return Object.fromEntries(entries);
};

const integer = (min: number, max: number) =>
  z
    .number({ error: `must be an integer from ${min} to ${max}` })
    .int({ error: `must be an integer from ${min} to ${max}` })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

const readLevels = CONSISTENCY_LEVELS.filter((level) => level !== 'EACH_QUORUM');

const schema = z.object({
  hosts: z
    .array(z.string().regex(/^[A-Za-z0-9_.:[\]-]+$/, { error: 'each host must be a host name or address' }))
    .min(1, { error: 'needs at least one host' }),
  port: integer(1, 65535),
  localDataCenter: z.string().min(1, { error: 'must not be empty' }),
  keyspace: z.string(),
  replicationStrategy: z.enum(['SimpleStrategy', 'NetworkTopologyStrategy'], {
    error: 'must be SimpleStrategy or NetworkTopologyStrategy',
  }),
  replicationFactor: integer(1, 99),
  replication: z.preprocess(
    replicationMap,
    z
      .record(z.string(), integer(1, 99))
      .refine((map) => Object.keys(map).length > 0, { error: 'must name at least one data centre' })
      // Quoted into CQL as string literals: plain names only (Cassandra's own are letters, digits, - _ .).
      .refine((map) => Object.keys(map).every((dc) => /^[A-Za-z0-9_.-]+$/.test(dc)), {
        error: 'data centre names are letters, digits, - _ .',
      })
      .optional(),
  ),
  readConsistency: z.preprocess(
    levelName,
    z.enum(readLevels, { error: `must be one of ${readLevels.join(', ')}` }),
  ),
  writeConsistency: z.preprocess(
    levelName,
    z.enum(CONSISTENCY_LEVELS, { error: `must be one of ${CONSISTENCY_LEVELS.join(', ')}` }),
  ),
  serialConsistency: z.preprocess(
    levelName,
    z.enum(SERIAL_CONSISTENCY_LEVELS, { error: 'must be SERIAL or LOCAL_SERIAL' }),
  ),
  username: z.string().min(1, { error: 'must not be empty' }).optional(),
  password: z.string().optional(),
  connectTimeoutMs: integer(1, 600_000),
  requestTimeoutMs: integer(1, 600_000),
  fetchSize: integer(1, 100_000),
});

/**
 * Where and how to connect, and how strongly to read and write. Each setting comes from the options,
 * else from its environment variable (`CASSANDRA_HOSTS`, `CASSANDRA_PORT`, `CASSANDRA_KEYSPACE`,
 * `CASSANDRA_USERNAME`, `CASSANDRA_PASSWORD`, `CASSANDRA_CONSISTENCY_LEVEL`, `CASSANDRA_REPLICATION_FACTOR`, ...),
 * else from a default that works against a local node. Invalid values throw SettingsError.
 */
export class CassandraSettings {
  readonly hosts: readonly string[];
  readonly port: number;
  readonly localDataCenter: string;
  readonly keyspace: string;
  readonly replicationStrategy: ReplicationStrategy;
  readonly replicationFactor: number;
  /** Replicas per data centre when NetworkTopologyStrategy (`{ [localDataCenter]: replicationFactor }` unless set). */
  readonly replication: Readonly<Record<string, number>> | undefined;
  readonly readConsistency: ConsistencyLevel;
  readonly writeConsistency: ConsistencyLevel;
  readonly serialConsistency: SerialConsistencyLevel;
  readonly username: string | undefined;
  // Kept in a private field behind a getter: console.log, util.inspect and JSON.stringify list own
  // enumerable properties, and settings objects end up in logs and in errors' causes.
  readonly #password: string | undefined;
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly fetchSize: number;
  // Computed on first use: every statement asks for them, and the name-to-code conversion is a regex.
  #codes: Readonly<{ read: number; write: number; serial: number }> | undefined;

  constructor(
    given: CassandraSettingsOptions = {},
    env: Readonly<Record<string, string | undefined>> = process.env,
  ) {
    const { url, ...explicit } = given;
    const fromUrl = url === undefined ? {} : parseCassandraUrl(url);
    const options: Omit<CassandraSettingsOptions, 'url'> = { ...fromUrl, ...definedOnly(explicit) };
    const origin = (name: keyof typeof ENV): string =>
      explicit[name] === undefined ? `url's ${name}` : `option ${name}`;
    const sources: Partial<Record<keyof CassandraSettingsOptions, string>> = {};
    const pick = (name: keyof typeof ENV): unknown => {
      if (options[name] !== undefined) {
        sources[name] = origin(name);
        return options[name];
      }
      const raw = env[ENV[name]];
      if (raw === undefined || raw === '') return undefined;
      sources[name] = `${ENV[name]}=${JSON.stringify(raw)}`;
      if (name === 'hosts') return raw;
      return NUMERIC.has(name) ? (/^\s*\d+\s*$/.test(raw) ? Number(raw) : raw) : raw.trim();
    };
    const hosts = pick('hosts') ?? '127.0.0.1';
    const consistency = pick('consistency');
    const raw = {
      hosts: typeof hosts === 'string' ? hosts.split(',').map((h) => h.trim()) : hosts,
      port: pick('port') ?? 9042,
      localDataCenter: pick('localDataCenter') ?? 'datacenter1',
      keyspace: pick('keyspace') ?? 'eventsourcing',
      replicationStrategy: pick('replicationStrategy') ?? 'SimpleStrategy',
      replicationFactor: pick('replicationFactor') ?? 1,
      replication: pick('replication'),
      readConsistency:
        options.readConsistency ??
        options.consistency ??
        pick('readConsistency') ??
        consistency ??
        'LOCAL_QUORUM',
      writeConsistency:
        options.writeConsistency ??
        options.consistency ??
        pick('writeConsistency') ??
        consistency ??
        'LOCAL_QUORUM',
      serialConsistency: pick('serialConsistency') ?? 'LOCAL_SERIAL',
      username: pick('username'),
      password: pick('password'),
      connectTimeoutMs: pick('connectTimeoutMs') ?? 5000,
      requestTimeoutMs: pick('requestTimeoutMs') ?? 12_000,
      fetchSize: pick('fetchSize') ?? 1000,
    };
    // Explicit read/write levels were taken above without `pick`; name their source for error messages.
    for (const name of ['readConsistency', 'writeConsistency'] as const) {
      if (options[name] !== undefined) sources[name] = origin(name);
      else if (options.consistency !== undefined) sources[name] = origin('consistency');
      else if (env[ENV[name]]) sources[name] = `${ENV[name]}=${JSON.stringify(env[ENV[name]])}`;
      else if (env[ENV.consistency])
        sources[name] = `${ENV.consistency}=${JSON.stringify(env[ENV.consistency])}`;
    }

    const result = schema.safeParse(raw);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      const field = String(issue.path[0]) as keyof CassandraSettingsOptions;
      const from = sources[field] ? ` (from ${sources[field]})` : '';
      throw new SettingsError(`invalid Cassandra setting ${field}${from}: ${issue.message}`, field);
    }
    const s = result.data;
    try {
      this.keyspace = assertIdentifier(s.keyspace, 'keyspace').toLowerCase();
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      throw new SettingsError(`invalid Cassandra setting keyspace: ${error.message}`, 'keyspace', {
        cause: error,
      });
    }
    if ((s.username === undefined) !== (s.password === undefined)) {
      throw new SettingsError(
        'Cassandra username and password must be given together (CASSANDRA_USERNAME, CASSANDRA_PASSWORD)',
        s.username === undefined ? 'username' : 'password',
      );
    }
    if (s.replication !== undefined) {
      const from = sources.replication ? ` (from ${sources.replication})` : '';
      if (
        options.replicationStrategy === 'SimpleStrategy' ||
        env[ENV.replicationStrategy] === 'SimpleStrategy'
      ) {
        throw new SettingsError(
          `invalid Cassandra setting replication${from}: per data centre replication needs NetworkTopologyStrategy, not SimpleStrategy`,
          'replication',
        );
      }
      // LOCAL_QUORUM and LOCAL_SERIAL count replicas in the local data centre: with none there, every
      // request would fail as unavailable.
      if (!(s.localDataCenter in s.replication)) {
        throw new SettingsError(
          `invalid Cassandra setting replication${from}: it names ${Object.keys(s.replication).join(', ')} but not the local data centre "${s.localDataCenter}" (localDataCenter)`,
          'replication',
        );
      }
    }
    this.hosts = Object.freeze([...s.hosts]);
    this.port = s.port;
    this.localDataCenter = s.localDataCenter;
    this.replicationStrategy =
      s.replication === undefined ? s.replicationStrategy : 'NetworkTopologyStrategy';
    this.replicationFactor = s.replicationFactor;
    this.replication =
      this.replicationStrategy === 'SimpleStrategy'
        ? undefined
        : Object.freeze({ ...(s.replication ?? { [s.localDataCenter]: s.replicationFactor }) });
    this.readConsistency = s.readConsistency as ConsistencyLevel;
    this.writeConsistency = s.writeConsistency;
    this.serialConsistency = s.serialConsistency;
    this.username = s.username;
    this.#password = s.password;
    this.connectTimeoutMs = s.connectTimeoutMs;
    this.requestTimeoutMs = s.requestTimeoutMs;
    this.fetchSize = s.fetchSize;
  }

  get password(): string | undefined {
    return this.#password;
  }

  /** `host1,host2:9042`, for messages. */
  get address(): string {
    return `${this.hosts.join(',')}:${this.port}`;
  }

  /** The CQL replication map `setupTables()` creates the keyspace with. */
  get replicationCql(): string {
    if (this.replication === undefined)
      return `{'class': 'SimpleStrategy', 'replication_factor': ${this.replicationFactor}}`;
    const centres = Object.entries(this.replication).map(
      ([dc, replicas]) => `'${dc.replace(/'/g, "''")}': ${replicas}`,
    );
    return `{'class': 'NetworkTopologyStrategy', ${centres.join(', ')}}`;
  }

  /** The driver's numeric codes for the configured levels (one frozen object per settings object). */
  get consistencyCodes(): Readonly<{ read: number; write: number; serial: number }> {
    this.#codes ??= Object.freeze({
      read: code(this.readConsistency),
      write: code(this.writeConsistency),
      serial: code(this.serialConsistency),
    });
    return this.#codes;
  }

  /** The settings without the password, for logs. */
  toJSON(): Record<string, unknown> {
    return { ...(this as object), password: this.#password === undefined ? undefined : '***' };
  }

  /** What console.log and util.inspect print: the same as toJSON, the password masked. */
  [Symbol.for('nodejs.util.inspect.custom')](
    _depth: number,
    options: object,
    inspect: (value: unknown, options: object) => string,
  ): string {
    return `CassandraSettings ${inspect(this.toJSON(), options)}`;
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function code(level: ConsistencyLevel | SerialConsistencyLevel): number {
  const camel = level
    .toLowerCase()
    .replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof typeof types.consistencies;
  return types.consistencies[camel];
}
