import type { RawResult } from '../connectors/connector.js';
import { badRequest, notFound } from '../model/errors.js';
import { filterParam, type Filter } from '../model/filter.js';
import { parseSort, type RowPage, type SortTerm } from '../model/query.js';
import { parseRowKey } from '../model/row-key.js';
import { coerceRow, type Row } from '../model/values.js';
import { MAX_INCLUDE_LIMIT, type IncludedRelation, type RelationsService } from './relations-service.js';
import type { SourcesService } from './sources-service.js';

/** List parameters as they arrive from a query string or the CLI (strings), before validation. */
export interface ListParams {
  filter?: string | Filter;
  sort?: string | SortTerm[];
  limit?: string | number;
  cursor?: string;
  offset?: string | number;
  fields?: string | string[];
  count?: boolean | string;
  /** Relations whose related rows come with the page (comma-separated names, see relations-service). */
  include?: string | string[];
  /** At most this many related rows per relation (default 1,000). */
  includeLimit?: string | number;
}

export const MAX_BULK_ROWS = 10_000;

export function toInt(value: string | number | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n))
    throw badRequest(`invalid_${name}`, `${name} must be an integer`, { [name]: value });
  return n;
}

/** The page parameters every row listing shares (table rows, combined rows), parsed and checked. */
export function pageParams(params: Omit<ListParams, 'include' | 'includeLimit' | 'count'>): {
  filter?: Filter;
  sort?: SortTerm[];
  limit?: number;
  offset?: number;
  cursor?: string;
  fields?: string[];
} {
  const filter = filterParam(params.filter);
  const sort = typeof params.sort === 'string' ? parseSort(params.sort) : params.sort;
  const fields = typeof params.fields === 'string' ? params.fields.split(',').filter(Boolean) : params.fields;
  const limit = toInt(params.limit, 'limit');
  const offset = toInt(params.offset, 'offset');
  return {
    ...(filter ? { filter } : {}),
    ...(sort ? { sort } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(offset !== undefined ? { offset } : {}),
    ...(params.cursor ? { cursor: params.cursor } : {}),
    ...(fields?.length ? { fields } : {}),
  };
}

/** The row API over any table of any source: the same validation and answers for every engine. */
export class RowsService {
  constructor(
    private readonly sources: SourcesService,
    private readonly relations: RelationsService,
  ) {}

  async list(
    sourceId: string,
    tableName: string,
    params: ListParams,
  ): Promise<RowPage & { total?: number; included?: Record<string, IncludedRelation> }> {
    const { connector, table } = await this.sources.resolveTable(sourceId, tableName);
    const query = pageParams(params);
    const page = await connector.select(table, query);
    const include =
      typeof params.include === 'string' ? params.include.split(',').filter(Boolean) : params.include;
    const includeLimit = toInt(params.includeLimit, 'includeLimit');
    if (includeLimit !== undefined && (includeLimit < 1 || includeLimit > MAX_INCLUDE_LIMIT))
      throw badRequest('invalid_includeLimit', `includeLimit must be between 1 and ${MAX_INCLUDE_LIMIT}`);
    const included = include?.length
      ? { included: await this.relations.include(sourceId, tableName, page.rows, include, includeLimit) }
      : {};
    if (params.count === true || params.count === 'true') {
      return { ...page, total: await connector.count(table, query.filter), ...included };
    }
    return { ...page, ...included };
  }

  async stream(
    sourceId: string,
    tableName: string,
    params: Pick<ListParams, 'filter' | 'sort'>,
    batchSize = 1000,
  ) {
    const { connector, table } = await this.sources.resolveTable(sourceId, tableName);
    const filter = filterParam(params.filter);
    const sort = typeof params.sort === 'string' ? parseSort(params.sort) : params.sort;
    return connector.stream(table, { ...(filter ? { filter } : {}), ...(sort ? { sort } : {}), batchSize });
  }

  async get(sourceId: string, tableName: string, encodedKey: string): Promise<Row> {
    const { connector, table } = await this.sources.resolveTable(sourceId, tableName);
    const row = await connector.getByKey(table, parseRowKey(table, encodedKey));
    if (!row) throw notFound(`row ${encodedKey} of "${tableName}"`, { key: encodedKey });
    return row;
  }

  /** One object inserts one row; an array inserts all in one transaction, or none. */
  async insert(sourceId: string, tableName: string, body: unknown): Promise<Row | Row[]> {
    const { connector, table } = await this.sources.resolveTable(sourceId, tableName);
    const many = Array.isArray(body);
    const input = many ? body : [body];
    if (input.length > MAX_BULK_ROWS) {
      throw badRequest('too_many_rows', `at most ${MAX_BULK_ROWS} rows per request; use an import for more`);
    }
    // Every row is checked before anything is written, so a bad row 900 leaves the table untouched.
    const rows = input.map((r, i) =>
      coerceRow(table, r, { partial: false, path: many ? `rows[${i}]` : 'row' }),
    );
    const stored = await connector.insert(table, rows);
    return many ? stored : stored[0]!;
  }

  async upsert(sourceId: string, tableName: string, body: unknown): Promise<Row[]> {
    const { connector, table } = await this.sources.resolveTable(sourceId, tableName);
    const { rows, conflictColumns } = (body ?? {}) as { rows?: unknown; conflictColumns?: unknown };
    if (!Array.isArray(rows)) throw badRequest('invalid_body', 'body.rows must be an array of rows');
    if (rows.length > MAX_BULK_ROWS)
      throw badRequest('too_many_rows', `at most ${MAX_BULK_ROWS} rows per request`);
    if (
      conflictColumns !== undefined &&
      (!Array.isArray(conflictColumns) || !conflictColumns.every((c) => typeof c === 'string'))
    ) {
      throw badRequest('invalid_body', 'body.conflictColumns must be an array of column names');
    }
    const coerced = rows.map((r, i) => coerceRow(table, r, { partial: false, path: `rows[${i}]` }));
    return connector.upsert(table, coerced, conflictColumns as string[] | undefined);
  }

  async update(sourceId: string, tableName: string, encodedKey: string, body: unknown): Promise<Row> {
    const { connector, table } = await this.sources.resolveTable(sourceId, tableName);
    const key = parseRowKey(table, encodedKey);
    const row = await connector.update(table, key, coerceRow(table, body, { partial: true }));
    if (!row) throw notFound(`row ${encodedKey} of "${tableName}"`, { key: encodedKey });
    return row;
  }

  async delete(sourceId: string, tableName: string, encodedKey: string): Promise<void> {
    const { connector, table } = await this.sources.resolveTable(sourceId, tableName);
    const deleted = await connector.delete(table, parseRowKey(table, encodedKey));
    if (!deleted) throw notFound(`row ${encodedKey} of "${tableName}"`, { key: encodedKey });
  }

  async query(sourceId: string, body: unknown): Promise<RawResult> {
    const { sql, bindings } = (body ?? {}) as { sql?: unknown; bindings?: unknown };
    if (typeof sql !== 'string' || sql.trim() === '')
      throw badRequest('invalid_body', 'sql is required', { field: 'sql' });
    if (bindings !== undefined && (bindings === null || typeof bindings !== 'object')) {
      throw badRequest('invalid_body', 'bindings must be an object of named values or an array', {
        field: 'bindings',
      });
    }
    const connector = await this.sources.connector(sourceId);
    return connector.rawQuery(sql, bindings as Record<string, unknown> | unknown[] | undefined);
  }
}
