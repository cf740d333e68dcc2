import { csvHeaderLine, csvLines, jsonLines } from '../consolidate/csv/csv-writer.js';
import { badRequest } from '../model/errors.js';
import { filterParam, type Filter } from '../model/filter.js';
import { parseSort, type SortTerm } from '../model/query.js';
import type { Row } from '../model/values.js';
import type { SourcesService } from './sources-service.js';

export type ExportFormat = 'csv' | 'jsonl';

export interface ExportRequest {
  source: string;
  table: string;
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

/**
 * Exports of any table (with a filter and sort) as CSV or JSON lines, streamed from the source's
 * server-side cursor: no row cap, memory of one batch. Everything that can be wrong with the request
 * is checked before the first byte, so a bad filter still gets a JSON error with its status.
 */
export class ExportsService {
  constructor(private readonly sources: SourcesService) {}

  async open(request: ExportRequest): Promise<ExportStream> {
    const format = (request.format ?? 'csv') as ExportFormat;
    if (format !== 'csv' && format !== 'jsonl')
      throw badRequest('invalid_format', 'format must be csv or jsonl', { format: request.format });
    const sourceId = await this.sources.resolveId(request.source);
    const { connector, table } = await this.sources.resolveTable(sourceId, request.table);
    const filter = filterParam(request.filter);
    const sort = typeof request.sort === 'string' ? parseSort(request.sort) : request.sort;
    const wanted =
      request.columns === undefined || request.columns === ''
        ? table.columns.map((c) => c.name)
        : typeof request.columns === 'string'
          ? request.columns.split(',').map((c) => c.trim())
          : request.columns;
    for (const name of wanted) {
      if (!table.columns.some((c) => c.name === name))
        throw badRequest('unknown_field', `table "${table.name}" has no column "${name}"`, { field: name });
    }
    // Primary-key order by default: an export of the same data reads the same every time.
    const order = sort?.length ? sort : table.primaryKey.map((field) => ({ field, dir: 'asc' as const }));
    const batches = connector.stream(table, {
      ...(filter ? { filter } : {}),
      ...(order.length ? { sort: order } : {}),
      batchSize: 2000,
    });
    const iterator = batches[Symbol.asyncIterator]();
    const first = await iterator.next(); // runs the query now: its errors surface before any byte is sent
    const pick = (rows: Row[]) =>
      wanted.length === table.columns.length
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
      filename: `${table.name}.${format === 'csv' ? 'csv' : 'jsonl'}`,
      chunks: chunks(),
      progress,
    };
  }
}
