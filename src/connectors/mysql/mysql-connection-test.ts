import mysql from 'mysql2';
import type { Connection } from 'mysql2';
import type { ConnectionFailure, TestResult } from '../connector.js';
import { connectionOptions, describeTarget, type MysqlTarget } from './mysql-config.js';
import type { DriverError } from './mysql-errors.js';
import { formatSeconds } from './mysql-errors.js';

const TLS_ERROR_RE = /CERT|SSL|TLS|SELF_SIGNED|DEPTH_ZERO|UNABLE_TO_(GET|VERIFY)|HOSTNAME|ALTNAME/i;

/**
 * Connects once (outside the pool) and answers with a distinct, human message per failure.
 * An "access denied" without TLS is retried once with TLS (certificate not checked): a user created
 * `REQUIRE SSL` gets the same error as a wrong password, and only the retry tells them apart.
 */
export async function testMysqlConnection(target: MysqlTarget): Promise<TestResult> {
  const first = await attempt(target, target.ssl);
  if ('ok' in first) return first;
  if (first.errno === 1045 && !target.ssl && 'ok' in (await attempt(target, true))) {
    return failure(
      'tls_required',
      `the server accepts user "${target.user}" only over TLS: turn on TLS (ssl) for this source`,
    );
  }
  return classify(first, target);
}

/** Connects and asks for the version: the success answer, or the driver error. */
async function attempt(target: MysqlTarget, ssl: boolean | 'verify'): Promise<TestResult | DriverError> {
  let conn: Connection | undefined;
  try {
    conn = await connect(target, ssl);
    const started = performance.now();
    const version = await new Promise<string>((resolve, reject) =>
      conn!.query(
        { sql: 'select version() as v', timeout: target.timeoutMs },
        (err: unknown, rows: unknown) =>
          err ? reject(err) : resolve(String((rows as { v: unknown }[])[0]?.v ?? '')),
      ),
    );
    // The round trip of one query on an open connection, not the connection setup.
    const latencyMs = Math.round((performance.now() - started) * 100) / 100;
    return { ok: true, serverVersion: version, latencyMs };
  } catch (err) {
    return (err ?? {}) as DriverError;
  } finally {
    conn?.destroy();
  }
}

function connect(target: MysqlTarget, ssl: boolean | 'verify'): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const conn = mysql.createConnection(connectionOptions(target, ssl));
    // Errors after connecting (the server closing the socket) must not become uncaught events.
    conn.on('error', () => undefined);
    conn.connect((err) => (err ? (conn.destroy(), reject(err)) : resolve(conn)));
  });
}

function failure(code: ConnectionFailure, message: string): TestResult {
  return { ok: false, code, message };
}

/** Maps a driver error to a failure code and a message written for the person configuring the source. */
export function classify(err: DriverError, target: MysqlTarget): TestResult {
  const where = describeTarget(target);
  const code = err.code ?? '';
  const text = err.sqlMessage ?? err.message ?? '';
  if (code === 'ECONNREFUSED') {
    return failure(
      'host_unreachable',
      `nothing accepts connections on ${where}: is the server running and the port right?`,
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return failure('host_unreachable', `the host name "${target.host}" could not be resolved`);
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return failure('host_unreachable', `there is no network route to ${where}`);
  }
  if (code === 'ETIMEDOUT' || code === 'PROTOCOL_SEQUENCE_TIMEOUT') {
    return failure('timeout', `${where} did not answer within ${formatSeconds(target.timeoutMs)}`);
  }
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT') {
    return failure(
      'tls_failed',
      `TLS was requested but the server at ${where} does not offer it: turn TLS off or enable it on the server`,
    );
  }
  if (err.errno === 3159 || /insecure transport/i.test(text)) {
    return failure(
      'tls_required',
      `the server at ${where} accepts only TLS connections: turn on TLS (ssl) for this source`,
    );
  }
  if (err.errno === 1045) {
    return failure('auth_failed', `the server refused user "${target.user}": wrong user name or password`);
  }
  if (err.errno === 1044) {
    return failure(
      'auth_failed',
      `user "${target.user}" has no access to database "${target.database ?? ''}"`,
    );
  }
  if (err.errno === 1049) {
    return failure('unknown_database', `database "${target.database ?? ''}" does not exist on ${where}`);
  }
  if (TLS_ERROR_RE.test(code) || /certificate|ssl|tls/i.test(text)) {
    const detail = /self.signed/i.test(`${code} ${text}`) ? 'it is self-signed' : text || code;
    return failure(
      'tls_failed',
      `the TLS connection to ${where} failed: the server certificate could not be verified (${detail})`,
    );
  }
  if (err.errno === 1040)
    return failure('connection_failed', `the server at ${where} has too many connections`);
  return failure('connection_failed', `could not connect to ${where}: ${text || code || 'unknown error'}`);
}
