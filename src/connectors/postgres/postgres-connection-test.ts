import pg from 'pg';
import type { ConnectionFailure, TestResult } from '../connector.js';
import type { ResolvedPostgresConfig } from './postgres-config.js';
import { connectionMessage, NO_PASSWORD_RE, redact, type DriverError } from './postgres-errors.js';

/** Which failure a connection error is, so the UI can say what to fix. */
export function classifyConnectionFailure(err: DriverError): ConnectionFailure {
  const code = err.code ?? '';
  const message = err.message ?? '';
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code))
    return 'host_unreachable';
  if (code === '28000' && /no encryption/i.test(message)) return 'tls_required';
  if (code.startsWith('28') || NO_PASSWORD_RE.test(message)) return 'auth_failed';
  if (code === '3D000') return 'unknown_database';
  if (
    /server does not support ssl|certificate|self[- ]signed|unable to verify/i.test(message) ||
    /CERT|SELF_SIGNED|ERR_TLS/.test(code)
  ) {
    return 'tls_failed';
  }
  if (/timeout/i.test(message) || code === 'ETIMEDOUT') return 'timeout';
  return 'connection_failed';
}

/**
 * Opens one dedicated connection (not from the pool, so a broken pool cannot hide a fixed
 * configuration and the probe leaves nothing open), asks the version and measures one round trip.
 * Never throws for connection problems.
 */
export async function testPostgresConnection(config: ResolvedPostgresConfig): Promise<TestResult> {
  const client = new pg.Client(config.client);
  // A server dropping the socket after connect surfaces as an 'error' event; the awaited calls
  // below already report it, so the event must not crash the process.
  client.on('error', () => {});
  try {
    await client.connect();
    const started = performance.now();
    await client.query('select 1');
    const latencyMs = Math.round((performance.now() - started) * 100) / 100;
    const { rows } = await client.query<{ version: string }>(
      "select current_setting('server_version') as version",
    );
    return { ok: true, serverVersion: `PostgreSQL ${rows[0]?.version ?? 'unknown'}`, latencyMs };
  } catch (err) {
    const e = (err ?? {}) as DriverError;
    return {
      ok: false,
      code: classifyConnectionFailure(e),
      message: redact(connectionMessage(e, config.target, config.timeoutMs), config.secrets),
    };
  } finally {
    await client.end().catch(() => {});
  }
}
