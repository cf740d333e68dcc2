import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/connector.js';
import { createPostgresConnector } from '../../src/connectors/postgres/index.js';
import { importCsv } from '../../src/consolidate/csv-import.js';
import type { TableSchema } from '../../src/model/schema.js';
import { expectBraidError } from '../conformance/helpers.js';
import { createPostgresSchema, postgresAvailable } from '../support/servers.js';

/**
 * A 1 GiB file through the all_or_nothing path: a bad row near the start must not stop the reading
 * (every bad row is counted), must not write anything, and must not cost memory that grows with the
 * file. An unclosed quote near the start must fail at the field size limit, not at the end of the file.
 */

const ROWS = 10_000_000;
const LINE_BYTES = 108; // 10 M lines of 108 bytes: just over 1 GiB
const HEADER = 'id,name,amount,note\n';
const FILLER =
  'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et';
/** Data rows that are invalid: the 2nd (a bad id) and every 1,000,000th (a bad amount). */
const BAD_ROWS = [2, ...Array.from({ length: ROWS / 1_000_000 }, (_, k) => (k + 1) * 1_000_000)];
const RSS_GROWTH_LIMIT = 150 * 1024 * 1024;

function line(row: number): string {
  const id = row === 2 ? 'x2' : String(row);
  const amount = row % 1_000_000 === 0 ? 'oops' : `${row % 100_000}.${String(row % 100).padStart(2, '0')}`;
  const start = `${id},Customer number ${row},${amount},`;
  return `${start}${FILLER.slice(0, LINE_BYTES - 1 - start.length)}\n`;
}

async function writeLargeCsv(file: string): Promise<void> {
  const out = createWriteStream(file);
  let chunk = HEADER;
  for (let row = 1; row <= ROWS; row++) {
    chunk += line(row);
    if (chunk.length >= 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

/** Runs `fn` while sampling the RSS every 100 ms; answers its outcome and the peak growth. */
async function withRss<T>(fn: () => Promise<T>): Promise<{ outcome: T; growth: number; ms: number }> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 100);
  const started = Date.now();
  try {
    const outcome = await fn();
    return { outcome, growth: Math.max(peak, process.memoryUsage().rss) - before, ms: Date.now() - started };
  } finally {
    clearInterval(timer);
  }
}

const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;

describe.skipIf(!(await postgresAvailable()))('a 1 GiB CSV import on PostgreSQL', () => {
  let dir: string;
  let file: string;
  let pg: { schema: string; url: string; drop(): Promise<void> };
  let connector: Connector;
  let table: TableSchema;
  let fullReadMs = 0;

  beforeAll(async () => {
    pg = await createPostgresSchema('csv_large');
    connector = createPostgresConnector({ url: pg.url, schemas: [pg.schema] });
    await connector.createTable({
      schema: pg.schema,
      name: 'customers',
      columns: [
        { name: 'id', type: 'integer', nullable: false },
        { name: 'name', type: 'string', maxLength: 60, nullable: false },
        { name: 'amount', type: 'decimal', precision: 10, scale: 2, nullable: true },
        { name: 'note', type: 'text', nullable: true },
      ],
      primaryKey: ['id'],
    });
    table = (await connector.introspect()).tables.find((t) => t.name === 'customers')!;
    dir = await mkdtemp(path.join(tmpdir(), 'braid-csv-large-'));
    file = path.join(dir, 'customers.csv');
    const started = Date.now();
    await writeLargeCsv(file);
    console.info(`generated ${mb((await stat(file)).size)} in ${Date.now() - started} ms`);
  }, 300_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    await connector?.close();
    await pg?.drop();
  });

  it('reads the whole file, counts every bad row, writes nothing, in constant memory', async () => {
    expect((await stat(file)).size).toBeGreaterThanOrEqual(2 ** 30);
    const { outcome, growth, ms } = await withRss(() =>
      expectBraidError(() => importCsv({ file, connector, table, mode: 'all_or_nothing' }), {
        status: 400,
        code: 'import_rejected',
        mentions: [
          `${BAD_ROWS.length} of ${ROWS} rows are invalid`,
          'nothing was written',
          'line 3',
          'column "id"',
        ],
      }),
    );
    fullReadMs = ms;
    console.info(
      `1 GiB all_or_nothing import failed as expected after ${ms} ms, peak RSS growth ${mb(growth)}`,
    );
    expect(outcome.details).toMatchObject({ rowsRead: ROWS, rowsRejected: BAD_ROWS.length });
    expect((outcome.details!.errors as { line: number }[]).map((e) => e.line)).toEqual(
      BAD_ROWS.map((r) => r + 1),
    );
    expect(await connector.count(table)).toBe(0);
    expect(growth).toBeLessThan(RSS_GROWTH_LIMIT);
  }, 600_000);

  it('an unclosed quote near the start fails at the field size limit, without reading the file', async () => {
    // The 3rd data row's name opens a quote; the file has no other quote, so the field never ends.
    const handle = await open(file, 'r+');
    try {
      await handle.write('"', HEADER.length + 2 * LINE_BYTES + '3,'.length);
    } finally {
      await handle.close();
    }
    const { outcome, growth, ms } = await withRss(() =>
      importCsv({ file, connector, table, mode: 'all_or_nothing' }).then(
        () => null,
        (err: unknown) => err,
      ),
    );
    console.info(`1 GiB file with an unclosed quote failed after ${ms} ms, peak RSS growth ${mb(growth)}`);
    await expectBraidError(
      () => {
        throw outcome;
      },
      { status: 400, code: 'csv_field_too_large', mentions: ['line 4'] },
    );
    expect(ms).toBeLessThan(Math.max(2_000, fullReadMs / 5));
    expect(growth).toBeLessThan(RSS_GROWTH_LIMIT);
    expect(await connector.count(table)).toBe(0);
  }, 120_000);
});
