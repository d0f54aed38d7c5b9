import {
  type ConcurrencyError,
  EsError,
  MissingTableError,
  OutcomeUnknownError,
  type SequencedItem,
  SettingsError,
  StoreConnectionError,
} from '@es/core';
import { conflictError } from '@es/core/backend';
import type { SqlSettings } from './settings.js';

/** Now core's (a memory store refuses a tracked notification too); still exported here under its name. */
export { AlreadyProcessedError } from '@es/core';

/**
 * A writer gave up waiting for a lock held by another writer: it waited longer than `lockTimeoutMs`,
 * or the database broke a deadlock by failing it. Nothing was written: try again.
 */
export class LockTimeoutError extends EsError {
  static override readonly kind: string = 'LockTimeoutError';
}

/**
 * The database cancelled the statement (PostgreSQL's `pg_cancel_backend` or `statement_timeout`,
 * MySQL's and MariaDB's `KILL QUERY` or `max_statement_time`) and said so: a cancelled statement is
 * rolled back, so nothing of it was written (a cancelled commit rolls the transaction back). Try again.
 */
export class StatementCancelledError extends EsError {
  static override readonly kind: string = 'StatementCancelledError';
}

/**
 * The database had no room for the write: SQLite's disk (or its `max_page_count`) full, PostgreSQL's disk
 * full (53100), MySQL's or MariaDB's table or disk full. The statement was rolled back (and with it the
 * transaction, for a batch or a tracking transaction), so nothing of it was written. Free space, then retry.
 */
export class StorageFullError extends EsError {
  static override readonly kind: string = 'StorageFullError';
}

/** What a driver error says, in the terms the mapping below needs. */
export type DriverErrorKind =
  | 'unique'
  | 'lock-timeout'
  | 'deadlock'
  | 'cancelled'
  | 'connection-lost'
  | 'cannot-connect'
  | 'timeout'
  | 'missing-table'
  | 'full'
  | 'other';

const CANNOT_CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'SQLITE_CANTOPEN',
  'SQLITE_NOTADB',
  '28P01', // PostgreSQL: password authentication failed
  '28000', // PostgreSQL: invalid authorization
  '3D000', // PostgreSQL: database does not exist
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
]);

const CONNECTION_LOST_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED', // MariaDB: KILL of the connection
  '57P01', // PostgreSQL: terminating connection due to administrator command
  '57P02',
  '57P03',
]);

/** The database had no room: SQLite's disk or max_page_count, PostgreSQL's disk_full, MySQL's table or disk full. */
const FULL_CODES = new Set(['SQLITE_FULL', '53100', 'ER_RECORD_FILE_FULL', 'ER_DISK_FULL']);

const NO_TLS = /does not support (SSL|secure) connection/i;

/** Sorts a driver's error into the few kinds the store reacts to. */
/**
 * True for an error the database server reported through its driver: better-sqlite3's SqliteError,
 * node-postgres' DatabaseError (it has a severity), mysql2's server errors (they have an SQL state).
 */
export function reportedByDatabase(error: object): boolean {
  const e = error as { name?: unknown; severity?: unknown; sqlState?: unknown };
  return e.name === 'SqliteError' || typeof e.severity === 'string' || typeof e.sqlState === 'string';
}

export function classify(error: unknown): DriverErrorKind {
  const e = error as { code?: unknown; errno?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : '';
  if (
    code === '23505' ||
    code === 'ER_DUP_ENTRY' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE'
  ) {
    return 'unique';
  }
  if (
    code === '55P03' ||
    code === 'ER_LOCK_WAIT_TIMEOUT' ||
    code === 'SQLITE_BUSY' ||
    code === 'SQLITE_BUSY_SNAPSHOT'
  )
    return 'lock-timeout';
  if (code === '40P01' || code === 'ER_LOCK_DEADLOCK') return 'deadlock';
  if (code === '42P01' || code === 'ER_NO_SUCH_TABLE' || /^no such table: /.test(message))
    return 'missing-table';
  if (code === '57014' || code === 'ER_QUERY_INTERRUPTED' || code === 'ER_STATEMENT_TIMEOUT')
    return 'cancelled';
  if (code !== undefined && FULL_CODES.has(code)) return 'full';
  if (code !== undefined && CANNOT_CONNECT_CODES.has(code)) return 'cannot-connect';
  if (code !== undefined && CONNECTION_LOST_CODES.has(code)) return 'connection-lost';
  // The driver stopped waiting for an answer (node-postgres' query_timeout, mysql2's per-query timeout):
  // the statement may still run on the server.
  if (
    code === 'ES_REQUEST_TIMEOUT' ||
    code === 'PROTOCOL_SEQUENCE_TIMEOUT' ||
    /^Query read timeout$/.test(message)
  )
    return 'timeout';
  // node-postgres reports a dropped socket without a code; mysql2 after a fatal error, with one.
  if (
    /Connection terminated|connection is in closed state|Client has encountered a connection error|Connection lost/i.test(
      message,
    )
  ) {
    return 'connection-lost';
  }
  if (/timeout expired|timeout exceeded when trying to connect/i.test(message)) return 'cannot-connect';
  // Asked for TLS (sslmode, ssl) of a server that has none.
  if (NO_TLS.test(message)) return 'cannot-connect';
  return 'other';
}

/**
 * True when a pooled connection must not be reused after this error: it was lost, or an answer may
 * still arrive on it (a driver-side timeout).
 */
export function lost(error: unknown): boolean {
  const kind = classify(error);
  return kind === 'connection-lost' || kind === 'timeout';
}

/** Where the settings point, for messages: host and port, or the SQLite file. */
function where(settings: SqlSettings): string {
  return settings.dialect === 'sqlite'
    ? `file ${settings.filename}`
    : `${settings.host}:${settings.port} (${settings})`;
}

/** The error for a connection that could not be opened: nothing was sent. */
export function cannotConnect(settings: SqlSettings, error: unknown): StoreConnectionError {
  const reason = error instanceof Error ? error.message || (error as { code?: string }).code : String(error);
  const hint = NO_TLS.test(String(reason))
    ? ` (TLS was asked for, as ${settings.tls.mode}: this server has none; use sslmode=disable only on a trusted network)`
    : '';
  return new StoreConnectionError(
    `cannot connect to ${settings.dialect} at ${where(settings)}: ${reason}${hint}`,
    {
      cause: error,
    },
  );
}

/**
 * Maps a driver error thrown by a statement. A write whose connection was lost after it was sent may or
 * may not have been applied (OutcomeUnknownError); a read that lost its connection is simply failed.
 */
export function mapDriverError(
  settings: SqlSettings,
  error: unknown,
  operation: { write: boolean; what: string },
): unknown {
  if (error instanceof EsError) return error;
  switch (classify(error)) {
    case 'cannot-connect':
      // A timeout on a connection already in use may strike after the server applied the write.
      if (!(operation.write && (error as { code?: unknown })?.code === 'ETIMEDOUT')) {
        return cannotConnect(settings, error);
      }
    // falls through
    case 'timeout': {
      const ours = (error as { code?: unknown }).code === 'ES_REQUEST_TIMEOUT';
      const when = ours
        ? `within ${(error as { timeoutMs?: number }).timeoutMs} ms (requestTimeoutMs)`
        : "before the driver's timeout";
      if (operation.write) {
        return new OutcomeUnknownError(
          `${operation.what} on ${settings.dialect} at ${where(settings)} got no answer ${when}: the outcome is unknown, read before retrying`,
          { cause: error },
        );
      }
      return new StoreConnectionError(
        `${operation.what} on ${settings.dialect} at ${where(settings)} got no answer ${when}`,
        { cause: error },
      );
    }
    case 'connection-lost':
      if (operation.write) {
        return new OutcomeUnknownError(
          `the connection to ${settings.dialect} at ${where(settings)} was lost during ${operation.what}: the outcome is unknown, read before retrying`,
          { cause: error },
        );
      }
      return new StoreConnectionError(
        `the connection to ${settings.dialect} at ${where(settings)} was lost during ${operation.what}`,
        {
          cause: error,
        },
      );
    case 'lock-timeout':
      return new LockTimeoutError(
        `${operation.what} gave up waiting for a lock held by another writer (its lock timeout ran out)${operation.write ? '; nothing was written' : ''}`,
        { cause: error },
      );
    case 'cancelled':
      return new StatementCancelledError(
        `${operation.what} was cancelled by the database (a cancel request, KILL QUERY or a statement timeout)${operation.write ? '; nothing was written' : ''}: try again`,
        { cause: error },
      );
    case 'deadlock':
      return new LockTimeoutError(
        `${operation.what} was failed by the database to break a deadlock; nothing was written`,
        {
          cause: error,
        },
      );
    case 'missing-table':
      return new MissingTableError(missingTableName(error), { cause: error });
    case 'full':
      return new StorageFullError(
        `${operation.what} found the ${settings.dialect} database at ${where(settings)} full (${String((error as { message?: unknown }).message)}); nothing was written: free space, then retry`,
        { cause: error },
      );
    default:
      return error;
  }
}

/**
 * The ConcurrencyError for a batch of a contiguous (integer) table that does not start one past the
 * sequence's last position, found in the insert statement itself: nothing of it was written.
 */
export function notContinuing(items: readonly SequencedItem[]): ConcurrencyError {
  const { sequenceId, position } = items[0]!;
  return conflictError(
    `position ${position} of sequence ${JSON.stringify(sequenceId)} does not continue the sequence: it is taken, or the sequence ends before ${position - 1} and the append would leave a gap (the writer's state is not what is stored: read it again)`,
    sequenceId,
    position,
  );
}

/** The table a driver says is missing: `relation "x" does not exist`, `Table 'db.x' doesn't exist`, `no such table: x`. */
function missingTableName(error: unknown): string {
  const message = String((error as { message?: unknown })?.message ?? '');
  const name =
    /relation "([^"]+)" does not exist/.exec(message)?.[1] ??
    /Table '(?:[^'.]+\.)?([^']+)' doesn't exist/.exec(message)?.[1] ??
    /no such table: (\S+)/.exec(message)?.[1];
  return name ?? '(unnamed)';
}

/**
 * better-sqlite3 is installed but its native module was never built: pnpm 10 runs no dependency build
 * scripts unless allowed, and the driver then fails when it opens a database.
 */
export function nativeBuildMissing(error: unknown): SettingsError | undefined {
  const message = String((error as { message?: unknown })?.message ?? '');
  if (!/Could not locate the bindings file|better_sqlite3\.node/.test(message)) return undefined;
  return new SettingsError(
    'better-sqlite3 is installed but its native module was not built (pnpm 10 skips build scripts): run `pnpm approve-builds` and allow better-sqlite3, or add it to "pnpm": { "onlyBuiltDependencies": ["better-sqlite3"] } in package.json, then `pnpm rebuild better-sqlite3`',
    'driver',
    { cause: error },
  );
}

/**
 * The ConcurrencyError for a batch that hit a taken position: nothing of it was written. Conflicts (this
 * and notContinuing) are built without a stack trace, as core's and Cassandra's are (see core's
 * conflictError): they are expected and retried, and the message says where.
 */
export function positionTaken(items: readonly SequencedItem[], cause: unknown): ConcurrencyError {
  const { sequenceId, position } = items[0]!;
  const last = items[items.length - 1]!.position;
  const range = items.length === 1 ? `position ${position}` : `positions ${position}..${last}`;
  return conflictError(
    `${range} of sequence ${JSON.stringify(sequenceId)}: a position is already taken`,
    sequenceId,
    position,
    { cause },
  );
}
