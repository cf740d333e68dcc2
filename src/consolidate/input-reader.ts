import { createReadStream } from 'node:fs';
import type { Connector } from '../connectors/connector.js';
import { badRequest } from '../model/errors.js';
import type { Filter } from '../model/filter.js';
import { encodeRowKey } from '../model/row-key.js';
import type { TableSchema } from '../model/schema.js';
import type { Row } from '../model/values.js';
import { sniffFile } from './csv-import.js';
import { readCsv } from './csv/csv-reader.js';

/** One input row with the key that names it in lineage and references, and its CSV line. */
export interface InputRow {
  sourceKey: string;
  line: number | null;
  row: Row;
}

/**
 * Reads a table in primary-key order, so that a job read twice (after a resume) numbers its records
 * identically. A table without a primary key is read in the engine's order and keyed by position.
 */
export async function* readTableInput(
  connector: Connector,
  table: TableSchema,
  options: { filter?: Filter | null; batchSize?: number },
): AsyncGenerator<InputRow[]> {
  const hasKey = table.primaryKey.length > 0;
  let position = 0;
  const batches = connector.stream(table, {
    ...(options.filter ? { filter: options.filter } : {}),
    ...(hasKey ? { sort: table.primaryKey.map((field) => ({ field, dir: 'asc' as const })) } : {}),
    batchSize: options.batchSize ?? 2000,
  });
  for await (const batch of readAhead(batches)) {
    yield batch.map((row) => ({
      sourceKey: hasKey ? encodeRowKey(table, row) : `#${++position}`,
      line: null,
      row,
    }));
  }
}

/**
 * Asks the source for the next batch while the consumer works on the current one, so the database
 * fetches while Node maps and encodes instead of each waiting for the other. One batch ahead: memory
 * stays at two batches.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  try {
    for (;;) {
      const current = await next;
      if (current.done) return;
      next = iterator.next();
      // A failure of the prefetch is raised when it is awaited; until then it must not go unhandled.
      next.catch(() => {});
      yield current.value;
    }
  } finally {
    // The consumer stopped early (or failed): let the source close its cursor once it is idle.
    await next.then(
      (r) => (r.done ? undefined : iterator.return?.()),
      () => undefined,
    );
  }
}

/**
 * Reads a CSV file as rows of text keyed by header. The source key is the record's line number, so
 * references from other inputs must name CSV parents by line (or the parent is a table).
 */
export async function* readCsvInput(file: string, batchSize = 2000): AsyncGenerator<InputRow[]> {
  const dialect = await sniffFile(file);
  let headers: string[] | null = null;
  for await (const records of readCsv(createReadStream(file), { ...dialect, batchSize })) {
    const out: InputRow[] = [];
    for (const record of records) {
      if (!headers) {
        headers = record.fields.map((h, i) => (h ?? '').trim() || `column_${i + 1}`);
        continue;
      }
      if (record.fields.length !== headers.length) {
        throw badRequest(
          'csv_ragged_row',
          `${file} line ${record.line}: ${record.fields.length} fields, the header has ${headers.length}`,
          { file, line: record.line, fields: record.fields.length, expected: headers.length },
        );
      }
      const row: Row = {};
      headers.forEach((h, i) => (row[h] = record.fields[i] ?? null));
      out.push({ sourceKey: `line:${record.line}`, line: record.line, row });
    }
    if (out.length) yield out;
  }
}
