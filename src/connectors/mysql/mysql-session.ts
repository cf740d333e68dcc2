import type { Connection } from 'mysql2';

/** What the connector needs to know about the server it talks to. */
export interface ServerInfo {
  /** `version()` as the server reports it, e.g. `10.11.6-MariaDB-0+deb12u1-log` or `8.0.36`. */
  version: string;
  flavor: 'mariadb' | 'mysql';
  major: number;
  minor: number;
  patch: number;
  /** LOAD DATA LOCAL INFILE is allowed by the server (`@@global.local_infile`). */
  localInfile: boolean;
}

export function parseServerInfo(version: string, localInfile: boolean): ServerInfo {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  return {
    version,
    flavor: /mariadb/i.test(version) ? 'mariadb' : 'mysql',
    major: Number(m?.[1] ?? 0),
    minor: Number(m?.[2] ?? 0),
    patch: Number(m?.[3] ?? 0),
    localInfile,
  };
}

/** True when the server is at least the given version. */
export function atLeast(info: ServerInfo, major: number, minor = 0, patch = 0): boolean {
  if (info.major !== major) return info.major > major;
  if (info.minor !== minor) return info.minor > minor;
  return info.patch >= patch;
}

/**
 * The session sql_mode Braid needs, derived from the server's own so other choices of the DBA stay:
 * - STRICT_ALL_TABLES: a bad value fails instead of being truncated or zeroed (also on MyISAM).
 * - no NO_BACKSLASH_ESCAPES: the driver escapes bound values with backslashes, so that mode would
 *   corrupt (or worse, unquote) every parameter.
 */
export function braidSqlMode(serverMode: string): string {
  const modes = serverMode
    .split(',')
    .map((m) => m.trim().toUpperCase())
    .filter((m) => m !== '' && m !== 'NO_BACKSLASH_ESCAPES');
  if (!modes.includes('STRICT_ALL_TABLES')) modes.push('STRICT_ALL_TABLES');
  return modes.join(',');
}

function query<T>(conn: Connection, text: string, values: unknown[] = []): Promise<T[]> {
  return new Promise((resolve, reject) => {
    conn.query(text, values, (err, rows) => (err ? reject(err) : resolve(rows as T[])));
  });
}

/**
 * Prepares a new connection: UTC session (TIMESTAMP values are read and written as UTC instants),
 * strict sql_mode, and a server-side statement time limit so a slow query is stopped by the server
 * and the connection stays usable. MySQL's max_execution_time only covers SELECT; the client-side
 * backstop in mysql-pool.ts covers the rest.
 */
export async function initSession(conn: Connection, timeoutMs: number): Promise<ServerInfo> {
  const [row] = await query<{ version: string; sql_mode: string; local_infile: unknown; edft: unknown }>(
    conn,
    'select version() as version, @@session.sql_mode as sql_mode, @@global.local_infile as local_infile, ' +
      '@@session.explicit_defaults_for_timestamp as edft',
  );
  const info = parseServerInfo(String(row?.version ?? ''), Number(row?.local_infile ?? 0) === 1);
  const limit =
    info.flavor === 'mariadb'
      ? { name: 'max_statement_time', value: timeoutMs / 1000 }
      : { name: 'max_execution_time', value: Math.ceil(timeoutMs) };
  await query(conn, `set session time_zone = '+00:00', session sql_mode = ?, session ${limit.name} = ?`, [
    braidSqlMode(String(row?.sql_mode ?? '')),
    limit.value,
  ]);
  if (Number(row?.edft ?? 1) !== 1) {
    // Without it a NOT NULL TIMESTAMP column created on this session silently gets
    // DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP.
    // Setting it may need a privilege on MySQL; servers that refuse keep their default.
    await query(conn, 'set session explicit_defaults_for_timestamp = 1').catch(() => undefined);
  }
  return info;
}
