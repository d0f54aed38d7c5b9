import { SettingsError } from '@es/core';

/**
 * How a PostgreSQL or MySQL connection is encrypted, in libpq's `sslmode` words (which managed
 * databases document):
 * - `disable`: no TLS (the default, as for a server on the same machine or network);
 * - `require`: TLS, but the server's certificate is not checked (encrypted, not authenticated);
 * - `verify-ca`: TLS, and the certificate must be signed by a trusted CA (`ca`, else Node's list);
 * - `verify-full`: the same, and the certificate must name the host connected to. Choose it in production.
 */
export type SqlTlsMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

/** TLS settings: a mode, and the certificates a managed database gives you (PEM text or buffers). */
export interface SqlTlsOptions {
  /** Default `verify-full`. */
  mode?: SqlTlsMode;
  /** The CA certificate(s) to trust, e.g. `readFileSync('rds-ca.pem')`, instead of Node's built-in list. */
  ca?: string | Buffer | readonly (string | Buffer)[];
  /** A client certificate and its key, for servers that authenticate clients by certificate. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** The name the certificate must carry, when it is not the host connected to (e.g. through a tunnel). */
  servername?: string;
}

/** The `ssl` option: `true` (verify-full), `false` (disable), a mode, or options. */
export type SqlTlsOption = boolean | SqlTlsMode | SqlTlsOptions;

/** Resolved TLS settings. */
export interface SqlTls extends Omit<SqlTlsOptions, 'mode'> {
  readonly mode: SqlTlsMode;
}

export const TLS_MODES: readonly SqlTlsMode[] = ['disable', 'require', 'verify-ca', 'verify-full'];

/** Resolves the `ssl` option, refusing what cannot work with a SettingsError. */
export function resolveTls(option: SqlTlsOption | undefined): SqlTls {
  if (option === undefined || option === false) return { mode: 'disable' };
  if (option === true) return { mode: 'verify-full' };
  if (typeof option === 'string') return { mode: tlsMode(option) };
  if (typeof option !== 'object' || option === null || Array.isArray(option)) {
    throw new SettingsError('invalid SQL settings: ssl must be a boolean, a mode or an object', 'ssl');
  }
  return { ...option, mode: option.mode === undefined ? 'verify-full' : tlsMode(option.mode) };
}

function tlsMode(mode: unknown): SqlTlsMode {
  if (!TLS_MODES.includes(mode as SqlTlsMode)) {
    throw new SettingsError(
      `invalid SQL settings: sslmode must be one of ${TLS_MODES.join(', ')}, got ${JSON.stringify(mode)}`,
      'ssl',
    );
  }
  return mode as SqlTlsMode;
}

/**
 * The TLS part of a URL's query: `?sslmode=require|verify-ca|verify-full|disable` (PostgreSQL's
 * spelling, accepted for MySQL too) or `?ssl=true|false` (MySQL's). Any other parameter is refused:
 * a setting silently ignored is worse than none.
 */
export function tlsFromQuery(search: URLSearchParams): SqlTlsOption | undefined {
  let tls: SqlTlsOption | undefined;
  for (const [name, value] of search) {
    if (name === 'sslmode') tls = tlsMode(value);
    else if (name === 'ssl' && (value === 'true' || value === 'false')) tls = value === 'true';
    else if (name === 'ssl') tls = tlsMode(value);
    else {
      throw new SettingsError(
        `invalid SQL settings: the url's only query parameters are sslmode and ssl, got ${JSON.stringify(name)} (pass other options as fields)`,
        'url',
      );
    }
  }
  return tls;
}

/** What node-postgres' and mysql2's `ssl` option take for these settings (both pass it to `tls.connect`). */
export function driverTlsOptions(tls: SqlTls): false | Record<string, unknown> {
  if (tls.mode === 'disable') return false;
  const { mode, ...certificates } = tls;
  const given = Object.fromEntries(Object.entries(certificates).filter(([, v]) => v !== undefined));
  if (mode === 'require') return { ...given, rejectUnauthorized: false };
  // verify-ca: the chain is checked, the host name is not.
  if (mode === 'verify-ca')
    return { ...given, rejectUnauthorized: true, checkServerIdentity: () => undefined };
  return { ...given, rejectUnauthorized: true };
}
