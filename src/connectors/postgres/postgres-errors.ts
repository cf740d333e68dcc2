import { BraidError, QueryError, isBraidError } from '../../model/errors.js';

/**
 * node-postgres errors -> BraidError/QueryError with messages a person can act on. Server errors
 * carry a SQLSTATE (`code`) and fields (table, column, constraint, detail); network failures carry
 * a Node error code or one of pg's own messages. Messages never contain the connection string or
 * the password: they are built from the parts below and passed through `redact` as a last guard.
 */

/** Where the source lives, for messages (never the password). */
export interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  user: string;
}

/** The subset of pg's DatabaseError (and Node's system errors) that translation reads. */
export interface DriverError {
  message?: string;
  code?: string;
  detail?: string;
  /** Context, e.g. `unnamed portal parameter $3 = '...'` when a bound value was rejected. */
  where?: string;
  table?: string;
  column?: string;
  constraint?: string;
  schema?: string;
}

export function isDriverError(err: unknown): err is DriverError & Error {
  return err instanceof Error && !isBraidError(err);
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

const LOST_CONNECTION_RE =
  /connection terminated|not queryable|timeout exceeded when trying to connect|connection timeout|server does not support ssl|self[- ]signed certificate|unable to verify|certificate|client password must be|SASL/i;

/** pg's own error when the server asks for a password and the configuration has none. */
export const NO_PASSWORD_RE = /client password must be/i;

export function targetLabel(target: PostgresTarget): string {
  return target.host.startsWith('/') ? `${target.host} (socket)` : `${target.host}:${target.port}`;
}

/** Removes secrets from a message (a password echoed by some library, a whole URL). */
export function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const secret of secrets) if (secret) out = out.split(secret).join('***');
  return out.replace(/postgres(?:ql)?:\/\/[^\s'"]+/gi, 'postgres://***');
}

/** True for errors that mean "the server or the network is gone", as opposed to a failed statement. */
export function isConnectionError(err: DriverError): boolean {
  const code = err.code ?? '';
  if (NETWORK_CODES.has(code)) return true;
  if (
    /^08/.test(code) ||
    /^57P0[1-3]$/.test(code) ||
    code === '53300' ||
    /^28/.test(code) ||
    code === '3D000'
  ) {
    return true;
  }
  return !/^[0-9A-Z]{5}$/.test(code) && LOST_CONNECTION_RE.test(err.message ?? '');
}

/**
 * The session was established and then lost (server restart, terminated backend, dropped socket),
 * as opposed to a server that cannot be reached at all: a fresh connection may well work.
 * Accepts a driver error or a BraidError whose cause is one.
 */
export function isLostSession(err: unknown): boolean {
  const e = ((isBraidError(err) ? err.cause : err) ?? {}) as DriverError;
  return (
    /^57P0[12]$/.test(e.code ?? '') ||
    /terminated unexpectedly|not queryable|ECONNRESET|EPIPE/i.test(`${e.message} ${e.code}`)
  );
}

/** A human sentence for a connection-level failure; shared by `test()` and query errors. */
export function connectionMessage(err: DriverError, target: PostgresTarget, timeoutMs: number): string {
  const where = targetLabel(target);
  const code = err.code ?? '';
  const message = err.message ?? '';
  if (code === 'ECONNREFUSED')
    return `Nothing accepts connections at ${where} (connection refused): check the host and port, and that PostgreSQL is running.`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `The host "${target.host}" could not be found: check the host name.`;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH')
    return `The host ${target.host} cannot be reached from this server (no network route).`;
  if (NO_PASSWORD_RE.test(message))
    return `PostgreSQL at ${where} requires a password for user "${target.user}", and none is configured.`;
  if (code === '28P01') return `PostgreSQL at ${where} rejected the password for user "${target.user}".`;
  if (code === '28000' && /no encryption/i.test(message)) {
    return `PostgreSQL at ${where} requires an encrypted connection for user "${target.user}": turn on SSL for this source.`;
  }
  if (/^28/.test(code))
    return `PostgreSQL at ${where} does not let user "${target.user}" connect to database "${target.database}" (check pg_hba.conf and the role).`;
  if (code === '3D000') return `The database "${target.database}" does not exist on ${where}.`;
  if (code === '53300') return `PostgreSQL at ${where} has no free connection slots (too many connections).`;
  if (/^57P0[1-3]$/.test(code))
    return `PostgreSQL at ${where} closed the connection (server shutting down, restarting or the session was terminated).`;
  if (/server does not support ssl/i.test(message))
    return `PostgreSQL at ${where} does not accept TLS connections: turn SSL off for this source.`;
  if (/certificate|self[- ]signed|unable to verify/i.test(message) || /CERT|SELF_SIGNED/.test(code)) {
    return `The TLS certificate of ${where} could not be verified (${message}): install a trusted certificate, or use ssl: true to encrypt without verification.`;
  }
  if (/timeout/i.test(message) || code === 'ETIMEDOUT')
    return `PostgreSQL at ${where} did not answer within ${timeoutMs / 1000} s.`;
  if (/connection terminated|ECONNRESET|EPIPE|not queryable/i.test(`${message} ${code}`)) {
    return `The connection to PostgreSQL at ${where} was lost: the server went away or the network dropped it.`;
  }
  return `Could not connect to PostgreSQL at ${where}: ${message}`;
}

/** `Key (a, b)=(1, x) already exists.` -> { columns: 'a, b', values: '1, x' }. */
function parseKeyDetail(detail: string | undefined): { columns: string; values: string } | null {
  const m = detail ? /^Key \((.+?)\)=\((.*)\)[^)]*$/s.exec(detail) : null;
  return m ? { columns: m[1]!, values: m[2]!.length > 200 ? `${m[2]!.slice(0, 200)}…` : m[2]! } : null;
}

function inTable(err: DriverError): string {
  return err.table ? ` in "${err.table}"` : '';
}

export interface TranslateContext {
  target: PostgresTarget;
  secrets: readonly string[];
  timeoutMs: number;
}

type Verdict = [status: number, code: string, message: string];

const unquote = (quoted: string): string => quoted.replace(/""/g, '"');

/**
 * The column a bound parameter was meant for, read from the statement Braid compiled
 * (`"col" = $3`, or the position in an INSERT's column list), so a rejected value can be named:
 * PostgreSQL only says which parameter it was.
 */
export function parameterColumn(query: string, position: number): string | undefined {
  const param = `\\$${position}(?!\\d)`;
  const compared = new RegExp(`"((?:[^"]|"")+)"(?: collate "C")?\\s*(?:=|<>|<=|>=|<|>)\\s*${param}`).exec(
    query,
  );
  if (compared) return unquote(compared[1]!);
  const insert = /^insert into .+? \(((?:"(?:[^"]|"")+"(?:, )?)+)\) values \(/s.exec(query);
  if (!insert) return undefined;
  const columns = [...insert[1]!.matchAll(/"((?:[^"]|"")+)"/g)].map((m) => unquote(m[1]!));
  return columns[(position - 1) % columns.length];
}
type KeyDetail = { columns: string; values: string } | null;

/** Class 23: the statement broke a constraint; messages name the column, value and constraint. */
function constraintVerdict(e: DriverError, key: KeyDetail): Verdict | null {
  const constraint = `"${e.constraint}"`;
  switch (e.code) {
    case '23505':
      return key
        ? [
            409,
            'unique_violation',
            `A row with ${key.columns} = ${key.values} already exists${inTable(e)} (unique constraint ${constraint}).`,
          ]
        : [409, 'unique_violation', `The values conflict with unique constraint ${constraint}${inTable(e)}.`];
    case '23503': {
      const from = /from table "(.+?)"/.exec(e.detail ?? '')?.[1];
      const to = /in table "(.+?)"/.exec(e.detail ?? '')?.[1];
      if (key && from) {
        return [
          409,
          'foreign_key_violation',
          `The row with ${key.columns} = ${key.values}${inTable(e)} is still referenced from "${from}" (foreign key ${constraint}).`,
        ];
      }
      if (key && to) {
        return [
          409,
          'foreign_key_violation',
          `${key.columns} = ${key.values} does not exist in "${to}" (foreign key ${constraint}${inTable(e)}).`,
        ];
      }
      return [409, 'foreign_key_violation', `The change violates foreign key ${constraint}${inTable(e)}.`];
    }
    case '23502':
      return [400, 'missing_value', `Column "${e.column}"${inTable(e)} cannot be null.`];
    case '23514':
      return [400, 'check_violation', `A value${inTable(e)} violates check constraint ${constraint}.`];
    case '23P01':
      return [
        409,
        'exclusion_violation',
        `The row conflicts with exclusion constraint ${constraint}${inTable(e)}.`,
      ];
    default:
      return null;
  }
}

/** Every other server or driver error. */
function otherVerdict(err: unknown, e: DriverError, context: TranslateContext, column?: string): Verdict {
  const code = e.code ?? '';
  const message = e.message ?? String(err);
  if (code === '57014' && !/user request/i.test(message)) {
    return [
      504,
      'timeout',
      `The statement took longer than the ${context.timeoutMs / 1000} s timeout and was canceled.`,
    ];
  }
  if (code === '55P03') return [504, 'timeout', `The statement waited too long for a lock: ${message}`];
  if (code === '40001' || code === '40P01') {
    return [
      409,
      'serialization_failure',
      `The transaction conflicted with a concurrent one and was rolled back; retry it (${message}).`,
    ];
  }
  if (code === '42501') return [403, 'permission_denied', `PostgreSQL refused: ${message}.`];
  if (code === '21000')
    return [400, 'duplicate_rows', `The same key appears twice in one batch: ${message}.`];
  if ((err as Error | undefined)?.name === 'AbortedTransactionError') {
    return [
      409,
      'transaction_aborted',
      'The transaction was rolled back because a statement in it had failed.',
    ];
  }
  if (code.startsWith('22')) {
    return [
      400,
      'invalid_value',
      column ? `Invalid value for "${column}": ${message}.` : `Invalid value: ${message}.`,
    ];
  }
  if (code.startsWith('42')) return [400, 'invalid_query', `The statement is not valid: ${message}.`];
  if (isConnectionError(e))
    return [502, 'source_unavailable', connectionMessage(e, context.target, context.timeoutMs)];
  return [500, 'query_failed', `The statement failed on PostgreSQL: ${message}`];
}

/** Builds the QueryError for a driver error (a BraidError passes through unchanged). */
export function translatePostgresError(
  err: unknown,
  query: string,
  params: readonly unknown[],
  context: TranslateContext,
): BraidError {
  if (isBraidError(err)) return err;
  const e: DriverError =
    err !== null && typeof err === 'object' ? (err as DriverError) : { message: String(err) };
  const details: Record<string, unknown> = {};
  for (const field of ['table', 'column', 'constraint', 'schema'] as const)
    if (e[field]) details[field] = e[field];
  if (/^[0-9A-Z]{5}$/.test(e.code ?? '')) details.sqlstate = e.code;
  const parameter = /portal parameter \$(\d+)/.exec(e.where ?? '')?.[1];
  const column = e.column ?? (parameter ? parameterColumn(query, Number(parameter)) : undefined);
  if (column) details.column = column;
  const key = parseKeyDetail(e.detail);
  if (key) Object.assign(details, { columns: key.columns, value: key.values });
  const [status, code, message] = constraintVerdict(e, key) ?? otherVerdict(err, e, context, column);
  return new QueryError(status, code, redact(message, context.secrets), query, params, err, details);
}
