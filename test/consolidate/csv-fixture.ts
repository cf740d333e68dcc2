import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readCsv } from '../../src/consolidate/csv/csv-reader.js';
import type { Row } from '../../src/model/values.js';

/** A temp directory for the CSV files of one test file, removed by `remove()`. */
export interface CsvFiles {
  dir: string;
  /** Writes `content` (text as UTF-8, or raw bytes) to a new file and answers its path. */
  write(name: string, content: string | Buffer): Promise<string>;
  /** A path in the directory that does not exist yet (a rejects file). */
  path(name: string): string;
  remove(): Promise<void>;
}

export async function csvFiles(prefix: string): Promise<CsvFiles> {
  const dir = await mkdtemp(path.join(tmpdir(), `${prefix}-`));
  return {
    dir,
    async write(name, content) {
      const file = path.join(dir, name);
      await writeFile(file, content);
      return file;
    },
    path: (name) => path.join(dir, name),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** CSV lines joined with `\n` and ended by one. */
export function lines(...rows: string[]): string {
  return rows.map((r) => `${r}\n`).join('');
}

/** Every record of a CSV file written by Braid (a rejects file), header first, as objects. */
export async function readCsvRows(file: string): Promise<Row[]> {
  const records: (string | null)[][] = [];
  const input = (async function* () {
    yield await readFile(file);
  })();
  for await (const batch of readCsv(input, { encoding: 'utf-8', bomBytes: 0, delimiter: ',', quote: '"' })) {
    for (const record of batch) records.push(record.fields);
  }
  const [header = [], ...rest] = records;
  return rest.map((fields) =>
    Object.fromEntries(header.map((h, i) => [h ?? `column_${i + 1}`, fields[i] ?? null])),
  );
}
