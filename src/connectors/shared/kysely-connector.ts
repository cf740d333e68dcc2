import { CompiledQuery, sql, type Kysely } from 'kysely';
import { badRequest, BraidError } from '../../model/errors.js';
import { bindFilter, type Filter } from '../../model/filter.js';
import {
  clampLimit,
  decodeCursor,
  decodeOffsetCursor,
  encodeCursor,
  encodeOffsetCursor,
  resolveSort,
  type RowPage,
  type RowQuery,
} from '../../model/query.js';
import type { RowKey } from '../../model/row-key.js';
import type {
  AlterTableChange,
  ColumnSchema,
  DatabaseSchema,
  TableDefinition,
  TableSchema,
} from '../../model/schema.js';
import { coerceValue, type Row } from '../../model/values.js';
import type {
  Capabilities,
  Connector,
  RawResult,
  SourceKind,
  StreamQuery,
  TestResult,
} from '../connector.js';
import type { DialectAdapter, Sql } from './dialect-adapter.js';
import { compileFilter } from './filter-compiler.js';
import { keysetPredicate, orderByClause } from './keyset.js';
import { bindNamed } from './named-bindings.js';
import { createTableSql, alterTableSql } from './ddl.js';

/**
 * The engine-independent half of every connector: CRUD, filters, pages and transactions built with
 * Kysely `sql` templates (identifiers through `sql.id`, values bound). Engine folders extend it with
 * connection handling, introspection, streaming and bulk loading, and supply a DialectAdapter.
 */
export abstract class KyselyConnector implements Connector {
  abstract readonly kind: SourceKind;
  abstract readonly capabilities: Capabilities;
  abstract readonly defaultSchema: string | null;

  protected constructor(
    protected readonly db: Kysely<any>,
    protected readonly adapter: DialectAdapter,
  ) {}

  abstract test(): Promise<TestResult>;
  abstract introspect(): Promise<DatabaseSchema>;
  abstract close(): Promise<void>;
  /** A connector of the same engine running on the given transaction. */
  protected abstract withDb(db: Kysely<any>): KyselyConnector;

  /** Runs a statement, translating driver errors into BraidErrors that keep the query. */
  protected async run<R = Row>(query: Sql): Promise<{ rows: R[]; affected: number; insertId?: bigint }> {
    const compiled = query.compile(this.db);
    try {
      const result = await this.db.executeQuery<R>(compiled);
      return {
        rows: result.rows,
        affected: Number(result.numAffectedRows ?? 0n),
        ...(result.insertId !== undefined ? { insertId: result.insertId } : {}),
      };
    } catch (err) {
      throw this.adapter.translateError(err, compiled.sql, compiled.parameters);
    }
  }

  protected decodeRow(table: TableSchema, raw: Row): Row {
    const out: Row = {};
    for (const column of table.columns) {
      if (column.name in raw) out[column.name] = this.adapter.decode(column, raw[column.name]);
    }
    return out;
  }

  /** See Connector.decodeValue: the dialect adapter's decode, as `select` applies it. */
  decodeValue(_table: TableSchema, column: ColumnSchema, raw: unknown): unknown {
    return this.adapter.decode(column, raw);
  }

  protected bindFilter(table: TableSchema, filter: Filter | undefined): Filter | undefined {
    return filter && bindFilter(filter, table, (column, value, path) => coerceValue(column, value, path));
  }

  protected selectList(table: TableSchema, fields: string[] | undefined): Sql {
    if (!fields) return sql.join(table.columns.map((c) => sql.id(c.name)));
    return sql.join(fields.map((f) => sql.id(f)));
  }

  protected keyPredicate(table: TableSchema, key: RowKey): Sql {
    if (table.primaryKey.length === 0)
      throw badRequest('no_primary_key', `table "${table.name}" has no primary key`);
    return sql.join(
      table.primaryKey.map((name) => {
        const column = table.columns.find((c) => c.name === name)!;
        return sql`${sql.id(name)} = ${this.adapter.encode(column, key[name])}`;
      }),
      sql` and `,
    );
  }

  async select(table: TableSchema, query: RowQuery): Promise<RowPage> {
    const limit = clampLimit(query.limit);
    const filter = this.bindFilter(table, query.filter);
    const sort = resolveSort(table, query.sort);
    for (const f of query.fields ?? []) {
      if (!table.columns.some((c) => c.name === f)) {
        throw badRequest('unknown_field', `unknown field "${f}" in fields`, { field: f, table: table.name });
      }
    }
    const fields = query.fields ? [...new Set([...query.fields, ...sort.map((t) => t.field)])] : undefined;
    const where = [compileFilter(filter, table, this.adapter)];
    if (query.offset !== undefined && (!Number.isInteger(query.offset) || query.offset < 0)) {
      throw badRequest('invalid_offset', 'offset must be a non-negative integer', { offset: query.offset });
    }
    // Identical rows of a table without a primary key are told apart only by position.
    const keyless = table.primaryKey.length === 0;
    let start = query.offset ?? 0;
    if (query.cursor && keyless) start += decodeOffsetCursor(sort, query.cursor);
    else if (query.cursor)
      where.push(keysetPredicate(sort, decodeCursor(sort, query.cursor), table, this.adapter));
    const offset = start ? sql` offset ${sql.lit(start)}` : sql``;
    const { rows } = await this.run(
      sql`select ${this.selectList(table, fields)} from ${this.adapter.table(table)} where ${sql.join(where, sql` and `)} order by ${orderByClause(sort, table, this.adapter)} limit ${sql.lit(limit + 1)}${offset}`,
    );
    const more = rows.length > limit;
    const page = rows.slice(0, limit).map((r) => this.decodeRow(table, r));
    const next = !more
      ? null
      : keyless
        ? encodeOffsetCursor(sort, start + limit)
        : encodeCursor(sort, page[page.length - 1]!);
    const projected = query.fields
      ? page.map((r) => Object.fromEntries(query.fields!.map((f) => [f, r[f]])))
      : page;
    return { rows: projected, next };
  }

  async count(table: TableSchema, filter?: Filter): Promise<number> {
    const where = compileFilter(this.bindFilter(table, filter), table, this.adapter);
    const { rows } = await this.run<{ n: unknown }>(
      sql`select count(*) as n from ${this.adapter.table(table)} where ${where}`,
    );
    return Number(rows[0]?.n ?? 0);
  }

  async getByKey(table: TableSchema, key: RowKey): Promise<Row | null> {
    const { rows } = await this.run(
      sql`select ${this.selectList(table, undefined)} from ${this.adapter.table(table)} where ${this.keyPredicate(table, key)}`,
    );
    return rows[0] ? this.decodeRow(table, rows[0]) : null;
  }

  /**
   * Default streaming: keyset pages over the resolved sort. Constant memory and no long-lived
   * server cursor; engines with a cheaper native cursor override it. A cursor that comes back (a
   * stored value that does not survive decode + encode, like a UUID kept as a BLOB) stops the
   * stream with an error instead of yielding the same rows forever.
   */
  async *stream(table: TableSchema, query: StreamQuery = {}): AsyncIterable<Row[]> {
    const batchSize = query.batchSize ?? 1000;
    const recent: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.select(table, {
        ...(query.filter ? { filter: query.filter } : {}),
        ...(query.sort ? { sort: query.sort } : {}),
        limit: batchSize,
        ...(cursor ? { cursor } : {}),
      });
      if (page.rows.length > 0) yield page.rows;
      if (!page.next) return;
      if (recent.includes(page.next)) {
        const message = `reading "${table.name}" stopped: stored sort values cannot be compared back`;
        throw new BraidError(500, 'stream_stalled', message, { table: table.name });
      }
      recent.push(page.next);
      if (recent.length > 8) recent.shift();
      cursor = page.next;
    }
  }

  protected encodeRow(table: TableSchema, row: Row, columns: string[]): unknown[] {
    return columns.map((name) =>
      this.adapter.encode(
        table.columns.find((c) => c.name === name)!,
        row[name],
      ),
    );
  }

  /** Splits rows into runs sharing one column set, sized to the engine's parameter limit. */
  protected chunks(rows: Row[], maxRows: number): { columns: string[]; rows: Row[] }[] {
    const out: { columns: string[]; rows: Row[] }[] = [];
    for (const row of rows) {
      const columns = Object.keys(row);
      const last = out[out.length - 1];
      const perStatement = Math.max(
        1,
        Math.min(maxRows, Math.floor(this.adapter.maxParameters / Math.max(1, columns.length))),
      );
      if (last && last.rows.length < perStatement && last.columns.join('\u0000') === columns.join('\u0000')) {
        last.rows.push(row);
      } else {
        out.push({ columns, rows: [row] });
      }
    }
    return out;
  }

  protected insertSql(table: TableSchema, columns: string[], rows: Row[]): Sql {
    if (columns.length === 0) {
      return sql`insert into ${this.adapter.table(table)} default values`;
    }
    const values = rows.map((r) => sql`(${sql.join(this.encodeRow(table, r, columns))})`);
    return sql`insert into ${this.adapter.table(table)} (${sql.join(columns.map((c) => sql.id(c)))}) values ${sql.join(values)}`;
  }

  async insert(table: TableSchema, rows: Row[]): Promise<Row[]> {
    if (rows.length === 0) return [];
    return this.transaction(async (tx) => (tx as KyselyConnector).insertInTransaction(table, rows));
  }

  protected async insertInTransaction(table: TableSchema, rows: Row[]): Promise<Row[]> {
    const stored: Row[] = [];
    if (this.adapter.returning) {
      for (const chunk of this.chunks(rows, this.adapter.returningBatchRows)) {
        const result = await this.run(sql`${this.insertSql(table, chunk.columns, chunk.rows)} returning *`);
        stored.push(...result.rows.map((r) => this.decodeRow(table, r)));
      }
      return stored;
    }
    for (const row of rows) {
      const result = await this.run(this.insertSql(table, Object.keys(row), [row]));
      stored.push(await this.reread(table, row, result.insertId));
    }
    return stored;
  }

  /** Engines without RETURNING: find the row just written by its key (generated id when missing). */
  protected async reread(table: TableSchema, row: Row, insertId: bigint | undefined): Promise<Row> {
    const key: RowKey = {};
    for (const name of table.primaryKey) {
      const column = table.columns.find((c) => c.name === name)!;
      if (row[name] !== undefined && row[name] !== null) key[name] = row[name];
      else if (column.autoIncrement && insertId !== undefined)
        key[name] = this.adapter.decode(column, insertId);
      else
        throw badRequest('missing_value', `key column "${name}" has no value and is not generated`, {
          field: name,
        });
    }
    const found = table.primaryKey.length > 0 ? await this.getByKey(table, key) : null;
    return found ?? row;
  }

  async update(table: TableSchema, key: RowKey, changes: Row): Promise<Row | null> {
    const columns = Object.keys(changes);
    if (columns.length === 0) return this.getByKey(table, key);
    const assignments = sql.join(
      columns.map((name, i) => sql`${sql.id(name)} = ${this.encodeRow(table, changes, columns)[i]}`),
    );
    const statement = sql`update ${this.adapter.table(table)} set ${assignments} where ${this.keyPredicate(table, key)}`;
    if (this.adapter.returning) {
      const { rows } = await this.run(sql`${statement} returning *`);
      return rows[0] ? this.decodeRow(table, rows[0]) : null;
    }
    return this.transaction(async (tx) => {
      const self = tx as KyselyConnector;
      const { affected } = await self.run(statement);
      const newKey = { ...key };
      for (const name of table.primaryKey) if (name in changes) newKey[name] = changes[name];
      const row = await self.getByKey(table, newKey);
      return affected === 0 && !row ? null : row;
    });
  }

  async delete(table: TableSchema, key: RowKey): Promise<boolean> {
    const { affected } = await this.run(
      sql`delete from ${this.adapter.table(table)} where ${this.keyPredicate(table, key)}`,
    );
    return affected > 0;
  }

  async upsert(table: TableSchema, rows: Row[], conflictColumns?: string[]): Promise<Row[]> {
    if (rows.length === 0) return [];
    const conflict = conflictColumns ?? table.primaryKey;
    if (conflict.length === 0)
      throw badRequest('no_primary_key', `upsert into "${table.name}" needs conflict columns`);
    for (const name of conflict) {
      if (!table.columns.some((c) => c.name === name)) {
        throw badRequest('unknown_field', `unknown conflict column "${name}"`, { field: name });
      }
    }
    return this.transaction(async (tx) => {
      const self = tx as KyselyConnector;
      const stored: Row[] = [];
      const batch = self.adapter.returning ? self.adapter.returningBatchRows : Number.MAX_SAFE_INTEGER;
      for (const chunk of self.chunks(rows, batch)) {
        for (const name of conflict) {
          if (!chunk.columns.includes(name))
            throw badRequest('missing_value', `upsert row lacks conflict column "${name}"`, { field: name });
        }
        const statement = sql`${self.insertSql(table, chunk.columns, chunk.rows)} ${self.adapter.upsertClause(chunk.columns, conflict)}`;
        if (self.adapter.returning) {
          const result = await self.run(sql`${statement} returning *`);
          stored.push(...result.rows.map((r) => self.decodeRow(table, r)));
        } else {
          await self.run(statement);
          for (const row of chunk.rows) stored.push(await self.findBy(table, conflict, row));
        }
      }
      return stored;
    });
  }

  private async findBy(table: TableSchema, columns: string[], row: Row): Promise<Row> {
    const predicate = sql.join(
      columns.map((name) => sql`${sql.id(name)} = ${this.encodeRow(table, row, [name])[0]}`),
      sql` and `,
    );
    const { rows } = await this.run(sql`select * from ${this.adapter.table(table)} where ${predicate}`);
    return rows[0] ? this.decodeRow(table, rows[0]) : row;
  }

  /** Default bulk load: multi-row INSERTs in one transaction. Engines override with COPY / LOAD DATA. */
  async bulkLoad(
    table: TableSchema,
    batches: AsyncIterable<Row[]> | Iterable<Row[]>,
  ): Promise<{ rows: number }> {
    return this.transaction(async (tx) => {
      const self = tx as KyselyConnector;
      let count = 0;
      for await (const batch of batches) {
        for (const chunk of self.chunks(batch, 5000)) {
          await self.run(self.insertSql(table, chunk.columns, chunk.rows));
          count += chunk.rows.length;
        }
      }
      return { rows: count };
    });
  }

  async transaction<T>(fn: (tx: Connector) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    return this.db.transaction().execute((trx) => fn(this.withDb(trx)));
  }

  async rawQuery(sqlText: string, bindings?: Record<string, unknown> | unknown[]): Promise<RawResult> {
    const { sql: text, params } = bindNamed(sqlText, bindings, this.adapter.placeholder);
    const compiled = CompiledQuery.raw(text, params.map(normalizeParam));
    try {
      return toRawResult(await this.db.executeQuery<Row>(compiled));
    } catch (err) {
      throw this.adapter.translateError(err, text, params);
    }
  }

  async createTable(definition: TableDefinition): Promise<void> {
    await this.run(createTableSql(definition, this.adapter));
  }

  async alterTable(table: TableSchema, changes: AlterTableChange[]): Promise<void> {
    await this.transaction(async (tx) => {
      for (const statement of alterTableSql(table, changes, this.adapter))
        await (tx as KyselyConnector).run(statement);
    });
  }

  async dropTable(table: TableSchema): Promise<void> {
    await this.run(
      sql`drop ${sql.raw(table.kind === 'view' ? 'view' : 'table')} ${this.adapter.table(table)}`,
    );
  }
}

function normalizeParam(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !(value instanceof Date) && !Buffer.isBuffer(value)) {
    return JSON.stringify(value);
  }
  return value;
}

/** A driver answer to user SQL as Braid answers it: JSON-safe rows, affected rows, column names. */
export function toRawResult(result: { rows: Row[]; numAffectedRows?: bigint }): RawResult {
  const rows = result.rows.map(normalizeRawRow);
  return {
    rows,
    ...(result.numAffectedRows !== undefined ? { affectedRows: Number(result.numAffectedRows) } : {}),
    columns: rows[0] ? Object.keys(rows[0]) : [],
  };
}

/** Raw query answers have no schema: make values JSON-safe and lossless by their runtime type. */
export function normalizeRawRow(row: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) {
    if (typeof v === 'bigint') out[k] = v.toString();
    else if (Buffer.isBuffer(v)) out[k] = v.toString('base64');
    else if (v instanceof Date) out[k] = Number.isNaN(v.getTime()) ? null : v.toISOString();
    else out[k] = v;
  }
  return out;
}
