import { BraidError, QueryError } from '../../model/errors.js';

/** better-sqlite3's SqliteError: `code` is the extended result code name, e.g. SQLITE_CONSTRAINT_UNIQUE. */
interface DriverError {
  code?: unknown;
  message?: unknown;
}

/** better-sqlite3's own error type, recognized by its SQLITE_* code. */
export function isDriverError(err: unknown): boolean {
  return !(err instanceof BraidError) && driverCode(err).startsWith('SQLITE_');
}

function driverCode(err: unknown): string {
  const code = (err as DriverError | null)?.code;
  return typeof code === 'string' ? code : '';
}

function driverMessage(err: unknown): string {
  const message = (err as DriverError | null)?.message;
  return typeof message === 'string' ? message : String(err);
}

/**
 * Columns named by a constraint message: 'UNIQUE constraint failed: t.a, t.b' -> ['a', 'b'].
 * SQLite prefixes each column with its table; names with a dot are rare enough to accept the
 * ambiguity of cutting at the first one.
 */
export function constraintColumns(message: string): string[] {
  const at = message.indexOf('failed: ');
  if (at === -1) return [];
  const list = message.slice(at + 'failed: '.length).trim();
  if (list.startsWith('index ')) return [];
  return list.split(', ').map((item) => {
    const dot = item.indexOf('.');
    return dot === -1 ? item : item.slice(dot + 1);
  });
}

function constraintTable(message: string): string | undefined {
  const first = message.split('failed: ')[1]?.split(', ')[0];
  const dot = first?.indexOf('.') ?? -1;
  return first && dot > 0 ? first.slice(0, dot) : undefined;
}

/**
 * SQLITE_ERROR is SQLite's code for almost everything; these messages say the statement itself is
 * wrong (the caller's mistake: 400 `invalid_query`, as on the other engines). better-sqlite3 throws
 * RangeError for a wrong number of bindings or several statements in one string.
 */
const INVALID_STATEMENT =
  /syntax error|incomplete input|unrecognized token|no such (table|column|function|collation)|ambiguous column|has no column named|values for \d+ columns|wrong number of arguments|misuse of (aggregate|window)|no tables specified|more than one statement|parameter values/i;

function isInvalidStatement(err: unknown, code: string, message: string): boolean {
  if (code === 'SQLITE_ERROR') return INVALID_STATEMENT.test(message);
  return err instanceof RangeError && INVALID_STATEMENT.test(message);
}

function quoted(names: string[]): string {
  return names.map((n) => `"${n}"`).join(', ');
}

/**
 * A better-sqlite3 error -> BraidError, keeping the statement and its parameters for the logs.
 * Constraint failures become the caller's problem (4xx) with the columns named; a locked database
 * is 503 so clients retry; everything else is a 500 that still says what SQLite said.
 */
export function translateSqliteError(err: unknown, query: string, params: readonly unknown[]): BraidError {
  if (err instanceof BraidError) return err;
  const code = driverCode(err);
  const message = driverMessage(err);
  const fail = (
    status: number,
    braidCode: string,
    text: string,
    details?: Record<string, unknown>,
  ): QueryError =>
    new QueryError(status, braidCode, text, query, params, err, { sqliteCode: code, ...details });

  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const columns = constraintColumns(message);
    const table = constraintTable(message);
    const what = columns.length > 0 ? `the same ${quoted(columns)}` : 'the same unique key';
    return fail(
      409,
      'unique_violation',
      `a row with ${what} already exists${table ? ` in "${table}"` : ''}`,
      {
        columns,
        ...(table ? { table } : {}),
      },
    );
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return fail(
      409,
      'foreign_key_violation',
      'the change breaks a foreign key: a referenced row does not exist, or other rows still reference this one',
    );
  }
  if (code === 'SQLITE_CONSTRAINT_NOTNULL') {
    const [column] = constraintColumns(message);
    return fail(400, 'missing_value', `column "${column ?? '?'}" cannot be null`, { field: column });
  }
  if (code === 'SQLITE_CONSTRAINT_CHECK') {
    const rule = message.split('failed: ')[1] ?? '';
    return fail(
      400,
      'invalid_value',
      `a value breaks the check constraint ${rule ? `"${rule}"` : 'of the table'}`,
      {
        constraint: rule,
      },
    );
  }
  if (code === 'SQLITE_CONSTRAINT_DATATYPE' || code === 'SQLITE_MISMATCH') {
    return fail(400, 'invalid_value', `a value does not fit its column: ${message}`);
  }
  if (code === 'SQLITE_CONSTRAINT_TRIGGER' || code === 'SQLITE_CONSTRAINT') {
    return fail(409, 'constraint_violation', `the database refused the change: ${message}`);
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return fail(503, 'busy', 'the SQLite database is locked by another writer: try again shortly');
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return fail(403, 'read_only', `the SQLite database is read-only: ${message}`);
  }
  if (code === 'SQLITE_NOTADB') {
    return fail(503, 'connection_failed', 'the file is not an SQLite database');
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return fail(503, 'file_not_found', `the SQLite database file cannot be opened: ${message}`);
  }
  if (isInvalidStatement(err, code, message)) {
    return fail(400, 'invalid_query', `the statement is not valid: ${message}`);
  }
  return fail(500, 'query_failed', `SQLite could not run the statement: ${message}`);
}
