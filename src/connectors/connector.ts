import type { RowPage, RowQuery } from '../model/query.js';
import type { RowKey } from '../model/row-key.js';
import type {
  AlterTableChange,
  ColumnSchema,
  DatabaseSchema,
  TableDefinition,
  TableSchema,
} from '../model/schema.js';
import type { Row } from '../model/values.js';
import type { Filter } from '../model/filter.js';
import type { SortTerm } from '../model/query.js';
import type { SourceKind } from '../model/source.js';

export type { SourceConfig, SourceKind } from '../model/source.js';

export interface Capabilities {
  /** INSERT/UPDATE ... RETURNING (else the connector re-reads by key). */
  returning: boolean;
  /** Native upsert statement. */
  upsert: boolean;
  transactions: boolean;
  /**
   * The engine has log-based change capture (PostgreSQL pgoutput / MySQL-MariaDB row binlog).
   * Whether this server is configured for it (wal_level, binlog_format, grants) is answered by the
   * capture probes in src/capture, which the sync engine runs before choosing a strategy.
   */
  logicalCapture: boolean;
  binlog: boolean;
  /** Braid may create triggers for trigger-based capture. */
  triggers: boolean;
  /** Schemas (namespaces) inside one connection, as PostgreSQL has. */
  schemas: boolean;
  /** Text values may contain the NUL character (PostgreSQL's text types refuse it). */
  nulInText: boolean;
}

export type TestResult =
  | { ok: true; serverVersion: string; latencyMs: number }
  | { ok: false; code: ConnectionFailure; message: string };

export type ConnectionFailure =
  | 'host_unreachable'
  | 'auth_failed'
  | 'unknown_database'
  | 'timeout'
  | 'tls_required'
  | 'tls_failed'
  | 'file_not_found'
  | 'connection_failed';

export interface RawResult {
  rows: Row[];
  /** Rows changed by INSERT/UPDATE/DELETE where the engine reports it. */
  affectedRows?: number;
  columns?: string[];
}

export interface StreamQuery {
  filter?: Filter;
  sort?: SortTerm[];
  /** Rows per yielded batch (default 1 000). */
  batchSize?: number;
}

/**
 * One database behind one interface. Every method takes an already-resolved `TableSchema` (from
 * `introspect()`), so identifiers are always ones the database reported; values are bound parameters.
 * Values in and out are wire values (see model/values.ts).
 *
 * @example
 * const connector = createConnector('postgres', { url: 'postgres://postgres@127.0.0.1/test' });
 * const schema = await connector.introspect();
 * const customers = schema.tables.find((t) => t.name === 'customers')!;
 * const page = await connector.select(customers, { filter: { field: 'email', op: 'endsWith', value: '@acme.com' }, limit: 50 });
 * await connector.close();
 */
export interface Connector {
  readonly kind: SourceKind;
  readonly capabilities: Capabilities;
  /** The schema names are resolved against when none is given (`public`, the MySQL database, `main`). */
  readonly defaultSchema: string | null;
  /** Where unqualified new tables go when that is not `defaultSchema` (see table-location.ts). */
  readonly createSchema?: string | null;

  /** Connects and answers with a human message on failure; never throws for connection problems. */
  test(): Promise<TestResult>;
  introspect(): Promise<DatabaseSchema>;

  select(table: TableSchema, query: RowQuery): Promise<RowPage>;
  count(table: TableSchema, filter?: Filter): Promise<number>;
  getByKey(table: TableSchema, key: RowKey): Promise<Row | null>;
  /** All matching rows in batches, holding at most one batch in memory (server-side cursors). */
  stream(table: TableSchema, query?: StreamQuery): AsyncIterable<Row[]>;

  /** Inserts rows (one statement per batch, in one transaction) and answers the stored rows. */
  insert(table: TableSchema, rows: Row[]): Promise<Row[]>;
  /** Updates one row by key; answers the stored row, or null when no row has that key. */
  update(table: TableSchema, key: RowKey, changes: Row): Promise<Row | null>;
  delete(table: TableSchema, key: RowKey): Promise<boolean>;
  /** Inserts or updates by `conflictColumns` (default: the primary key); answers the stored rows. */
  upsert(table: TableSchema, rows: Row[], conflictColumns?: string[]): Promise<Row[]>;
  /** The engine's fastest load path; answers the number of rows loaded. */
  bulkLoad(table: TableSchema, batches: AsyncIterable<Row[]> | Iterable<Row[]>): Promise<{ rows: number }>;

  /** Runs `fn` in one transaction on one connection; the connector passed in is bound to it. */
  transaction<T>(fn: (tx: Connector) => Promise<T>): Promise<T>;
  /** SQL with named bindings (`:name`) or positional ones (`?`), always sent as bound parameters. */
  rawQuery(sqlText: string, bindings?: Record<string, unknown> | unknown[]): Promise<RawResult>;

  /**
   * A value of `column` as this engine's driver delivers it (text, number, bigint, Buffer...) ->
   * its wire value, through the same codec `select` uses. For readers that obtain raw values
   * another way (trigger changelogs, logs) so they answer exactly what `select` would.
   * Optional so that other Connector implementations need not provide it.
   */
  decodeValue?(table: TableSchema, column: ColumnSchema, raw: unknown): unknown;

  createTable(definition: TableDefinition): Promise<void>;
  alterTable(table: TableSchema, changes: AlterTableChange[]): Promise<void>;
  dropTable(table: TableSchema): Promise<void>;

  close(): Promise<void>;
}
