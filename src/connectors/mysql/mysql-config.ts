import type { ConnectionOptions, PoolOptions } from 'mysql2';
import { badRequest } from '../../model/errors.js';
import type { SourceConfig } from '../connector.js';

/** Where and how to connect, resolved once from a SourceConfig (`url` wins over the fields). */
export interface MysqlTarget {
  host: string;
  port: number;
  /** The database the connector works in; null when the config names none. */
  database: string | null;
  user: string;
  password: string | undefined;
  ssl: boolean | 'verify';
  timeoutMs: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Reads a SourceConfig. Errors never repeat the URL: it may carry the password.
 * URL query options: `ssl=true|false|verify` (also `sslmode=require|verify-full|disable`).
 */
export function resolveTarget(config: SourceConfig): MysqlTarget {
  let fromUrl: Partial<MysqlTarget> = {};
  if (config.url) fromUrl = parseUrl(config.url);
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw badRequest('invalid_config', 'timeoutMs must be a positive number of milliseconds', { timeoutMs });
  }
  return {
    host: fromUrl.host ?? config.host ?? '127.0.0.1',
    port: fromUrl.port ?? config.port ?? 3306,
    database: fromUrl.database ?? config.database ?? null,
    user: fromUrl.user ?? config.user ?? 'root',
    password: fromUrl.password ?? config.password,
    // An explicit `ssl` in the config overrides the URL, so a UI toggle works on URL sources too.
    ssl: config.ssl ?? fromUrl.ssl ?? false,
    timeoutMs,
  };
}

function parseUrl(text: string): Partial<MysqlTarget> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badRequest(
      'invalid_config',
      'the connection URL is not a valid URL (expected mysql://user:password@host:port/database)',
    );
  }
  if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') {
    throw badRequest(
      'invalid_config',
      `the connection URL must start with mysql:// or mariadb://, not ${url.protocol}//`,
    );
  }
  const out: Partial<MysqlTarget> = {};
  if (url.hostname) out.host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (url.port) out.port = Number(url.port);
  if (url.username) out.user = decodeURIComponent(url.username);
  if (url.password) out.password = decodeURIComponent(url.password);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database) out.database = database;
  const ssl = parseSslOption(url.searchParams.get('ssl') ?? url.searchParams.get('sslmode'));
  if (ssl !== undefined) out.ssl = ssl;
  return out;
}

function parseSslOption(value: string | null): boolean | 'verify' | undefined {
  if (value === null) return undefined;
  const v = value.toLowerCase();
  if (['verify', 'verify-full', 'verify-ca', 'verify_identity', 'verify_ca'].includes(v)) return 'verify';
  if (['true', '1', 'require', 'required'].includes(v)) return true;
  if (['false', '0', 'disable', 'disabled'].includes(v)) return false;
  throw badRequest('invalid_config', `ssl option "${value}" is not one of true, false, verify`);
}

/** `host:port` for messages: never the user's password or URL. */
export function describeTarget(target: MysqlTarget): string {
  return `${target.host}:${target.port}`;
}

/**
 * Driver options shared by the pool and the one-off test connection. Values are read losslessly:
 * dates as strings (no JavaScript Date and its local zone), BIGINT and DECIMAL as strings,
 * JSON as text (parsed by the connector, so MySQL's JSON and MariaDB's LONGTEXT behave alike).
 */
export function connectionOptions(
  target: MysqlTarget,
  ssl: boolean | 'verify' = target.ssl,
): ConnectionOptions {
  return {
    host: target.host,
    port: target.port,
    user: target.user,
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(target.database ? { database: target.database } : {}),
    ...(ssl ? { ssl: { rejectUnauthorized: ssl === 'verify' } } : {}),
    connectTimeout: target.timeoutMs,
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    jsonStrings: true,
    // Only affects JavaScript Dates, which Braid never sends; kept consistent with the UTC session.
    timezone: 'Z',
    multipleStatements: false,
  };
}

export function poolOptions(target: MysqlTarget): PoolOptions {
  return {
    ...connectionOptions(target),
    connectionLimit: 10,
    // Idle connections beyond maxIdle are closed, so an idle source holds few server threads.
    maxIdle: 2,
    idleTimeout: 60_000,
    enableKeepAlive: true,
    keepAliveInitialDelay: 30_000,
    waitForConnections: true,
    queueLimit: 0,
  };
}
