import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { once } from 'node:events';
import type { Connector } from '../connectors/connector.js';
import { BraidError, badRequest } from '../model/errors.js';
import type { ColumnSchema, TableSchema } from '../model/schema.js';
import type { Row } from '../model/values.js';
import { cellParser, type CellResult } from './csv/cell-parser.js';
import { mapHeaders } from './csv/csv-header.js';
import { readCsv, type CsvRecord } from './csv/csv-reader.js';
import { sniffCsv, type CsvDialect } from './csv/csv-sniff.js';
import { csvLines, csvHeaderLine } from './csv/csv-writer.js';

export type ImportMode = 'all_or_nothing' | 'skip_bad_rows';

export interface CsvImportOptions {
  file: string;
  connector: Connector;
  table: TableSchema;
  mode: ImportMode;
  /** CSV header -> column name, or null to skip that CSV column. */
  mapping?: Record<string, string | null>;
  /** Skip CSV columns that match no table column instead of failing. */
  ignoreUnknownColumns?: boolean;
  dialect?: Partial<CsvDialect>;
  /** skip_bad_rows: where the rejected rows go (the original fields plus line, column and reason). */
  rejectsFile?: string;
  signal?: AbortSignal;
  onProgress?(progress: { rows: number; bytes: number; totalBytes: number }): void;
}

/** A row that could not be imported, and why. */
export interface RowError {
  line: number;
  column: string | null;
  value: string | null;
  reason: string;
}

export interface CsvImportResult {
  rowsRead: number;
  rowsLoaded: number;
  rowsRejected: number;
  /** The first rejected rows in detail (all of them are in the rejects file in skip mode). */
  errors: RowError[];
  dialect: CsvDialect;
  detected: string[];
  mapping: string[];
  rejectsFile: string | null;
}

/** Detailed errors kept in memory and reported; every rejected row is still counted. */
const MAX_REPORTED_ERRORS = 1000;
const BATCH_ROWS = 5000;

/** Reads the first 64 KiB to detect the dialect (BOM, encoding, delimiter). */
export async function sniffFile(file: string, hint?: Partial<CsvDialect>) {
  const handle = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    throw badRequest('file_not_found', `cannot read ${JSON.stringify(file)}: ${err.code ?? err.message}`, {
      file,
    });
  });
  try {
    const sample = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(sample, 0, sample.length, 0);
    return sniffCsv(sample.subarray(0, bytesRead), hint);
  } finally {
    await handle.close();
  }
}

/**
 * The file's bytes, counted as they are read (for progress and the rows-left estimate). Chunks of
 * 256 KiB read as fast as 1 MiB ones, and a 1 GiB import peaks about 25 MB lower in RSS: each chunk
 * is a Buffer outside the JS heap, freed only when a GC collects it.
 */
async function* countedBytes(file: string, counter: { bytes: number }): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 18 })) {
    counter.bytes += (chunk as Buffer).length;
    yield chunk as Buffer;
  }
}

/**
 * Streams a CSV file into a table through the engine's bulk path (COPY, LOAD DATA, one SQLite
 * transaction): header mapped to columns, each cell parsed for its column's type and limits.
 *
 * all_or_nothing: the load runs in one transaction; at the first bad row nothing more is sent, the
 * rest of the file is still read so the report lists every bad row (the first 1,000 in detail), and
 * the transaction is rolled back: nothing lands. skip_bad_rows: good rows load, bad ones go to the
 * rejects file. Memory stays at about one batch whatever the file's size.
 */
export async function importCsv(options: CsvImportOptions): Promise<CsvImportResult> {
  const { file, table } = options;
  const dialect = await sniffFile(file, options.dialect);
  const totalBytes = (await stat(file)).size;
  const counter = { bytes: 0 };
  const records = readCsv(countedBytes(file, counter), { ...dialect, batchSize: BATCH_ROWS });
  const result: CsvImportResult = {
    rowsRead: 0,
    rowsLoaded: 0,
    rowsRejected: 0,
    errors: [],
    dialect: {
      encoding: dialect.encoding,
      bomBytes: dialect.bomBytes,
      delimiter: dialect.delimiter,
      quote: dialect.quote,
    },
    detected: dialect.detected,
    mapping: [],
    rejectsFile: options.mode === 'skip_bad_rows' ? (options.rejectsFile ?? null) : null,
  };

  const first = await records.next();
  const headerRecord = first.done ? undefined : first.value[0];
  if (!headerRecord) throw badRequest('csv_empty', `${file} is empty: expected a header line`, { file });
  const headers = headerRecord.fields;
  // A column without a header is called column_N (as in the rejects file and in inferred tables),
  // so a mapping can name it; without that it is refused as before.
  const named = headers.map((h, i) =>
    (h === null || h.trim() === '') && options.mapping && Object.hasOwn(options.mapping, `column_${i + 1}`)
      ? `column_${i + 1}`
      : h,
  );
  const mapping = mapHeaders(named, table, options.mapping, {
    ignoreUnknown: options.ignoreUnknownColumns ?? false,
  });
  result.mapping = mapping.notes;
  const targets = mapping.targets
    .map((name, index) =>
      name === null
        ? null
        : {
            index,
            name,
            parse: withNulCheck(
              options.connector,
              table.columns.find((c) => c.name === name)!,
            ),
          },
    )
    .filter(
      (t): t is { index: number; name: string; parse: (text: string | null) => CellResult } => t !== null,
    );

  const rejects = result.rejectsFile ? await openRejects(result.rejectsFile, headers) : null;
  let failed = false;
  const reject = (record: CsvRecord, error: RowError) => {
    result.rowsRejected++;
    if (result.errors.length < MAX_REPORTED_ERRORS) result.errors.push(error);
    rejects?.write(record, error);
  };

  /** Parses one batch of records into rows; rows of bad records are left out and reported. */
  const parse = (batch: CsvRecord[]): Row[] => {
    const rows: Row[] = [];
    for (const record of batch) {
      result.rowsRead++;
      if (record.fields.length !== headers.length) {
        reject(record, {
          line: record.line,
          column: null,
          value: null,
          reason: `${record.fields.length} fields, but the header has ${headers.length}`,
        });
        continue;
      }
      const row: Row = {};
      let bad = false;
      for (const target of targets) {
        const text = record.fields[target.index] ?? null;
        const cell = target.parse(text);
        if (!cell.ok) {
          reject(record, { line: record.line, column: target.name, value: text, reason: cell.reason });
          bad = true;
          break;
        }
        if (cell.value !== undefined) row[target.name] = cell.value;
      }
      if (!bad) rows.push(row);
    }
    return rows;
  };

  const rest = first.value!.slice(1);
  async function* batches(): AsyncGenerator<Row[]> {
    const pending = [rest];
    for (;;) {
      const batch = pending.pop() ?? (await nextBatch());
      if (batch === null) break;
      if (options.signal?.aborted) throw abortReason(options.signal);
      const rows = parse(batch);
      options.onProgress?.({ rows: result.rowsRead, bytes: counter.bytes, totalBytes });
      if (result.rowsRejected > 0 && options.mode === 'all_or_nothing') {
        failed = true;
        continue; // keep reading to report every bad row; send nothing more
      }
      if (rows.length > 0) {
        result.rowsLoaded += rows.length;
        yield rows;
      }
    }
    // Raised inside the load so its transaction rolls back.
    if (failed) throw rejected(result);
  }
  const nextBatch = async (): Promise<CsvRecord[] | null> => {
    const next = await records.next();
    return next.done ? null : next.value;
  };

  try {
    await options.connector.bulkLoad(table, batches());
  } catch (err) {
    // A cancel can come back from the load wrapped as a failed query (LOAD DATA's stream does that).
    if (options.signal?.aborted) throw abortReason(options.signal);
    if (failed || !(err instanceof BraidError)) throw err;
    // A constraint the database checks (unique key, foreign key): nothing landed either way.
    throw new BraidError(
      err.status,
      err.code,
      `import into "${table.name}" rolled back, nothing was written: ${err.message}`,
      {
        ...err.details,
        rowsRead: result.rowsRead,
      },
    );
  } finally {
    await rejects?.close();
  }
  if (failed) throw rejected(result);
  const rejectsFailure = rejects?.failure();
  if (rejectsFailure) {
    throw new BraidError(
      500,
      'rejects_file_failed',
      `${result.rowsLoaded} rows were loaded, but writing the rejects file ${JSON.stringify(result.rejectsFile)} failed: ${rejectsFailure.code ?? rejectsFailure.message}`,
      { rowsLoaded: result.rowsLoaded, rowsRejected: result.rowsRejected, rejectsFile: result.rejectsFile },
      { cause: rejectsFailure },
    );
  }
  return result;
}

/**
 * The cell parser of a column, refusing a NUL character in text where the engine cannot store one
 * (PostgreSQL): caught here the row is reported with its line; at the database the whole load fails.
 */
function withNulCheck(connector: Connector, column: ColumnSchema): (text: string | null) => CellResult {
  const parse = cellParser(column);
  const textual = column.type === 'string' || column.type === 'text' || column.type === 'enum';
  if (connector.capabilities.nulInText || !textual) return parse;
  return (text) =>
    text !== null && text.includes('\0')
      ? { ok: false, reason: `contains a NUL character, which ${connector.kind} text cannot store` }
      : parse(text);
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('cancelled');
}

function rejected(result: CsvImportResult): BraidError {
  const first = result.errors[0]!;
  return new BraidError(
    400,
    'import_rejected',
    `${result.rowsRejected} of ${result.rowsRead} rows are invalid, nothing was written; first: line ${first.line}${first.column ? `, column "${first.column}"` : ''}${first.value !== null ? `, value ${JSON.stringify(first.value.slice(0, 100))}` : ''}: ${first.reason}`,
    { rowsRead: result.rowsRead, rowsRejected: result.rowsRejected, errors: result.errors },
  );
}

/** The rejects file: the original fields, then the line, the column and the reason. */
async function openRejects(file: string, headers: (string | null)[]) {
  const out: WriteStream = createWriteStream(file);
  // Opened before anything is loaded: a rejects file that cannot be written must fail the import
  // while nothing has been committed yet.
  await once(out, 'open').catch((err: NodeJS.ErrnoException) => {
    throw badRequest(
      'rejects_file_unwritable',
      `cannot write the rejects file ${JSON.stringify(file)}: ${err.code ?? err.message}`,
      { file },
    );
  });
  // A write error later (disk full) is kept and reported at the end, never left unhandled.
  let failure: NodeJS.ErrnoException | null = null;
  out.on('error', (err) => (failure ??= err));
  const names = [...headers.map((h, i) => h ?? `column_${i + 1}`), '_line', '_column', '_reason'];
  // Fields are written by position: headers may repeat or be blank, and a name must not merge two.
  const keys = names.map((_, i) => String(i));
  out.write(csvHeaderLine(names));
  let buffered = '';
  const flush = async () => {
    if (!buffered) return;
    const chunk = buffered;
    buffered = '';
    if (!out.write(chunk)) await once(out, 'drain');
  };
  return {
    write(record: CsvRecord, error: RowError) {
      const row: Row = {};
      headers.forEach((_, i) => (row[keys[i]!] = record.fields[i] ?? null));
      row[keys[headers.length]!] = String(error.line);
      row[keys[headers.length + 1]!] = error.column;
      row[keys[headers.length + 2]!] = error.reason;
      buffered += csvLines(keys, [row], { header: false });
      if (buffered.length > 1 << 16) flush().catch(() => {});
    },
    async close() {
      if (!failure) await flush().catch(() => {});
      // The callback runs on 'finish' and also when the stream failed.
      await new Promise<void>((resolve) =>
        out.end((err?: Error | null) => {
          failure ??= err ?? null;
          resolve();
        }),
      );
    },
    failure: () => failure,
  };
}
