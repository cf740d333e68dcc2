import { performance } from 'node:perf_hooks';
import { plainColumn, type ColumnSchema } from '../src/model/schema.js';
import { cellParser } from '../src/consolidate/csv/cell-parser.js';
import { readCsv } from '../src/consolidate/csv/csv-reader.js';

/**
 * Parse speed of the CSV reader on an in-memory file of 1,000,000 records of 8 short fields, fed in
 * 64 KiB chunks as a file stream would be. Run with `npx tsx bench/csv-parse.ts [rows]`.
 */

const ROWS = Number(process.argv[2] ?? 1_000_000);
const CHUNK = 64 * 1024;
const RUNS = 3;

function buildFile(rows: number, quoted: boolean): Buffer {
  const lines: string[] = ['id,name,email,city,amount,active,created,note'];
  for (let i = 0; i < rows; i++) {
    const name = quoted ? `"Smith, ${i % 97}"` : `Smith ${i % 97}`;
    lines.push(`${i},${name},user${i}@example.com,Lyon,${(i % 1000) / 10},true,2024-05-01,n${i % 13}`);
  }
  return Buffer.from(lines.join('\n') + '\n');
}

async function* chunks(file: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < file.length; i += CHUNK) yield file.subarray(i, i + CHUNK);
}

/** The columns of the generated file, so the cells can be parsed as an import would. */
const COLUMNS: ColumnSchema[] = [
  plainColumn('id', 'integer', { nativeType: 'integer' }),
  plainColumn('name', 'string', { maxLength: 80 }),
  plainColumn('email', 'string', { maxLength: 255 }),
  plainColumn('city', 'string'),
  plainColumn('amount', 'decimal', { precision: 10, scale: 2 }),
  plainColumn('active', 'boolean'),
  plainColumn('created', 'date'),
  plainColumn('note', 'text'),
];

async function measure(label: string, file: Buffer, parseCells = false): Promise<void> {
  const parsers = COLUMNS.map(cellParser);
  let best = Infinity;
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    let records = 0;
    for await (const batch of readCsv(chunks(file), {
      encoding: 'utf-8',
      bomBytes: 0,
      delimiter: ',',
      quote: '"',
    })) {
      records += batch.length;
      if (!parseCells) continue;
      for (let r = 0; r < batch.length; r++) {
        if (records - batch.length + r === 0) continue;
        const fields = batch[r]!.fields;
        for (let c = 0; c < parsers.length; c++) {
          if (!parsers[c]!(fields[c] ?? null).ok) throw new Error(`cell ${c} of record ${r} refused`);
        }
      }
    }
    const seconds = (performance.now() - start) / 1000;
    if (records !== ROWS + 1) throw new Error(`expected ${ROWS + 1} records, read ${records}`);
    best = Math.min(best, seconds);
  }
  const mib = file.length / 1024 / 1024;
  console.log(
    `${label}: ${ROWS} rows, ${mib.toFixed(1)} MiB, best of ${RUNS}: ${best.toFixed(2)} s, ` +
      `${Math.round(ROWS / best).toLocaleString('en-US')} records/s, ${(mib / best).toFixed(0)} MiB/s`,
  );
}

await measure('unquoted', buildFile(ROWS, false));
await measure('one quoted field per row', buildFile(ROWS, true));
await measure('unquoted, and every cell parsed by cellParser', buildFile(ROWS, false), true);
