import type pg from 'pg';
import { badRequest } from '../../model/errors.js';
import type { SourceConfig } from '../connector.js';
import type { PostgresTarget } from './postgres-errors.js';
import { getTypeParser } from './postgres-type-parsers.js';

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Session settings sent in the startup packet (no extra round trip per connection). The codec
 * relies on them: ISO dates, UTC instants, ISO 8601 intervals, and shortest-exact floats on
 * servers older than 12 (where the default was lossy).
 */
const SESSION_OPTIONS = '-c TimeZone=UTC -c DateStyle=ISO -c IntervalStyle=iso_8601 -c extra_float_digits=3';

export interface ResolvedPostgresConfig {
  /** Options for `new pg.Pool` / `new pg.Client`. */
  client: pg.PoolConfig;
  target: PostgresTarget;
  /** Strings that must never appear in a message. */
  secrets: string[];
  timeoutMs: number;
}

function sslFromMode(mode: string | null): boolean | 'verify' | undefined {
  switch (mode) {
    case null:
      return undefined;
    case 'disable':
    case 'allow':
    case 'prefer':
      return false;
    case 'verify-ca':
    case 'verify-full':
      return 'verify';
    default:
      return true;
  }
}

/** The parts of a `postgres://` URL; missing parts come from the separate fields. */
function parseUrl(url: string): Partial<SourceConfig> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The URL may hold a password: never echo it.
    throw badRequest(
      'invalid_config',
      'the PostgreSQL URL is not a valid URL (expected postgres://user:password@host:port/database)',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw badRequest('invalid_config', 'the PostgreSQL URL must start with postgres:// or postgresql://');
  }
  const params = parsed.searchParams;
  const out: Partial<SourceConfig> = {};
  const host = params.get('host') ?? decodeURIComponent(parsed.hostname).replace(/^\[(.*)\]$/, '$1');
  if (host) out.host = host;
  const port = params.get('port') ?? parsed.port;
  if (port) out.port = Number(port);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (database) out.database = database;
  const user = params.get('user') ?? decodeURIComponent(parsed.username);
  if (user) out.user = user;
  const password = params.get('password') ?? decodeURIComponent(parsed.password);
  if (password) out.password = password;
  const ssl = sslFromMode(params.get('sslmode') ?? (params.get('ssl') === 'true' ? 'require' : null));
  if (ssl !== undefined) out.ssl = ssl;
  return out;
}

/** `application_name` from the URL (shown in pg_stat_activity), else `braid`. */
function applicationName(url: string | undefined): string {
  if (!url) return 'braid';
  try {
    return new URL(url).searchParams.get('application_name') || 'braid';
  } catch {
    return 'braid';
  }
}

/**
 * SourceConfig -> pg client options. `url` wins over the separate fields where both say something;
 * an explicit `ssl` wins over the URL's sslmode.
 */
export function resolvePostgresConfig(config: SourceConfig): ResolvedPostgresConfig {
  const fromUrl = config.url ? parseUrl(config.url) : {};
  const merged: SourceConfig = { ...config, ...fromUrl };
  if (config.ssl !== undefined) merged.ssl = config.ssl;
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw badRequest('invalid_config', 'timeoutMs must be a positive number of milliseconds', { timeoutMs });
  }
  const port = merged.port ?? 5432;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw badRequest('invalid_config', 'port must be from 1 to 65535', { port });
  const user = merged.user ?? 'postgres';
  const target: PostgresTarget = {
    host: merged.host ?? 'localhost',
    port,
    database: merged.database ?? user,
    user,
  };
  const password = merged.password ?? '';
  const ssl: pg.PoolConfig['ssl'] =
    merged.ssl === 'verify'
      ? { rejectUnauthorized: true }
      : merged.ssl
        ? { rejectUnauthorized: false }
        : false;
  const client: pg.PoolConfig = {
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    // A function, not a string: with an empty or missing password pg would fall back to the
    // server process's PGPASSWORD and ~/.pgpass and could send them to a user-entered host.
    password: () => password,
    ssl,
    options: SESSION_OPTIONS,
    application_name: applicationName(config.url),
    statement_timeout: timeoutMs,
    connectionTimeoutMillis: timeoutMs,
    keepAlive: true,
    max: 10,
    idleTimeoutMillis: 30_000,
    types: { getTypeParser: getTypeParser as pg.CustomTypesConfig['getTypeParser'] },
  };
  const secrets = [password, config.password ?? '', config.url ?? ''].filter((s) => s.length >= 3);
  return { client, target, secrets, timeoutMs };
}
