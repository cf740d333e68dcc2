import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { BraidError, badRequest } from '../../model/errors.js';
import type { ConnectionFailure, SourceConfig } from '../connector.js';
import { decimalSortKey } from './sqlite-decimal.js';

/** How a SQLite database file is opened. */
export interface SqliteFileOptions {
  /** Path of the database file, or `:memory:`. */
  file: string;
  /** Create the file (and its folder) when missing; otherwise a missing file is an error. */
  create: boolean;
  readonly: boolean;
  /** How long a statement waits for another process's lock. better-sqlite3 waits synchronously. */
  busyTimeoutMs: number;
}

/** Name of the SQL function that lower-cases like JavaScript (SQLite's lower() is ASCII-only). */
export const LOWER_FUNCTION = 'braid_lower';
/** Name of the SQL function answering `decimalSortKey` (exact order of decimals stored as text). */
export const DECIMAL_KEY_FUNCTION = 'braid_decimal_key';

/** `file` wins; a `url` may be `file:` URL or `sqlite:<path>`. */
export function resolveSqliteFile(config: SourceConfig): string {
  if (config.file) return config.file;
  const url = config.url;
  if (url?.startsWith('file:')) return fileURLToPath(url);
  if (url?.startsWith('sqlite:'))
    return decodeURIComponent(url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, ''));
  throw badRequest('invalid_config', 'a SQLite source needs "file": the path of the database file');
}

function isMemory(file: string): boolean {
  return file === ':memory:' || file === '';
}

/**
 * Why the file cannot be opened, in words a person can act on, or null when it looks openable.
 * Checked before opening because SQLite's own answer is the same "unable to open database file"
 * for a missing file, a folder and a permission problem.
 */
export function sqliteFileProblem(
  options: SqliteFileOptions,
): { code: ConnectionFailure; message: string } | null {
  if (isMemory(options.file)) return null;
  let stat: fs.Stats;
  try {
    stat = fs.statSync(options.file);
  } catch {
    if (options.create) return null;
    return { code: 'file_not_found', message: `the SQLite file "${options.file}" does not exist` };
  }
  if (stat.isDirectory()) {
    return {
      code: 'connection_failed',
      message: `"${options.file}" is a folder, not a SQLite database file`,
    };
  }
  try {
    fs.accessSync(options.file, options.readonly ? fs.constants.R_OK : fs.constants.R_OK | fs.constants.W_OK);
  } catch {
    const need = options.readonly ? 'read' : 'read and write';
    return { code: 'connection_failed', message: `Braid may not ${need} the SQLite file "${options.file}"` };
  }
  return null;
}

function lowerLikeJavaScript(value: unknown): unknown {
  if (typeof value === 'string') return value.toLowerCase();
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (Buffer.isBuffer(value)) return value.toString('utf8').toLowerCase();
  return value;
}

/**
 * Opens the database with Braid's session settings: WAL for files Braid creates (readers never
 * block the writer), a busy timeout, enforced
 * foreign keys and Braid's SQL functions (Unicode-aware lower, exact decimal sort key).
 */
export function openSqliteDatabase(options: SqliteFileOptions): Database.Database {
  const problem = sqliteFileProblem(options);
  if (problem) {
    throw new BraidError(503, problem.code, problem.message, { file: options.file });
  }
  if (options.create && !isMemory(options.file))
    fs.mkdirSync(path.dirname(options.file), { recursive: true });
  const db = new Database(options.file, {
    readonly: options.readonly,
    fileMustExist: !options.create,
    timeout: options.busyTimeoutMs,
  });
  try {
    // Reading the schema first turns "file is not a database" into an open error, not a query error.
    db.prepare('select count(*) from sqlite_schema').get();
    // WAL persists in the file: only files Braid creates get it; a person's own database keeps the
    // journal mode its application chose (WAL also fails on network file systems).
    if (options.create && !options.readonly) db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    // directOnly: a schema (view, trigger, index) using them would break every other tool opening the file.
    const pure = { deterministic: true, directOnly: true, safeIntegers: true };
    db.function(LOWER_FUNCTION, pure, lowerLikeJavaScript);
    db.function(DECIMAL_KEY_FUNCTION, pure, decimalSortKey);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
