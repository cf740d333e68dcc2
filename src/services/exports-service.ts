import { streamCombinedRows } from '../combined/combined-reader.js';
import { csvHeaderLine, csvLines, jsonLines } from '../consolidate/csv/csv-writer.js';
import { badRequest } from '../model/errors.js';
import { filterParam, type Filter } from '../model/filter.js';
import { parseSort, type SortTerm } from '../model/query.js';
import type { Row } from '../model/values.js';
import type { CombinedService } from './combined-service.js';
import type { SourcesService } from './sources-service.js';

export type ExportFormat = 'csv' | 'jsonl';

export interface ExportRequest {
  /** A table: `source` (id or name) and `table`. */
  source?: string;
  table?: string;
  /** Or a combined table (id or name), instead of `source` and `table`. */
  combined?: string;
  format?: string;
  filter?: string | Filter;
  sort?: string | SortTerm[];
  /** Columns to export, in this order (default: all). */
  columns?: string | string[];
}

export interface ExportStream {
  contentType: string;
  filename: string;
  /** Text chunks (one per batch of rows): the caller writes them with back-pressure. */
  chunks: AsyncIterable<string>;
  /** Rows produced so far (final once `chunks` is exhausted). */
  readonly progress: { rows: number };
}

/** What is exported: its name, its columns, and its rows in batches. */
interface ExportTarget {
  name: string;
  columns: string[];
  batches: AsyncIterable<Row[]>;
  /** Rows carry exactly `columns`, in order (a table's rows; a combined row carries `_members`). */
  exact: boolean;
}

/**
 * Exports of any table or combined table (with a filter and sort) as CSV or JSON lines, streamed
 * from the source's server-side cursor (a combined table: its merged streams): no row cap, memory of
 * one batch. Everything that can be wrong with the request is checked before the first byte, so a
 * bad filter still gets a JSON error with its status.
 */
export class ExportsService {
  constructor(
    private readonly sources: SourcesService,
    /** Resolves combined tables (a getter: the combined service is built after this one). */
    private readonly combined?: () => CombinedService,
  ) {}

  async open(request: ExportRequest): Promise<ExportStream> {
    const format = (request.format ?? 'csv') as ExportFormat;
    if (format !== 'csv' && format !== 'jsonl')
      throw badRequest('invalid_format', 'format must be csv or jsonl', { format: request.format });
    const filter = filterParam(request.filter);
    const sort = typeof request.sort === 'string' ? parseSort(request.sort) : request.sort;
    const target =
      request.combined !== undefined
        ? await this.combinedTarget(request.combined, filter, sort)
        : await this.tableTarget(request, filter, sort);
    const wanted =
      request.columns === undefined || request.columns === ''
        ? target.columns
        : typeof request.columns === 'string'
          ? request.columns.split(',').map((c) => c.trim())
          : request.columns;
    for (const name of wanted) {
      if (!target.columns.includes(name))
        throw badRequest('unknown_field', `table "${target.name}" has no column "${name}"`, { field: name });
    }
    const iterator = target.batches[Symbol.asyncIterator]();
    const first = await iterator.next(); // runs the query now: its errors surface before any byte is sent
    const pick = (rows: Row[]) =>
      target.exact && wanted.length === target.columns.length
        ? rows
        : rows.map((r) => Object.fromEntries(wanted.map((name) => [name, r[name]])));
    const progress = { rows: 0 };
    async function* chunks(): AsyncGenerator<string> {
      if (format === 'csv') yield csvHeaderLine(wanted);
      for (let next = first; !next.done; next = await iterator.next()) {
        const rows = pick(next.value);
        progress.rows += rows.length;
        yield format === 'csv' ? csvLines(wanted, rows, { header: false }) : jsonLines(rows);
      }
    }
    return {
      contentType: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
      filename: `${target.name}.${format === 'csv' ? 'csv' : 'jsonl'}`,
      chunks: chunks(),
      progress,
    };
  }

  private async tableTarget(
    request: ExportRequest,
    filter: Filter | undefined,
    sort: SortTerm[] | undefined,
  ): Promise<ExportTarget> {
    if (!request.source || !request.table)
      throw badRequest('invalid_export', 'name a table (source and table) or a combined table (combined)');
    const sourceId = await this.sources.resolveId(request.source);
    const { connector, table } = await this.sources.resolveTable(sourceId, request.table);
    // Primary-key order by default: an export of the same data reads the same every time.
    const order = sort?.length ? sort : table.primaryKey.map((field) => ({ field, dir: 'asc' as const }));
    const batches = connector.stream(table, {
      ...(filter ? { filter } : {}),
      ...(order.length ? { sort: order } : {}),
      batchSize: 2000,
    });
    return { name: table.name, columns: table.columns.map((c) => c.name), batches, exact: true };
  }

  /** A combined table's exposed columns, `_key` as well on request, in the combined order. */
  private async combinedTarget(
    ref: string,
    filter: Filter | undefined,
    sort: SortTerm[] | undefined,
  ): Promise<ExportTarget> {
    if (!this.combined) throw badRequest('invalid_export', 'combined tables cannot be exported here');
    const table = await this.combined().resolved(ref);
    return {
      name: table.definition.name,
      columns: [...table.columns.map((c) => c.name), '_key'],
      batches: streamCombinedRows(table, { ...(filter ? { filter } : {}), ...(sort ? { sort } : {}) }, 2000),
      exact: false,
    };
  }
}
