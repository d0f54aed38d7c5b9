import { MissingTableError, SettingsError, StoreConnectionError } from '@es/core';
import { InFlight } from '@es/core/backend';
import {
  Client,
  type ClientOptions,
  ExecutionProfile,
  type HostMap,
  errors,
  policies,
} from 'cassandra-driver';
import { CassandraSettings } from './settings.js';
import type { CqlTable } from './tables.js';

/** The two calls a strategy makes: any object with them (a wrapper for tests, a shared client) will do. */
export type CqlClient = Pick<Client, 'execute' | 'batch'>;

/** What a strategy needs to run statements: a client, the keyspace its tables are in, and the settings. */
export interface CqlSession {
  readonly client: CqlClient;
  readonly keyspace: string;
  readonly settings: CassandraSettings;
}

export interface CassandraDatastoreOptions {
  settings?: CassandraSettings;
  /** The tables `setupTables()` creates and `dropTables()` drops. */
  tables?: readonly CqlTable[];
  /**
   * More options for the driver's Client, merged over those the settings give: TLS
   * (`sslOptions: { ca: [readFileSync('ca.pem')] }`, which Node's `tls.connect` takes), an auth provider,
   * pooling. The settings keep the hosts, port, data centre, credentials, timeouts and consistency.
   */
  clientOptions?: Partial<ClientOptions>;
}

// The seed's strategies find the connection the datastore set up: the last datastore connected here.
const registry: { current: CassandraDatastore | undefined } = { current: undefined };

/** The session of the datastore most recently connected by `setupConnection()`. */
export function defaultSession(): CqlSession {
  if (registry.current === undefined) {
    throw new StoreConnectionError(
      'no Cassandra connection: call CassandraDatastore.setupConnection() first, or pass a datastore',
    );
  }
  return registry.current.session;
}

/**
 * The seed's CassandraDatastore: connects (and becomes the default connection of strategies created
 * without one), creates and drops the keyspace's tables, and closes.
 */
export class CassandraDatastore {
  readonly settings: CassandraSettings;
  readonly tables: readonly CqlTable[];
  // Private (#) so that logging the datastore does not print the driver client, whose options hold the
  // password.
  #connected: Client | undefined;
  private readonly clientOptions: Partial<ClientOptions>;
  private readonly operations = new InFlight(() => `the Cassandra datastore at ${this.settings.address}`);

  constructor(options: CassandraDatastoreOptions = {}) {
    this.settings = options.settings ?? new CassandraSettings();
    this.tables = [...(options.tables ?? [])];
    this.clientOptions = options.clientOptions ?? {};
  }

  /** The driver client. Throws StoreConnectionError before `setupConnection()`. */
  get client(): Client {
    this.operations.check();
    if (this.#connected === undefined) {
      throw new StoreConnectionError(
        `not connected to Cassandra at ${this.settings.address}: call setupConnection() first`,
      );
    }
    return this.#connected;
  }

  get session(): CqlSession {
    return { client: this.client, keyspace: this.settings.keyspace, settings: this.settings };
  }

  /**
   * Connects, within `connectTimeoutMs`, and registers this datastore as the default connection.
   * Rejects with StoreConnectionError naming the hosts and port (and saying when credentials are
   * missing or refused), or SettingsError when no node is in the configured local data centre.
   */
  async setupConnection(): Promise<void> {
    this.operations.check();
    if (this.#connected === undefined) {
      const s = this.settings;
      const client = new Client(clientOptions(s, this.clientOptions));
      const connecting = client.connect();
      try {
        await withDeadline(
          connecting,
          s.connectTimeoutMs + 1000,
          () =>
            new StoreConnectionError(
              `cannot connect to Cassandra at ${s.address}: no answer within ${s.connectTimeoutMs} ms`,
            ),
        );
      } catch (error) {
        // The driver's shutdown() does nothing while its connect() is under way (4.10: no hosts yet), and a
        // connect past our deadline goes on: shut the client down again once it has settled, or the
        // connections it then opens stay, and a process holding them never exits (a ring test's follower
        // reconnecting to a slow data centre left jest running so).
        void connecting.then(
          () => client.shutdown().catch(() => undefined),
          () => client.shutdown().catch(() => undefined),
        );
        await client.shutdown().catch(() => undefined);
        throw connectionError(error, s);
      }
      this.#connected = client;
    }
    registry.current = this;
  }

  /** Creates the keyspace (if missing) and every table (if missing). Idempotent. */
  setupTables(): Promise<void> {
    return this.use(() => this.createTables());
  }

  private async createTables(): Promise<void> {
    const { keyspace } = this.settings;
    await this.run(
      `CREATE KEYSPACE IF NOT EXISTS ${keyspace} WITH replication = ${this.settings.replicationCql}`,
    );
    // A keyspace or table just created may not have reached the node a statement goes to yet.
    const keyspaceLags = (error: unknown) => error instanceof SettingsError && error.field === 'keyspace';
    for (const table of this.tables) {
      for (const statement of table.createStatements(keyspace))
        await whileSchemaSpreads(() => this.run(statement), keyspaceLags);
      await whileSchemaSpreads(
        () =>
          checkLayout(this.session, table).catch((error: unknown) => {
            throw connectionError(error, this.settings);
          }),
        (error) => error instanceof MissingTableError,
      );
    }
    await awaitSchemaAgreement(this.client);
  }

  /** Drops every table (the keyspace stays). */
  dropTables(): Promise<void> {
    return this.use(async () => {
      for (const table of this.tables) {
        for (const statement of table.dropStatements(this.settings.keyspace)) await this.run(statement);
      }
    });
  }

  /** `await using datastore = ...`: the same as close(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** True once close() has finished: every use is refused with StoreClosedError from then on. */
  get closed(): boolean {
    return this.operations.isClosed;
  }

  /**
   * Lets every operation in flight finish (and the writes queued behind them, so that closing without
   * `await` loses nothing), then shuts the client down; the default connection is cleared if it was
   * this one. From then on every use rejects with StoreClosedError.
   */
  close(): Promise<void> {
    return this.operations.close(async () => {
      const client = this.#connected;
      this.#connected = undefined;
      if (registry.current === this) registry.current = undefined;
      if (client !== undefined) await client.shutdown();
    });
  }

  /** Runs a strategy's operation, which close() waits for. @internal */
  use<T>(operation: () => Promise<T>): Promise<T> {
    return this.operations.run(operation);
  }

  private async run(cql: string): Promise<void> {
    try {
      await this.client.execute(cql, [], { consistency: this.settings.consistencyCodes.write });
    } catch (error) {
      throw connectionError(error, this.settings);
    }
  }
}

/** The driver's Client options for the settings, with the user's `clientOptions` merged over them. */
export function clientOptions(s: CassandraSettings, extra: Partial<ClientOptions> = {}): ClientOptions {
  const codes = s.consistencyCodes;
  return {
    ...extra,
    contactPoints: [...s.hosts],
    // The data centre goes to the policy rather than `localDataCenter`: with the latter, a wrong name
    // makes the driver (4.10) leave a socket open after connect() fails. The caller's other policies
    // (a timestamp generator, say) stay.
    policies: {
      ...extra.policies,
      loadBalancing: new policies.loadBalancing.DefaultLoadBalancingPolicy({
        localDc: s.localDataCenter,
      }),
    },
    protocolOptions: { port: s.port },
    socketOptions: { connectTimeout: s.connectTimeoutMs, readTimeout: s.requestTimeoutMs },
    ...(s.username !== undefined
      ? { credentials: { username: s.username, password: s.password ?? '' } }
      : {}),
    // The driver's default is LOCAL_ONE; any statement run on this client reads and writes at the configured levels.
    profiles: [
      new ExecutionProfile('default', {
        consistency: codes.read,
        serialConsistency: codes.serial,
        readTimeout: s.requestTimeoutMs,
      }),
    ],
  };
}

/**
 * Compares a table's stored layout (its comment) with the definition's: two writers with different
 * bucket sizes would break the append guarantees, so a mismatch is refused. Resolves to whether the
 * stored table carries the `newer` marks (a snapshot table created before them does not: see
 * CqlTable.legacyLayout).
 */
export async function checkLayout(session: CqlSession, table: CqlTable): Promise<boolean> {
  const result = await session.client.execute(
    'SELECT comment FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?',
    [session.keyspace, table.tableName],
    { prepare: true },
  );
  const stored = result.first()?.get('comment') as string | undefined;
  if (stored === undefined) {
    throw new MissingTableError(`${session.keyspace}.${table.tableName}`);
  }
  if (stored === table.layout) return table.marksNewer;
  if (stored === table.legacyLayout) return false;
  throw new SettingsError(
    `table ${session.keyspace}.${table.tableName} was created as "${stored}", but is used as "${table.layout}": use the same kind, bucket size and feed everywhere`,
    'bucketSize',
  );
}

/**
 * A failed statement on `table` as a typed error (see connectionError). When every node answered that it
 * no longer knows the prepared statement and the driver could not prepare it again, the usual reason is
 * that the keyspace or table was dropped (which evicts its statements): the layout check says for sure.
 */
export async function statementError(error: unknown, session: CqlSession, table: CqlTable): Promise<unknown> {
  if (error instanceof errors.NoHostAvailableError) {
    const inner = Object.values((error.innerErrors ?? {}) as Record<string, unknown>);
    const unprepared = (e: unknown) => e instanceof errors.ResponseError && e.code === 0x2500;
    if (inner.length > 0 && inner.every(unprepared)) {
      try {
        await checkLayout(session, table);
      } catch (gone) {
        if (gone instanceof MissingTableError) return new MissingTableError(gone.tableName, { cause: error });
        if (gone instanceof SettingsError)
          return new SettingsError(gone.message, gone.field, { cause: error });
      }
    }
  }
  // The table (or its keyspace) is gone: the same error as a strategy's first check gives.
  if (error instanceof errors.ResponseError && error.code === 0x2200 && MISSING.test(error.message))
    return new MissingTableError(`${session.keyspace}.${table.tableName}`, { cause: error });
  return connectionError(error, session.settings);
}

/**
 * Cassandra's messages for a keyspace or table that does not exist (5.0: "table t does not exist"; "Keyspace
 * 'k' doesn't exist" from a schema change on a node that has not received the keyspace yet).
 */
const MISSING =
  /^Keyspace '?([^'\s]+)'? (?:does not|doesn't) exist|^(?:unconfigured table|table) (\S+)(?: does not exist)?$/i;

/** How long setupTables waits for a keyspace or table it created to reach the node a statement goes to. */
const SCHEMA_WAIT_MS = 30_000;

/**
 * `attempt`, tried again while it fails as `lagging` says, for at most SCHEMA_WAIT_MS: for setupTables,
 * whose statements are idempotent. A node that has not yet received a keyspace just created answers a
 * table's creation with "Keyspace '...' doesn't exist", and the schema tables it serves may not list a
 * table just created: schema changes spread between nodes by gossip, and the driver's wait for schema
 * agreement after a change gives up silently after `maxSchemaAgreementWaitSeconds` (seen on a loaded
 * 5-node ring).
 */
async function whileSchemaSpreads<T>(
  attempt: () => Promise<T>,
  lagging: (error: unknown) => boolean,
): Promise<T> {
  const since = Date.now();
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (!lagging(error) || Date.now() - since >= SCHEMA_WAIT_MS) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * Waits, at most SCHEMA_WAIT_MS, until every node that is up has the same schema version. The node that
 * coordinated a `CREATE` may list the new table while a replica has not received it yet, and a write that
 * replica is sent then fails ("Unknown CF ..."). The driver waits for agreement after each schema change
 * for at most `maxSchemaAgreementWaitSeconds` (10 s) and goes on silently; on a loaded ring that was not
 * enough (a ring test's first write after setting up a table failed so). The driver's own check counts
 * the nodes that are down too (their last known version), which would hold every setup for the whole wait
 * during an outage; this one asks one node that is up for its version and its peers', and compares those
 * of the nodes the driver sees up. After the wait it goes on: a node that still lags converges by gossip,
 * and a write it refuses meanwhile is a typed failure. A client without the driver's host list (a test's
 * stand-in) is not waited for.
 */
export async function awaitSchemaAgreement(client: CqlClient): Promise<void> {
  const hosts = (client as Partial<Pick<Client, 'hosts'>>).hosts;
  if (hosts === undefined) return;
  const since = Date.now();
  while (!(await schemaAgrees(client, hosts)) && Date.now() - since < SCHEMA_WAIT_MS)
    await new Promise((resolve) => setTimeout(resolve, 250));
}

async function schemaAgrees(client: CqlClient, hosts: HostMap): Promise<boolean> {
  const up = hosts.values().filter((host) => host.isUp());
  const asked = up[0];
  if (asked === undefined) return false;
  const upAddresses = new Set(up.map((host) => host.address.replace(/:\d+$/, '')));
  try {
    const local = await client.execute('SELECT schema_version FROM system.local', [], { host: asked });
    const peers = await client.execute('SELECT peer, rpc_address, schema_version FROM system.peers', [], {
      host: asked,
    });
    const versions = new Set([String(local.first()?.get('schema_version'))]);
    for (const row of peers.rows) {
      const address = String(row.get('rpc_address') ?? row.get('peer'));
      if (upAddresses.has(address)) versions.add(String(row.get('schema_version')));
    }
    return versions.size === 1;
  } catch {
    return false; // that node went away meanwhile: ask again
  }
}

/**
 * True when the driver failed before sending the request: it had no open connection to the host it
 * picked (its pool for a node that just came back is still empty; the prepare path throws this plain Error
 * where the request path wraps it in NoHostAvailableError). Nothing can have been applied.
 */
export function neverSent(error: unknown): boolean {
  return error instanceof Error && error.message === 'No connection available';
}

/**
 * Driver errors that mean "could not reach or use the server" as StoreConnectionError, and a keyspace or
 * table that is gone as SettingsError (call setupTables()); others unchanged. Writes whose outcome may be
 * unknown are classified by the strategy before it gets here.
 */
export function connectionError(error: unknown, settings: CassandraSettings): unknown {
  const where = `Cassandra at ${settings.address}`;
  if (neverSent(error)) {
    return new StoreConnectionError(`${where} had no open connection for the request (nothing was sent)`, {
      cause: error,
    });
  }
  // A socket that closed under a request the driver could not resend (not idempotent); the strategy's
  // conditional writes never get here with it (their outcome is resolved by a SERIAL read first).
  if (error instanceof errors.DriverError && (error as { isSocketError?: boolean }).isSocketError) {
    return new StoreConnectionError(`lost the connection to ${where}: ${error.message}`, { cause: error });
  }
  // 0x2200 Invalid: the keyspace or table was dropped (or never created) after the strategy checked it.
  if (error instanceof errors.ResponseError && error.code === 0x2200) {
    const missing = MISSING.exec(error.message);
    if (missing?.[2] !== undefined)
      return new MissingTableError(`${settings.keyspace}.${missing[2]}`, { cause: error });
    if (missing) {
      const what = `keyspace ${missing[1]}`;
      return new SettingsError(
        `${what} does not exist on ${where}: call CassandraDatastore.setupTables() (${error.message})`,
        'keyspace',
        { cause: error },
      );
    }
  }
  if (error instanceof errors.ArgumentError && /Datacenter .* was not found/.test(error.message)) {
    return new SettingsError(
      `no Cassandra node at ${settings.address} is in data centre "${settings.localDataCenter}" (${error.message}); set localDataCenter or CASSANDRA_LOCAL_DATACENTER`,
      'localDataCenter',
      { cause: error },
    );
  }
  if (error instanceof errors.NoHostAvailableError) {
    const inner = Object.values((error.innerErrors ?? {}) as Record<string, unknown>);
    const reasons = inner.map((e) => (e instanceof Error ? e.message : String(e))).join('; ');
    if (inner.some((e) => e instanceof errors.AuthenticationError)) {
      const hint =
        settings.username === undefined
          ? 'it requires a username and password (CASSANDRA_USERNAME, CASSANDRA_PASSWORD)'
          : `the credentials of user "${settings.username}" were refused`;
      return new StoreConnectionError(`cannot authenticate to ${where}: ${hint}. ${reasons}`, {
        cause: error,
      });
    }
    return new StoreConnectionError(`cannot connect to ${where}: ${reasons || error.message}`, {
      cause: error,
    });
  }
  if (error instanceof errors.AuthenticationError) {
    return new StoreConnectionError(`cannot authenticate to ${where}: ${error.message}`, { cause: error });
  }
  if (error instanceof errors.BusyConnectionError) {
    return new StoreConnectionError(`${where} is busy: ${error.message}`, { cause: error });
  }
  if (error instanceof errors.OperationTimedOutError) {
    return new StoreConnectionError(
      `no answer from ${where} within ${settings.requestTimeoutMs} ms: ${error.message}`,
      { cause: error },
    );
  }
  // Unavailable, overloaded, bootstrapping; read or write timeout or failure (of a read, or of an
  // idempotent write such as a bucket index entry, which is harmless whether or not it landed).
  if (
    error instanceof errors.ResponseError &&
    [0x1000, 0x1001, 0x1002, 0x1100, 0x1200, 0x1300, 0x1500].includes(error.code)
  ) {
    return new StoreConnectionError(`${where} could not serve the request: ${error.message}`, {
      cause: error,
    });
  }
  return error;
}

async function withDeadline<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(error()), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
