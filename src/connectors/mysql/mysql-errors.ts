import { BraidError, QueryError } from '../../model/errors.js';

/** The fields of a mysql2 error the translation reads. */
export interface DriverError {
  errno?: number;
  code?: string;
  sqlMessage?: string;
  message?: string;
  fatal?: boolean;
}

/** Network-level failures: the source is unreachable or the connection is gone. */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'PROTOCOL_ENQUEUE_HANDSHAKE_TWICE',
  'HANDSHAKE_NO_SSL_SUPPORT',
]);
/** Server errnos meaning the connection or the server went away (killed, shutdown, overloaded). */
const UNAVAILABLE_ERRNOS = new Set([
  1040, 1053, 1077, 1080, 1152, 1159, 1161, 1927, 2002, 2003, 2006, 2013, 4031,
]);
const TIMEOUT_ERRNOS = new Set([1969, 3024, 1205]);
/**
 * The statement itself is wrong (syntax, unknown column/table/function, wrong operand count):
 * the caller's mistake, so 400 `invalid_query` as on the other engines.
 */
const INVALID_STATEMENT_ERRNOS = new Set([
  1052, 1054, 1060, 1064, 1109, 1146, 1149, 1241, 1242, 1248, 1305, 1582, 1583, 1630,
]);

/** A pooled connection that died while idle (not a server that cannot be reached at all). */
const STALE_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
]);

/** Errors after which the same statement may be sent again on a fresh connection. */
export function isStaleConnection(err: unknown): boolean {
  const e = err as DriverError | null;
  if (!e || typeof e !== 'object') return false;
  if (e.code && STALE_CODES.has(e.code)) return true;
  if (e.errno !== undefined && [1927, 2006, 2013, 4031].includes(e.errno)) return true;
  return /closed state/i.test(e.message ?? '');
}

/**
 * A mysql2 error -> BraidError. Messages name the column, constraint and value the server names
 * and never contain connection settings. The query and its parameters stay on the QueryError.
 */
export function translateMysqlError(
  err: unknown,
  query: string,
  params: readonly unknown[],
  timeoutMs: number,
): BraidError {
  if (err instanceof BraidError) return err;
  const e = (err ?? {}) as DriverError;
  const text = e.sqlMessage ?? e.message ?? String(err);
  const shownParams = params.map((p) =>
    p !== null && typeof p === 'object' && 'toSqlString' in p ? String(p) : p,
  );
  const fail = (
    status: number,
    code: string,
    message: string,
    details?: Record<string, unknown>,
  ): QueryError =>
    new QueryError(status, code, message, query, shownParams, err, {
      ...details,
      ...(e.errno ? { errno: e.errno } : {}),
    });

  switch (e.errno) {
    case 1062:
    case 1586: {
      const m = /Duplicate entry '([\s\S]*)' for key '([^']*)'/.exec(text);
      const key = m?.[2]?.replace(/^.*\./, '') ?? 'unknown';
      const value = m?.[1] ?? '';
      const what = key === 'PRIMARY' ? 'primary key' : `unique key "${key}"`;
      return fail(409, 'unique_violation', `a row with ${what} value "${value}" already exists`, {
        constraint: key,
        value,
      });
    }
    case 1451:
    case 1452:
      return foreignKeyError(e.errno, text, fail);
    case 1048:
    case 1263:
    case 1364: {
      // 1263 is LOAD DATA's NULL for a NOT NULL column.
      const column = /(?:Column|Field|column) '([^']*)'/.exec(text)?.[1] ?? 'unknown';
      const why = e.errno === 1048 ? 'cannot be null' : 'is required (it has no default value)';
      return fail(400, 'missing_value', `column "${column}" ${why}`, { field: column });
    }
    case 1366:
    case 1292:
    case 1367:
    case 1411: {
      const m = /Incorrect (\w+) value: '([\s\S]*?)' for column (?:`[^`]*`\.)*`?'?([^`']*)/.exec(text);
      if (m) {
        return fail(400, 'invalid_value', `"${m[2]}" is not a valid ${m[1]} value for column "${m[3]}"`, {
          field: m[3],
          value: m[2],
        });
      }
      return fail(400, 'invalid_value', `invalid value: ${text}`);
    }
    case 1264:
    case 1406:
    case 1265:
    case 1690: {
      const column =
        /column '([^']*)'/.exec(text)?.[1] ?? /for column `(?:[^`]*`\.`)*([^`]*)`/.exec(text)?.[1];
      const why =
        e.errno === 1406 ? 'is too long for' : e.errno === 1265 ? 'does not fit' : 'is out of range for';
      return fail(
        400,
        'invalid_value',
        column ? `the value ${why} column "${column}"` : `value out of range: ${text}`,
        {
          ...(column ? { field: column } : {}),
        },
      );
    }
    case 4025:
    case 3819: {
      const name =
        /CONSTRAINT `([^`]*)`/.exec(text)?.[1] ?? /constraint '([^']*)'/i.exec(text)?.[1] ?? 'unknown';
      return fail(400, 'invalid_value', `the row violates check constraint "${name}"`, { constraint: name });
    }
  }
  if ((e.errno !== undefined && TIMEOUT_ERRNOS.has(e.errno)) || e.code === 'PROTOCOL_SEQUENCE_TIMEOUT') {
    const what =
      e.errno === 1205
        ? 'waited too long for a lock held by another transaction'
        : `took longer than ${formatSeconds(timeoutMs)}`;
    return fail(504, 'timeout', `the query ${what} and was stopped`);
  }
  if (isUnavailable(e)) return fail(502, 'source_unavailable', unavailableMessage(e));
  if (e.errno !== undefined && INVALID_STATEMENT_ERRNOS.has(e.errno)) {
    return fail(400, 'invalid_query', `the statement is not valid: ${text}`);
  }
  return fail(500, 'query_failed', `the query failed: ${text}`);
}

function isUnavailable(e: DriverError): boolean {
  if (e.code && UNAVAILABLE_CODES.has(e.code)) return true;
  if (e.errno !== undefined && UNAVAILABLE_ERRNOS.has(e.errno)) return true;
  if (e.errno === 1045) return true;
  return /closed state|Pool is closed|connection lost/i.test(e.message ?? '');
}

function unavailableMessage(e: DriverError): string {
  if (e.errno === 1045) return 'the source refused the stored credentials (access denied)';
  if (e.code === 'ECONNREFUSED') return 'the source refused the connection: is the server running?';
  if (e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN')
    return 'the host name of the source could not be resolved';
  if (e.code === 'ETIMEDOUT') return 'the source did not answer in time';
  if (e.errno === 1040) return 'the source has too many connections';
  if (/Pool is closed/.test(e.message ?? '')) return 'the connector was closed';
  return 'the connection to the source was lost';
}

function foreignKeyError(
  errno: number,
  text: string,
  fail: (status: number, code: string, message: string, details?: Record<string, unknown>) => QueryError,
): QueryError {
  // "... fails (`db`.`child`, CONSTRAINT `fk` FOREIGN KEY (`a`, `b`) REFERENCES `parent` (`id`) ...)"
  const m =
    /\(`[^`]*`\.`([^`]*)`, CONSTRAINT `([^`]*)` FOREIGN KEY \(([^)]*)\) REFERENCES `([^`]*)` \(([^)]*)\)/.exec(
      text,
    );
  const names = (list: string | undefined): string[] =>
    (list ?? '').split(',').map((s) => s.trim().replace(/^`|`$/g, ''));
  const details = m
    ? {
        constraint: m[2],
        table: m[1],
        columns: names(m[3]),
        referencedTable: m[4],
        referencedColumns: names(m[5]),
      }
    : {};
  if (!m) return fail(409, 'foreign_key_violation', `the change violates a foreign key: ${text}`);
  if (errno === 1451) {
    return fail(
      409,
      'foreign_key_violation',
      `the row is still referenced by table "${m[1]}" through foreign key "${m[2]}" (${names(m[3]).join(', ')})`,
      details,
    );
  }
  return fail(
    409,
    'foreign_key_violation',
    `${names(m[3])
      .map((c) => `"${c}"`)
      .join(', ')} must match an existing row of "${m[4]}" (foreign key "${m[2]}")`,
    details,
  );
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
