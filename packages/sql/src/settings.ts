import { SettingsError } from '@es/core';
import { z } from 'zod';
import { type SqlTls, type SqlTlsOption, resolveTls, tlsFromQuery } from './tls.js';

/** The databases @es/sql speaks to. `mysql` covers MariaDB too. */
export type SqlDialectName = 'sqlite' | 'postgres' | 'mysql';

export interface SqlSettingsOptions {
  /**
   * Where the database is: `sqlite:./es.db`, `sqlite::memory:`, `postgres://user:password@host:5432/db`,
   * `mysql://user@host:3306/db` (also `postgresql:` and `mariadb:`). Fields given below override the URL.
   * The URL's query parameters: TLS's (`?sslmode=require|verify-ca|verify-full|disable`, or
   * `?ssl=true|false`, MySQL's spelling, `true` is verify-full) and the numeric options below
   * (`requestTimeoutMs`, `connectTimeoutMs`, `lockTimeoutMs`, `idleTimeoutMs`, `poolSize`).
   * Default: the environment variable ES_SQL_URL, else `sqlite::memory:`.
   */
  url?: string;
  dialect?: SqlDialectName;
  /** SQLite: a file path, or `:memory:`. */
  filename?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** Most pooled connections (PostgreSQL, MySQL). SQLite always uses one. Default 10. */
  poolSize?: number;
  /** How long to wait for a connection to open. Default 10 s. */
  connectTimeoutMs?: number;
  /**
   * How long a writer waits for another writer (the notification-log lock on PostgreSQL and MySQL,
   * the database lock on SQLite) before giving up with nothing written. Default 10 s.
   */
  lockTimeoutMs?: number;
  /** How long an unused pooled connection stays open. Default 30 s. */
  idleTimeoutMs?: number;
  /**
   * TLS for PostgreSQL and MySQL: `true` (verify-full), a mode (`'require'`, `'verify-ca'`,
   * `'verify-full'`, `'disable'`), or options with the CA certificate of a managed database:
   * `{ mode: 'verify-full', ca: readFileSync('ca.pem') }`. Default: the URL's `sslmode`/`ssl`, else none.
   */
  ssl?: SqlTlsOption;
  /**
   * PostgreSQL and MySQL: how long one statement may wait for its answer, whatever the network does
   * (a silent cut included). After it, a write is an OutcomeUnknownError and a read a
   * StoreConnectionError, and the connection is discarded. Keep it above `lockTimeoutMs`, so that a
   * writer waiting for a lock gets the lock's answer (nothing written). Default 30 s. In a URL:
   * `?requestTimeoutMs=5000`.
   */
  requestTimeoutMs?: number;
}

const DEFAULT_URL = 'sqlite::memory:';
const DEFAULT_PORTS: Record<Exclude<SqlDialectName, 'sqlite'>, number> = { postgres: 5432, mysql: 3306 };
const SCHEMES: Record<string, SqlDialectName> = {
  'sqlite:': 'sqlite',
  'postgres:': 'postgres',
  'postgresql:': 'postgres',
  'mysql:': 'mysql',
  'mariadb:': 'mysql',
};

const milliseconds = z.number().int().min(1).max(3_600_000);
const nonEmpty = z
  .string()
  .min(1)
  .refine((s) => !s.includes('\0'), 'must not contain NUL');

const schema = z.discriminatedUnion('dialect', [
  z.object({
    dialect: z.literal('sqlite'),
    filename: nonEmpty,
    poolSize: z.literal(1),
    connectTimeoutMs: milliseconds,
    lockTimeoutMs: milliseconds,
    idleTimeoutMs: milliseconds,
    requestTimeoutMs: milliseconds,
  }),
  z.object({
    dialect: z.enum(['postgres', 'mysql']),
    host: nonEmpty,
    port: z.number().int().min(1).max(65535),
    user: nonEmpty,
    password: z.string().optional(),
    database: nonEmpty,
    poolSize: z.number().int().min(1).max(1000),
    connectTimeoutMs: milliseconds,
    lockTimeoutMs: milliseconds,
    idleTimeoutMs: milliseconds,
    requestTimeoutMs: milliseconds,
  }),
]);

type Resolved = z.infer<typeof schema>;

/**
 * Where and how to connect, validated when constructed: settings that cannot work throw SettingsError
 * here, not at the first query. The password never appears in `toString()` or in error messages.
 */
export class SqlSettings {
  readonly dialect: SqlDialectName;
  /** SQLite only. */
  readonly filename: string | undefined;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly user: string | undefined;
  readonly database: string | undefined;
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
  readonly lockTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** TLS: `mode` is `disable` unless asked for (always for SQLite). */
  readonly tls: SqlTls;
  readonly requestTimeoutMs: number;
  readonly #password: string | undefined;

  constructor(options: SqlSettingsOptions | string = {}) {
    const given = typeof options === 'string' ? { url: options } : options;
    const fromUrl =
      given.url !== undefined || given.dialect === undefined
        ? parseUrl(given.url ?? process.env.ES_SQL_URL ?? DEFAULT_URL)
        : {};
    const dialect = given.dialect ?? fromUrl.dialect;
    const merged = {
      ...(dialect === 'sqlite' ? {} : { user: dialect === 'mysql' ? 'root' : 'postgres', host: '127.0.0.1' }),
      ...fromUrl,
      ...definedOnly(given),
      dialect,
    };
    delete (merged as { url?: string }).url;
    const ssl = given.ssl ?? (fromUrl as { ssl?: SqlTlsOption }).ssl;
    if (dialect === 'sqlite' && ssl !== undefined && ssl !== false && ssl !== 'disable') {
      throw new SettingsError('invalid SQL settings: ssl: SQLite is a local file, it has no TLS', 'ssl');
    }
    this.tls = resolveTls(ssl);
    const defaults = {
      connectTimeoutMs: 10_000,
      lockTimeoutMs: 10_000,
      idleTimeoutMs: 30_000,
      requestTimeoutMs: 30_000,
      poolSize: dialect === 'sqlite' ? 1 : 10,
      ...(dialect === 'postgres' || dialect === 'mysql' ? { port: DEFAULT_PORTS[dialect] } : {}),
    };
    const parsed = schema.safeParse({ ...defaults, ...merged });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.map(String).join('.') || 'settings';
      const hint = field === 'poolSize' && dialect === 'sqlite' ? ' (SQLite uses one connection)' : '';
      throw new SettingsError(
        `invalid SQL settings: ${field}: ${issue?.message ?? 'invalid'}${hint}`,
        field,
        { cause: parsed.error },
      );
    }
    const s: Resolved = parsed.data;
    this.dialect = s.dialect;
    this.poolSize = s.poolSize;
    this.connectTimeoutMs = s.connectTimeoutMs;
    this.lockTimeoutMs = s.lockTimeoutMs;
    this.idleTimeoutMs = s.idleTimeoutMs;
    this.requestTimeoutMs = s.requestTimeoutMs;
    if (s.dialect === 'sqlite') {
      this.filename = s.filename;
    } else {
      this.host = s.host;
      this.port = s.port;
      this.user = s.user;
      this.database = s.database;
      this.#password = s.password;
    }
  }

  /** The password, for the driver only. */
  get password(): string | undefined {
    return this.#password;
  }

  /** True for a SQLite database held in memory (gone when closed). */
  get inMemory(): boolean {
    return this.dialect === 'sqlite' && this.filename === ':memory:';
  }

  /** Where the database is, as a URL without the password: for messages and logs. */
  toString(): string {
    if (this.dialect === 'sqlite') return `sqlite:${this.filename}`;
    const host = this.host!.includes(':') ? `[${this.host}]` : this.host;
    return `${this.dialect}://${encodeURIComponent(this.user!)}@${host}:${this.port}/${encodeURIComponent(this.database!)}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function parseUrl(url: string): Partial<Resolved> & { dialect?: SqlDialectName; ssl?: SqlTlsOption } {
  if (typeof url !== 'string') throw new SettingsError('invalid SQL settings: url must be a string', 'url');
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0].toLowerCase();
  const dialect = scheme === undefined ? undefined : SCHEMES[scheme];
  if (dialect === undefined) {
    throw new SettingsError(
      `invalid SQL settings: url must start with sqlite:, postgres:, postgresql:, mysql: or mariadb:, got ${JSON.stringify(redact(url))}`,
      'url',
    );
  }
  if (dialect === 'sqlite') {
    // sqlite:./es.db, sqlite:/abs/es.db, sqlite:///abs/es.db, sqlite::memory:
    const rest = url.slice(scheme!.length);
    return { dialect, filename: rest.startsWith('//') ? rest.slice(2) : rest };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Without the URL parser's error as a cause: it carries the whole URL, password included (`input`).
    throw new SettingsError(`invalid SQL settings: url is not a URL: ${JSON.stringify(redact(url))}`, 'url');
  }
  if (parsed.hash !== '') {
    throw new SettingsError('invalid SQL settings: url must not have a fragment', 'url');
  }
  // TLS's parameters (sslmode, ssl) go to tlsFromQuery; the others are numeric options.
  const tlsParameters = new URLSearchParams();
  const parameters: Partial<Record<(typeof URL_PARAMETERS)[number], number>> = {};
  for (const [name, value] of parsed.searchParams) {
    if (name === 'sslmode' || name === 'ssl') {
      tlsParameters.append(name, value);
      continue;
    }
    if (!(URL_PARAMETERS as readonly string[]).includes(name)) {
      throw new SettingsError(
        `invalid SQL settings: url parameter ${JSON.stringify(name)} is not one of sslmode, ssl, ${URL_PARAMETERS.join(', ')} (pass other options as fields)`,
        'url',
      );
    }
    // Checked with the other settings (a whole number of milliseconds in range).
    parameters[name as (typeof URL_PARAMETERS)[number]] = /^\d+$/.test(value) ? Number(value) : NaN;
  }
  const ssl = tlsFromQuery(tlsParameters);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  return definedOnly({
    dialect,
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || undefined,
    port: parsed.port === '' ? undefined : Number(parsed.port),
    user: parsed.username === '' ? undefined : decodeURIComponent(parsed.username),
    password: parsed.password === '' ? undefined : decodeURIComponent(parsed.password),
    database: database === '' ? undefined : database,
    ssl,
    ...parameters,
  });
}

/** The options a URL may carry as parameters: `postgres://host/db?requestTimeoutMs=5000`. */
const URL_PARAMETERS = [
  'requestTimeoutMs',
  'connectTimeoutMs',
  'lockTimeoutMs',
  'idleTimeoutMs',
  'poolSize',
] as const;

function redact(url: string): string {
  return url.replace(/^([^:]+:\/\/[^:/@]*):[^@/]*@/, '$1:***@');
}
