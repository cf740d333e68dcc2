import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { QueryError, badRequest, isBraidError } from '../../model/errors.js';
import type { Filter } from '../../model/filter.js';
import { resolveSort, type RowPage, type RowQuery } from '../../model/query.js';
import type { DatabaseSchema, TableSchema } from '../../model/schema.js';
import type { Row } from '../../model/values.js';
import type { Capabilities, Connector, StreamQuery, TestResult } from '../connector.js';
import { compileFilter } from '../shared/filter-compiler.js';
import { orderByClause } from '../shared/keyset.js';
import type { Sql } from '../shared/dialect-adapter.js';
import { KyselyConnector } from '../shared/kysely-connector.js';
import { PostgresAdapter } from './postgres-adapter.js';
import { copyRows } from './postgres-bulk-load.js';
import { detectCollation } from './postgres-collation.js';
import type { ResolvedPostgresConfig } from './postgres-config.js';
import { testPostgresConnection } from './postgres-connection-test.js';
import { isConnectionError, isLostSession } from './postgres-errors.js';
import { PostgresIntrospector } from './postgres-introspector.js';
import { createSourcePool, type PostgresSourcePool } from './postgres-pool.js';
import { fetchBatches } from './postgres-stream.js';
import { quoteIdentifier } from './postgres-types.js';

const MAX_STREAM_BATCH = 100_000;

/** What every connector of one source shares: the pool, and what was learned about the server. */
export interface PostgresShared {
  config: ResolvedPostgresConfig;
  schemas: readonly string[] | undefined;
  pool: PostgresSourcePool;
  root: Kysely<any>;
  adapter: PostgresAdapter;
  collation?: Promise<void>;
  closing?: Promise<void>;
}

/** Builds the pool and Kysely instance; no connection is opened until the first query. */
export function createPostgresShared(
  config: ResolvedPostgresConfig,
  schemas: readonly string[] | undefined,
): PostgresShared {
  const pool = createSourcePool(config.client);
  const root = new Kysely<any>({ dialect: new PostgresDialect({ pool: pool.forKysely }) });
  const adapter = new PostgresAdapter({
    target: config.target,
    secrets: config.secrets,
    timeoutMs: config.timeoutMs,
  });
  return { config, schemas, pool, root, adapter };
}

/** Driver failures (server errors, lost connections), as opposed to errors thrown by caller code. */
function isDriverFailure(err: unknown): boolean {
  if (isBraidError(err) || !(err instanceof Error)) return false;
  return err instanceof pg.DatabaseError || isConnectionError(err) || err.name === 'AbortedTransactionError';
}

/**
 * The PostgreSQL connector: KyselyConnector's CRUD, filters and pages, plus catalog
 * introspection, DECLARE/FETCH streaming and COPY bulk loads. See index.ts for the configuration.
 */
export class PostgresConnector extends KyselyConnector {
  readonly kind = 'postgres' as const;
  readonly capabilities: Capabilities = {
    returning: true,
    upsert: true,
    transactions: true,
    logicalCapture: true,
    binlog: false,
    triggers: true,
    schemas: true,
    nulInText: false,
  };
  readonly defaultSchema = 'public';
  /** A source limited to some schemas sees only those: unqualified new tables go to the first. */
  readonly createSchema: string;
  private readonly pgAdapter: PostgresAdapter;

  constructor(
    private readonly shared: PostgresShared,
    db: Kysely<any> = shared.root,
  ) {
    super(db, shared.adapter);
    this.pgAdapter = shared.adapter;
    this.createSchema = shared.schemas?.[0] ?? 'public';
  }

  protected withDb(db: Kysely<any>): PostgresConnector {
    return new PostgresConnector(this.shared, db);
  }

  test(): Promise<TestResult> {
    return testPostgresConnection(this.shared.config);
  }

  async introspect(): Promise<DatabaseSchema> {
    try {
      return await new PostgresIntrospector(this.db, this.shared.schemas).introspect();
    } catch (err) {
      throw this.pgAdapter.translateError(err, 'select ... from pg_catalog (introspection)', []);
    }
  }

  /** Learns the default collation once per source, before the first statement that compares strings. */
  private async ready(): Promise<void> {
    const detect = (): ReturnType<typeof detectCollation> =>
      detectCollation(this.db).catch((err: unknown) => {
        if (this.db.isTransaction || !isLostSession(err)) throw err;
        return detectCollation(this.db); // a pooled session that just died: once more, fresh
      });
    this.shared.collation ??= detect().then(
      (state) => {
        this.pgAdapter.collation = state;
      },
      (err: unknown) => {
        this.shared.collation = undefined;
        throw this.pgAdapter.translateError(err, 'select ... from pg_database (collation)', []);
      },
    );
    await this.shared.collation;
  }

  /**
   * A read outside a transaction that failed because its pooled session had just died (server
   * restart, terminated backend) is retried once on a fresh connection. Writes are not: whether
   * the server applied them cannot be known.
   */
  protected override async run<R = Row>(
    query: Sql,
  ): Promise<{ rows: R[]; affected: number; insertId?: bigint }> {
    try {
      return await super.run<R>(query);
    } catch (err) {
      const retry =
        !this.db.isTransaction &&
        err instanceof QueryError &&
        /^\s*select\b/i.test(err.query) &&
        isLostSession(err);
      if (!retry) throw err;
      return super.run<R>(query);
    }
  }

  override async select(table: TableSchema, query: RowQuery): Promise<RowPage> {
    await this.ready();
    return super.select(table, query);
  }

  override async count(table: TableSchema, filter?: Filter): Promise<number> {
    await this.ready();
    return super.count(table, filter);
  }

  /**
   * All matching rows through a server-side cursor (see postgres-stream.ts), `batchSize` rows per
   * batch. Outside a transaction it opens a read-only one for the cursor, ended when the consumer
   * finishes or stops early.
   */
  override async *stream(table: TableSchema, query: StreamQuery = {}): AsyncIterable<Row[]> {
    const batchSize = query.batchSize ?? 1000;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_STREAM_BATCH) {
      throw badRequest('invalid_limit', `batchSize must be an integer from 1 to ${MAX_STREAM_BATCH}`, {
        batchSize,
      });
    }
    await this.ready();
    const filter = compileFilter(this.bindFilter(table, query.filter), table, this.adapter);
    const sort = resolveSort(table, query.sort);
    const select = sql`select ${this.selectList(table, undefined)} from ${this.adapter.table(table)} where ${filter} order by ${orderByClause(sort, table, this.adapter)}`;
    const batches = (self: PostgresConnector) =>
      fetchBatches<Row>(select, batchSize, async (q) => (await self.run(q)).rows);
    if (this.db.isTransaction) {
      for await (const rows of batches(this)) yield rows.map((r) => this.decodeRow(table, r));
      return;
    }
    let trx;
    try {
      trx = await this.db.startTransaction().setAccessMode('read only').execute();
    } catch (err) {
      throw this.pgAdapter.translateError(err, 'start transaction read only', []);
    }
    let completed = false;
    try {
      for await (const rows of batches(this.withDb(trx))) yield rows.map((r) => this.decodeRow(table, r));
      completed = true;
    } finally {
      // Read-only: commit and rollback are equivalent; rollback also cleans up after errors.
      await (completed ? trx.commit() : trx.rollback()).execute().catch(() => {});
    }
  }

  /** COPY FROM STDIN in one transaction (see postgres-bulk-load.ts). */
  override async bulkLoad(
    table: TableSchema,
    batches: AsyncIterable<Row[]> | Iterable<Row[]>,
  ): Promise<{ rows: number }> {
    return this.transaction(async (tx) => (tx as PostgresConnector).copyIn(table, batches));
  }

  private async copyIn(
    table: TableSchema,
    batches: AsyncIterable<Row[]> | Iterable<Row[]>,
  ): Promise<{ rows: number }> {
    const client = await this.currentClient();
    // A COPY is one statement that lasts as long as the source keeps producing rows, so the
    // per-statement timeout is lifted for it (and restored, in case the caller's transaction goes on).
    const { rows } = await this.run<{ previous: string }>(
      sql`select current_setting('statement_timeout') as previous, set_config('statement_timeout', '0', true)`,
    );
    const progress = { statement: '' };
    let loaded: number;
    try {
      loaded = await copyRows(client, table, batches, progress);
    } catch (err) {
      throw isDriverFailure(err) ? this.pgAdapter.translateError(err, progress.statement, []) : err;
    }
    await this.run(sql`select set_config('statement_timeout', ${rows[0]?.previous ?? '0'}, true)`);
    if (loaded > 0) await this.advanceSequences(table);
    return { rows: loaded };
  }

  /**
   * COPY with explicit values for a serial or identity column leaves its sequence behind, and the
   * next ordinary INSERT would collide with a loaded key. Moves each such sequence up to the
   * column's maximum (never down: keys handed out before are not handed out again).
   */
  private async advanceSequences(table: TableSchema): Promise<void> {
    const qualified = `${quoteIdentifier(table.schema ?? 'public')}.${quoteIdentifier(table.name)}`;
    for (const column of table.columns.filter((c) => c.autoIncrement)) {
      await this.run(sql`select setval(s.seq::regclass, s.top)
        from (select pg_get_serial_sequence(${qualified}, ${column.name}) as seq,
                     (select max(${sql.id(column.name)}) from ${this.adapter.table(table)}) as top) s
        where s.seq is not null and s.top is not null
          and s.top > coalesce(pg_sequence_last_value(s.seq::regclass), 0)`);
    }
  }

  /**
   * The pg client under this connector's transaction. Kysely does not expose it, but the pool
   * reports each client it connects, and the backend pid names the one this session runs on.
   */
  private async currentClient(): Promise<pg.PoolClient> {
    const { rows } = await this.run<{ pid: number }>(sql`select pg_backend_pid() as pid`);
    const client = this.shared.pool.clientByPid(Number(rows[0]?.pid));
    if (!client) throw new Error('internal: the pool client of this transaction is not known');
    return client;
  }

  /** Also translates failures of BEGIN/COMMIT and of getting a connection, not only statements. */
  override async transaction<T>(fn: (tx: Connector) => Promise<T>): Promise<T> {
    try {
      return await super.transaction(fn);
    } catch (err) {
      throw isDriverFailure(err) ? this.pgAdapter.translateError(err, 'begin / commit', []) : err;
    }
  }

  /** Closes the pool (idempotent). A connector bound to a transaction leaves the pool to its owner. */
  async close(): Promise<void> {
    if (this.db.isTransaction) return;
    this.shared.closing ??= (async () => {
      await this.shared.root.destroy();
      if (!this.shared.pool.pool.ending) await this.shared.pool.pool.end();
    })();
    await this.shared.closing;
  }
}
