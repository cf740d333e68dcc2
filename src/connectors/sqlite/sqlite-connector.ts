import type BetterSqlite3 from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { BraidError, QueryError, badRequest } from '../../model/errors.js';
import type { AlterTableChange, DatabaseSchema, TableSchema } from '../../model/schema.js';
import type { Row } from '../../model/values.js';
import type { Capabilities, Connector, TestResult } from '../connector.js';
import { KyselyConnector } from '../shared/kysely-connector.js';
import { sqliteAdapter } from './sqlite-adapter.js';
import { bulkLoadSqlite } from './sqlite-bulk-load.js';
import { openSqliteDatabase, sqliteFileProblem, type SqliteFileOptions } from './sqlite-database.js';
import { BraidSqliteDialect } from './sqlite-dialect.js';
import { isDriverError, translateSqliteError } from './sqlite-errors.js';
import { introspectSqlite } from './sqlite-introspector.js';
import { checkWritableLength } from './sqlite-values.js';

/** The opened better-sqlite3 database, shared by a connector and the ones bound to its transactions. */
class SqliteFile {
  private db: BetterSqlite3.Database | undefined;

  constructor(readonly options: SqliteFileOptions) {}

  readonly open = async (): Promise<BetterSqlite3.Database> => {
    this.db = openSqliteDatabase(this.options);
    return this.db;
  };

  /** The open database; only valid while Kysely holds the connection (inside a transaction). */
  get database(): BetterSqlite3.Database {
    if (!this.db?.open) throw new BraidError(503, 'connection_failed', 'the SQLite database is not open');
    return this.db;
  }
}

/**
 * A SQLite database file behind the Connector interface: sources, Braid's built-in tables and the
 * demo. One better-sqlite3 connection per connector (SQLite has one writer anyway), serialized by
 * Kysely; see index.ts for the options.
 */
export class SqliteConnector extends KyselyConnector {
  readonly kind = 'sqlite' as const;
  readonly defaultSchema = 'main';
  readonly capabilities: Capabilities;

  private constructor(
    db: Kysely<any>,
    private readonly file: SqliteFile,
    private readonly root: boolean,
  ) {
    super(db, sqliteAdapter);
    const writable = !file.options.readonly;
    this.capabilities = {
      returning: true,
      upsert: true,
      transactions: true,
      logicalCapture: false,
      binlog: false,
      triggers: writable,
      schemas: false,
      nulInText: true,
    };
  }

  /** Lazy: the file is opened by the first statement, not here. */
  static open(options: SqliteFileOptions): SqliteConnector {
    const file = new SqliteFile(options);
    const db = new Kysely<any>({ dialect: new BraidSqliteDialect(file.open, options.readonly) });
    return new SqliteConnector(db, file, true);
  }

  protected override withDb(db: Kysely<any>): KyselyConnector {
    return new SqliteConnector(db, this.file, false);
  }

  async test(): Promise<TestResult> {
    const started = performance.now();
    const problem = sqliteFileProblem(this.file.options);
    if (problem) return { ok: false, ...problem };
    try {
      const { rows } = await this.run<{ version: string }>(
        sql`select sqlite_version() as version, (select count(*) from sqlite_schema) as objects`,
      );
      return {
        ok: true,
        serverVersion: rows[0]!.version,
        latencyMs: Math.round(performance.now() - started),
      };
    } catch (err) {
      const code = err instanceof BraidError ? err.code : '';
      if (code === 'file_not_found')
        return { ok: false, code: 'file_not_found', message: (err as Error).message };
      if (code === 'connection_failed' && /not an SQLite database/.test((err as Error).message)) {
        return {
          ok: false,
          code: 'connection_failed',
          message: `"${this.file.options.file}" is not an SQLite database (file is not a database)`,
        };
      }
      const cause =
        err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
      return {
        ok: false,
        code: 'connection_failed',
        message: `cannot open "${this.file.options.file}": ${cause}`,
      };
    }
  }

  introspect(): Promise<DatabaseSchema> {
    return introspectSqlite(async (query) => (await this.run(query)).rows as never[]);
  }

  /** Every write (insert, update, upsert) encodes its rows here: lengths are checked on the way. */
  protected override encodeRow(table: TableSchema, row: Row, columns: string[]): unknown[] {
    for (const name of columns) {
      const column = table.columns.find((c) => c.name === name);
      if (column) checkWritableLength(column, row[name]);
    }
    return super.encodeRow(table, row, columns);
  }

  /** One prepared INSERT run per row inside one transaction: SQLite's fastest load path. */
  override async bulkLoad(
    table: TableSchema,
    batches: AsyncIterable<Row[]> | Iterable<Row[]>,
  ): Promise<{ rows: number }> {
    return this.transaction(async () => bulkLoadSqlite(this.file.database, table, batches));
  }

  /**
   * BEGIN and COMMIT run outside `run()`, so a lock held by another process (SQLITE_BUSY) would reach
   * the caller as a driver error; it is translated here. Errors thrown by `fn` pass unchanged.
   */
  override async transaction<T>(fn: (tx: Connector) => Promise<T>): Promise<T> {
    try {
      return await super.transaction(fn);
    } catch (err) {
      if (isDriverError(err)) throw translateSqliteError(err, 'begin immediate ... commit', []);
      throw err;
    }
  }

  /**
   * The base statements work (SQLite >= 3.35 adds, drops and renames columns natively); what SQLite
   * refuses is checked first or turned into a 400 that says why.
   */
  override async alterTable(table: TableSchema, changes: AlterTableChange[]): Promise<void> {
    for (const change of changes) {
      if (change.op !== 'addColumn') continue;
      const column = change.column;
      if (column.autoIncrement) {
        throw badRequest(
          'unsupported_change',
          `SQLite cannot add the key column "${column.name}" to an existing table`,
        );
      }
      if (column.nullable === false && (column.defaultValue === undefined || column.defaultValue === null)) {
        const message = `SQLite can add the required column "${column.name}" only with a default value`;
        throw badRequest('unsupported_change', message, { field: column.name });
      }
    }
    try {
      await super.alterTable(table, changes);
    } catch (err) {
      if (err instanceof QueryError && (err.code === 'query_failed' || err.code === 'invalid_query')) {
        const reason = (err.cause as Error | undefined)?.message ?? err.message;
        throw new QueryError(
          400,
          'unsupported_change',
          `SQLite refused to change "${table.name}": ${reason}`,
          err.query,
          err.params,
          err.cause,
        );
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    // Connectors bound to a transaction share the root's connection; only the root closes it.
    if (this.root) await this.db.destroy();
  }
}
