import type BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
  type SqliteStatement,
} from 'kysely';

/** Prepared statements kept per connection; Braid's statements repeat (one INSERT per row). */
const STATEMENT_CACHE_SIZE = 200;

/** better-sqlite3 binds numbers, strings, bigints, buffers and null; the rest is made one of those. */
export function toDriverParam(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value);
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) return JSON.stringify(value);
  return value;
}

/**
 * Rows are read with safe integers so a 64-bit value is never rounded; the ones that fit in a JS
 * number are turned back into numbers here, so only values beyond 2^53 stay bigint.
 */
function narrowIntegers(row: unknown): unknown {
  const record = row as Record<string, unknown>;
  for (const key in record) {
    const value = record[key];
    if (typeof value === 'bigint' && value >= -9007199254740991n && value <= 9007199254740991n) {
      record[key] = Number(value);
    }
  }
  return record;
}

/**
 * better-sqlite3 behind Kysely's SqliteDatabase interface, with safe integers, parameter
 * conversion and a small LRU of prepared statements.
 */
class BraidSqliteDatabase implements SqliteDatabase {
  private readonly statements = new Map<string, BetterSqlite3.Statement>();

  constructor(private readonly db: BetterSqlite3.Database) {}

  close(): void {
    this.statements.clear();
    this.db.close();
  }

  private cached(text: string): BetterSqlite3.Statement {
    let statement = this.statements.get(text);
    if (statement) {
      this.statements.delete(text);
    } else {
      statement = this.db.prepare(text).safeIntegers(true);
      if (this.statements.size >= STATEMENT_CACHE_SIZE) {
        this.statements.delete(this.statements.keys().next().value!);
      }
    }
    this.statements.set(text, statement);
    return statement;
  }

  prepare(text: string): SqliteStatement {
    const statement = this.cached(text);
    const db = this.db;
    return {
      reader: statement.reader,
      all: (parameters) => statement.all(parameters.map(toDriverParam)).map(narrowIntegers),
      run: (parameters) => statement.run(parameters.map(toDriverParam)),
      // An iterating statement is busy until exhausted: use a fresh one, not the shared cached one.
      iterate: (parameters) => {
        const fresh = db.prepare(text).safeIntegers(true);
        const rows = fresh.iterate(parameters.map(toDriverParam)) as IterableIterator<unknown>;
        return (function* () {
          for (const row of rows) yield narrowIntegers(row);
        })();
      },
    };
  }
}

/**
 * Write transactions start with BEGIN IMMEDIATE: a deferred transaction that reads and then writes
 * can fail with SQLITE_BUSY at once when another process wrote in between, whatever the busy timeout.
 */
class BraidSqliteDriver extends SqliteDriver {
  constructor(
    config: SqliteDialectConfig,
    private readonly readonly: boolean,
  ) {
    super(config);
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(this.readonly ? 'begin' : 'begin immediate'));
  }
}

/** Kysely's SqliteDialect over a lazily opened better-sqlite3 database. */
export class BraidSqliteDialect extends SqliteDialect {
  private readonly dialectConfig: SqliteDialectConfig;

  constructor(
    open: () => Promise<BetterSqlite3.Database>,
    private readonly readonly: boolean,
  ) {
    const config: SqliteDialectConfig = { database: async () => new BraidSqliteDatabase(await open()) };
    super(config);
    this.dialectConfig = config;
  }

  override createDriver(): Driver {
    return new BraidSqliteDriver(this.dialectConfig, this.readonly);
  }
}
