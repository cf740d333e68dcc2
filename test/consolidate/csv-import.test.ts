import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCsv, type ImportMode } from '../../src/consolidate/csv-import.js';
import type { Job } from '../../src/jobs/job.js';
import type { TableDefinition } from '../../src/model/schema.js';
import type { Row } from '../../src/model/values.js';
import type { ImportJobResult } from '../../src/services/imports-service.js';
import { BUILTIN_SOURCE_ID } from '../../src/services/sources-service.js';
import {
  engines,
  useDatabase,
  type Database as EngineDatabase,
  type Engine,
} from '../conformance/engines.js';
import { canonicalDecimal, expectBraidError } from '../conformance/helpers.js';
import { uniqueName } from '../support/servers.js';
import { csvFiles, lines, readCsvRows, type CsvFiles } from './csv-fixture.js';
import { openConsolidationFixture, type ConsolidationFixture } from './consolidation-fixture.js';

/**
 * CSV import against the real servers: the same files, the same expectations on PostgreSQL
 * (COPY), MariaDB (LOAD DATA) and SQLite (one transaction of prepared inserts). Every case gets a
 * table of its own, so a case that wrongly writes rows cannot hide behind another's.
 */

const people = (name: string): TableDefinition => ({
  name,
  columns: [
    { name: 'id', type: 'integer', nullable: false },
    { name: 'email', type: 'string', maxLength: 100, nullable: false },
    { name: 'full_name', type: 'string', maxLength: 100, nullable: true },
    { name: 'note', type: 'text', nullable: true },
  ],
  primaryKey: ['id'],
});

const PEOPLE_TABLES = [
  'clean',
  'nul',
  'semicolon',
  'utf16',
  'latin',
  'unbalanced',
  'late_quote',
  'ragged',
  'encoding',
  'encoding_given',
  'dup_header',
  'many_bad',
  'skip',
  'many_skip',
  'cancelled',
  'skip_blank',
  'skip_unwritable',
  'skip_disk_full',
];
/** Tables with native types the portable DDL does not write (smallint), created with raw SQL. */
const LIMIT_TABLES = ['limit_small', 'limit_varchar', 'limit_decimal'];

const definitions: TableDefinition[] = [
  ...PEOPLE_TABLES.map(people),
  {
    ...people('uniq'),
    uniqueIndexes: [{ name: 'uniq_email_key', columns: ['email'] }],
  },
];

async function seed(db: EngineDatabase): Promise<void> {
  for (const name of LIMIT_TABLES) {
    await db.connector.rawQuery(
      `create table ${db.rawTable(name)} (id integer primary key, small smallint, label varchar(20), amount decimal(5,2))`,
    );
  }
  await db.refresh();
  await db.connector.insert(db.table('uniq'), [
    { id: 1, email: 'taken@example.com', full_name: 'Before', note: null },
    { id: 2, email: 'other@example.com', full_name: 'Before', note: null },
  ]);
}

/** 12,000 rows with 4 bad ones after the first batch (lines 2..5000), which is sent before them. */
function twelveThousand(): string {
  const bad = new Map<number, string>([
    [7000, '6999,short@example.com'],
    [8000, 'x8000,n@example.com,N'],
    [9000, '8999,long@example.com,' + 'y'.repeat(101)],
    [12001, '12000,,Empty'],
  ]);
  const body = Array.from(
    { length: 12000 },
    (_, i) => bad.get(i + 2) ?? `${i + 1},u${i + 1}@example.com,User ${i + 1}`,
  );
  return lines('id,email,full_name', ...body);
}

async function rowsOf(db: EngineDatabase, table: string): Promise<Row[]> {
  const page = await db.connector.select(db.table(table), {
    sort: [{ field: 'id', dir: 'asc' }],
    limit: 10_000,
  });
  return page.rows;
}

describe.each(engines)('CSV import on $kind', (engine: Engine) => {
  const db = useDatabase(engine, definitions, seed);
  let files: CsvFiles;

  beforeAll(async () => {
    files = await csvFiles(`braid-csv-${engine.kind}`);
  });
  afterAll(async () => {
    await files?.remove();
  });

  const load = async (
    table: string,
    content: string | Buffer,
    mode: ImportMode = 'all_or_nothing',
    extra = {},
  ) =>
    importCsv({
      file: await files.write(`${table}.csv`, content),
      connector: db.connector,
      table: db.table(table),
      mode,
      ...extra,
    });
  const count = (table: string) => db.connector.count(db.table(table));

  it('maps headers by normalized name and reads back quoted, multi-line, unicode, NULL and empty values', async () => {
    const text = [
      'ID,E-Mail,Full Name,Note',
      '1,ann@example.com,"Doe, Ann","said ""hi""\r\nthen left"',
      '2,zoe@example.com,Zoë Ünal 🦄,日本語 ✓',
      '3,bob@example.com,,""',
      '4,"cy@example.com","Cy ""The Eye""","a\nb,c"',
      '5,eve@example.com,  Eve  ,"tab\there\\slash"',
    ].join('\r\n');
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const result = await load('clean', Buffer.concat([bom, Buffer.from(`${text}\r\n`, 'utf8')]));
    expect(result).toMatchObject({ rowsRead: 5, rowsLoaded: 5, rowsRejected: 0, errors: [] });
    expect(result.dialect).toMatchObject({ encoding: 'utf-8', bomBytes: 3, delimiter: ',' });
    expect(result.mapping).toContain('header "E-Mail" -> column "email" (by normalized name, ignoring "_")');
    expect(result.mapping).toContain('header "Full Name" -> column "full_name" (by normalized name)');
    expect(await rowsOf(db, 'clean')).toEqual([
      { id: 1, email: 'ann@example.com', full_name: 'Doe, Ann', note: 'said "hi"\r\nthen left' },
      { id: 2, email: 'zoe@example.com', full_name: 'Zoë Ünal 🦄', note: '日本語 ✓' },
      { id: 3, email: 'bob@example.com', full_name: null, note: '' },
      { id: 4, email: 'cy@example.com', full_name: 'Cy "The Eye"', note: 'a\nb,c' },
      { id: 5, email: 'eve@example.com', full_name: '  Eve  ', note: 'tab\there\\slash' },
    ]);
  });

  it('detects a semicolon delimiter', async () => {
    const result = await load(
      'semicolon',
      lines('id;email;full_name;note', '1;a@example.com;"Doe; Ann";1,5', '2;b@example.com;Bo;'),
    );
    expect(result.dialect.delimiter).toBe(';');
    expect(await rowsOf(db, 'semicolon')).toEqual([
      { id: 1, email: 'a@example.com', full_name: 'Doe; Ann', note: '1,5' },
      { id: 2, email: 'b@example.com', full_name: 'Bo', note: null },
    ]);
  });

  it('reads UTF-16 with a BOM, and falls back to windows-1252 for a file that is not UTF-8', async () => {
    const utf16 = await load(
      'utf16',
      Buffer.from(`\uFEFF${lines('id,email,full_name', '1,a@example.com,Zoë 🦄')}`, 'utf16le'),
    );
    expect(utf16.dialect).toMatchObject({ encoding: 'utf-16le', bomBytes: 2 });
    expect(await rowsOf(db, 'utf16')).toEqual([
      { id: 1, email: 'a@example.com', full_name: 'Zoë 🦄', note: null },
    ]);

    const latin = await load(
      'latin',
      Buffer.from(lines('id,email,full_name', '1,a@example.com,Ren\xe9 M\xfcller \x80'), 'latin1'),
    );
    expect(latin.dialect.encoding).toBe('windows-1252');
    expect(await rowsOf(db, 'latin')).toEqual([
      { id: 1, email: 'a@example.com', full_name: 'René Müller €', note: null },
    ]);
  });

  describe('bad input in all_or_nothing mode writes nothing', () => {
    it('an unbalanced quote, reported at the line where it opens', async () => {
      const csv = lines(
        'id,email,full_name',
        '1,a@example.com,Ann',
        '2,b@example.com,"Bob',
        '3,c@example.com,Cy',
      );
      await expectBraidError(() => load('unbalanced', csv), {
        status: 400,
        code: 'csv_unbalanced_quote',
        mentions: ['line 3', 'never closed'],
      });
      expect(await count('unbalanced')).toBe(0);
    });

    it('an unbalanced quote after the first batch was sent: the load is rolled back', async () => {
      const body = Array.from({ length: 7000 }, (_, i) => `${i + 1},u${i + 1}@example.com,User ${i + 1}`);
      const csv = lines(
        'id,email,full_name',
        ...body,
        '7001,late@example.com,"never closed',
        '7002,x@example.com,X',
      );
      await expectBraidError(() => load('late_quote', csv), {
        status: 400,
        code: 'csv_unbalanced_quote',
        mentions: ['rolled back, nothing was written', 'line 7002'],
      });
      expect(await count('late_quote')).toBe(0);
    });

    it('a row with too few or too many fields', async () => {
      const csv = lines(
        'id,email,full_name',
        '1,a@example.com,Ann',
        '2,b@example.com',
        '3,c@example.com,Cy,extra',
      );
      const err = await expectBraidError(() => load('ragged', csv), {
        status: 400,
        code: 'import_rejected',
        mentions: [
          '2 of 3 rows are invalid',
          'nothing was written',
          'line 3',
          '2 fields, but the header has 3',
        ],
      });
      expect(err.details).toMatchObject({
        rowsRejected: 2,
        errors: [
          { line: 3, reason: '2 fields, but the header has 3' },
          { line: 4, reason: '4 fields, but the header has 3' },
        ],
      });
      expect(await count('ragged')).toBe(0);
    });

    it('invalid UTF-8 after the sniffed sample, with its line', async () => {
      // The first 64 KiB decide the encoding; bad bytes later in a UTF-8 file are an error, found
      // here after the first batch of rows was sent.
      const good = Array.from({ length: 6000 }, (_, i) => `${i + 1},user${i + 1}@example.com,Zoë ${i + 1}`);
      const bad = Buffer.concat([
        Buffer.from('6001,bad@example.com,A'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('B\n'),
      ]);
      const csv = Buffer.concat([
        Buffer.from(lines('id,email,full_name', ...good)),
        bad,
        Buffer.from('6002,x@example.com,X\n'),
      ]);
      await expectBraidError(() => load('encoding', csv), {
        status: 400,
        code: 'csv_invalid_encoding',
        mentions: ['line 6002', 'not valid utf-8'],
      });
      expect(await count('encoding')).toBe(0);
    });

    it('invalid UTF-8 when the encoding is given', async () => {
      const csv = Buffer.concat([
        Buffer.from(lines('id,email,full_name', '1,a@example.com,Ann', '2,b@example.com,B')),
        Buffer.from([0xc3, 0x28, 0x0a]),
      ]);
      await expectBraidError(
        () => load('encoding_given', csv, 'all_or_nothing', { dialect: { encoding: 'utf-8' } }),
        {
          status: 400,
          code: 'csv_invalid_encoding',
          mentions: ['line 4'],
        },
      );
      expect(await count('encoding_given')).toBe(0);
    });

    it('duplicate headers, also when only their normalized names are equal', async () => {
      await expectBraidError(
        () => load('dup_header', lines('id,email,email', '1,a@example.com,b@example.com')),
        {
          status: 400,
          code: 'csv_duplicate_header',
          mentions: ['"email" appears twice', 'columns 2 and 3'],
        },
      );
      await expectBraidError(
        () => load('dup_header', lines('id,email,E-Mail', '1,a@example.com,b@example.com')),
        {
          status: 400,
          code: 'csv_duplicate_header',
          mentions: ['"email" (column 2)', '"E-Mail" (column 3)'],
        },
      );
      expect(await count('dup_header')).toBe(0);
    });

    it.each([
      ['limit_small', 'small', '40000', 'out of range for smallint'],
      ['limit_varchar', 'label', 'x'.repeat(300), 'longer than 20 characters (300)'],
      ['limit_decimal', 'amount', '123.456', 'more than 2 decimal places'],
    ])('a value too large for its column (%s)', async (table, column, value, reason) => {
      const csv = lines(
        'id,small,label,amount',
        '1,1,ok,1.50',
        `2,${column === 'small' ? value : 2},${column === 'label' ? value : 'ok'},${column === 'amount' ? value : '2'}`,
        '3,3,ok,3',
      );
      const err = await expectBraidError(() => load(table, csv), {
        status: 400,
        code: 'import_rejected',
        mentions: ['line 3', `column "${column}"`, `value ${JSON.stringify(value.slice(0, 100))}`, reason],
      });
      expect(err.details).toMatchObject({
        rowsRejected: 1,
        errors: [{ line: 3, column, value, reason: expect.stringContaining(reason) }],
      });
      expect(await count(table)).toBe(0);
    });

    it('a unique key the database checks: rolled back, the rows before stay as they were', async () => {
      const csv = lines(
        'id,email,full_name',
        '10,new1@example.com,N1',
        '11,taken@example.com,N2',
        '12,new3@example.com,N3',
      );
      const err = await expectBraidError(() => load('uniq', csv), {
        status: 409,
        code: 'unique_violation',
        mentions: ['rolled back, nothing was written'],
      });
      expect(err.message).toContain('"uniq"');
      expect(await rowsOf(db, 'uniq')).toEqual([
        { id: 1, email: 'taken@example.com', full_name: 'Before', note: null },
        { id: 2, email: 'other@example.com', full_name: 'Before', note: null },
      ]);
    });

    it('bad rows in the middle of 12,000: every one counted, the first listed with lines, nothing written', async () => {
      const err = await expectBraidError(() => load('many_bad', twelveThousand()), {
        status: 400,
        code: 'import_rejected',
        mentions: ['4 of 12000 rows are invalid', 'nothing was written', 'line 7000'],
      });
      expect(err.details).toMatchObject({
        rowsRead: 12000,
        rowsRejected: 4,
        errors: [
          { line: 7000, column: null, reason: '2 fields, but the header has 3' },
          { line: 8000, column: 'id', value: 'x8000', reason: 'not an integer' },
          { line: 9000, column: 'full_name', reason: 'longer than 100 characters (101)' },
          { line: 12001, column: 'email', value: null, reason: 'empty, but the column is required' },
        ],
      });
      expect(await count('many_bad')).toBe(0);
    });
  });

  it('skip_bad_rows loads the good rows and writes exactly the bad ones to the rejects file', async () => {
    const rejectsFile = files.path('skip.rejects.csv');
    const csv = lines(
      'id,email,full_name',
      '1,a@example.com,Ann',
      '2,b@example.com',
      '3,c@example.com,"Cy, ""C"""',
      'three,d@example.com,D',
      '5,e@example.com,Eve',
      `6,f@example.com,${'z'.repeat(120)}`,
      '7,g@example.com,',
    );
    const result = await load('skip', csv, 'skip_bad_rows', { rejectsFile });
    expect(result).toMatchObject({ rowsRead: 7, rowsLoaded: 4, rowsRejected: 3, rejectsFile });
    expect((await rowsOf(db, 'skip')).map((r) => [r.id, r.full_name])).toEqual([
      [1, 'Ann'],
      [3, 'Cy, "C"'],
      [5, 'Eve'],
      [7, null],
    ]);
    expect(await readCsvRows(rejectsFile)).toEqual([
      {
        id: '2',
        email: 'b@example.com',
        full_name: null,
        _line: '3',
        _column: null,
        _reason: '2 fields, but the header has 3',
      },
      {
        id: 'three',
        email: 'd@example.com',
        full_name: 'D',
        _line: '5',
        _column: 'id',
        _reason: 'not an integer',
      },
      {
        id: '6',
        email: 'f@example.com',
        full_name: 'z'.repeat(120),
        _line: '7',
        _column: 'full_name',
        _reason: 'longer than 100 characters (120)',
      },
    ]);
  });

  it('a NUL character in text: stored where the engine can, else that row is rejected with its line', async () => {
    const rejectsFile = files.path('nul.rejects.csv');
    const csv = lines('id,email,full_name', '1,a@example.com,Ann', '2,b@example.com,B\u0000b');
    const result = await load('nul', csv, 'skip_bad_rows', { rejectsFile });
    if (engine.kind === 'postgres') {
      expect(result).toMatchObject({ rowsLoaded: 1, rowsRejected: 1 });
      expect(result.errors[0]).toMatchObject({ line: 3, column: 'full_name' });
      expect(result.errors[0]!.reason).toContain('NUL');
    } else {
      expect(result).toMatchObject({ rowsLoaded: 2, rowsRejected: 0 });
      expect((await rowsOf(db, 'nul')).map((r) => r.full_name)).toEqual(['Ann', 'B\u0000b']);
    }
  });

  it('skip_bad_rows over several batches: 11,996 rows land, the 4 bad ones are the rejects', async () => {
    const rejectsFile = files.path('many_skip.rejects.csv');
    const result = await load('many_skip', twelveThousand(), 'skip_bad_rows', { rejectsFile });
    expect(result).toMatchObject({ rowsRead: 12000, rowsLoaded: 11996, rowsRejected: 4 });
    expect(await count('many_skip')).toBe(11996);
    expect((await readCsvRows(rejectsFile)).map((r) => [r.id, r._line, r._column])).toEqual([
      ['6999', '7000', null],
      ['x8000', '8000', 'id'],
      ['8999', '9000', 'full_name'],
      ['12000', '12001', 'email'],
    ]);
  });

  it('a cancel after the first batch was sent rolls the load back', async () => {
    const controller = new AbortController();
    const error = await load('cancelled', twelveThousand(), 'skip_bad_rows', {
      rejectsFile: files.path('cancelled.rejects.csv'),
      signal: controller.signal,
      onProgress: () => controller.abort(new Error('stopped by the user')),
    }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('stopped by the user');
    expect(await count('cancelled')).toBe(0);
  });

  it('skip_bad_rows keeps every field of a rejected row, also under blank headers', async () => {
    const rejectsFile = files.path('skip_blank.rejects.csv');
    const csv = lines('id,email,full_name,"",""', '1,a@example.com,Ann,p,q', 'x,b@example.com,B,r,s');
    const result = await load('skip_blank', csv, 'skip_bad_rows', {
      rejectsFile,
      ignoreUnknownColumns: true,
    });
    expect(result).toMatchObject({ rowsLoaded: 1, rowsRejected: 1 });
    expect(await readFile(rejectsFile, 'utf8')).toBe(
      lines('id,email,full_name,"","",_line,_column,_reason', 'x,b@example.com,B,r,s,3,id,not an integer'),
    );
  });

  it('a rejects file that cannot be written fails the import before anything is loaded', async () => {
    const rejectsFile = files.path('missing-dir/skip.rejects.csv');
    await expectBraidError(
      () =>
        load('skip_unwritable', lines('id,email', '1,a@example.com', 'x,b@example.com'), 'skip_bad_rows', {
          rejectsFile,
        }),
      {
        status: 400,
        code: 'rejects_file_unwritable',
        mentions: ['ENOENT'],
      },
    );
    expect(await count('skip_unwritable')).toBe(0);
  });

  // /dev/full accepts the open and fails every write with ENOSPC, as a full disk does.
  it.runIf(existsSync('/dev/full'))(
    'a rejects file that fails while written is reported, not left unhandled',
    async () => {
      const csv = lines('id,email', '1,a@example.com', 'x,b@example.com', '3,c@example.com');
      await expectBraidError(
        () => load('skip_disk_full', csv, 'skip_bad_rows', { rejectsFile: '/dev/full' }),
        {
          status: 500,
          code: 'rejects_file_failed',
          mentions: ['2 rows were loaded', 'ENOSPC'],
        },
      );
      expect(await count('skip_disk_full')).toBe(2);
    },
  );

  describe('through the imports service', () => {
    let fx: ConsolidationFixture;
    let sourceId: string;
    let drop: () => Promise<void>;
    /** A PostgreSQL source reads only its schemas: new tables are named into one of them. */
    let qualified: (table: string) => string;

    beforeAll(async () => {
      fx = await openConsolidationFixture();
      const isolated = await engine.isolate();
      drop = () => isolated.drop();
      qualified = (table) => (isolated.schema ? `${isolated.schema}.${table}` : table);
      let config = isolated.config as Record<string, unknown>;
      if (engine.kind === 'sqlite') {
        new Database(config.file as string).close();
        config = { file: config.file };
      }
      sourceId = await fx.addSource(`csv_${engine.kind}`, engine.kind, config);
    });
    afterAll(async () => {
      await fx?.close();
      await drop?.();
    });

    const runImport = async (input: Record<string, unknown>) => {
      const job = await fx.app.imports.submit(input, { caller: 'cli', createdBy: null, runHere: true });
      return (await fx.app.jobs.wait(job.id)) as Job<unknown, ImportJobResult>;
    };
    const tableExists = async (table: string) =>
      (await fx.app.sources.refresh(sourceId)).tables.some((t) => t.name === table);

    it('creates a table with inferred types and loads the file', async () => {
      const file = await files.write(
        'inferred.csv',
        lines(
          'Code,Qty,Price,Day,Active,Name',
          '00123,1,12.50,2024-01-31,true,Ann',
          '00456,-20,0.5,2024-02-29,false,"Zoë, Z"',
          '07,300,1000.25,2023-12-01,yes,',
        ),
      );
      const job = await runImport({ source: sourceId, table: qualified('inferred'), file, create: true });
      expect(job.error).toBeNull();
      expect(job.status).toBe('succeeded');
      expect(job.result).toMatchObject({ created: true, rowsLoaded: 3 });
      const { table, connector } = await fx.app.sources.resolveTable(sourceId, qualified('inferred'));
      const types = Object.fromEntries(table.columns.map((c) => [c.name, c.type]));
      expect(types).toEqual({
        // SQLite's rowid key is its one 64-bit integer type, introspected as integer.
        id: engine.kind === 'sqlite' ? 'integer' : 'bigint',
        code: 'string',
        qty: 'integer',
        price: 'decimal',
        day: 'date',
        active: 'boolean',
        name: 'string',
      });
      expect(table.columns.find((c) => c.name === 'price')).toMatchObject({ scale: 2 });
      const page = await connector.select(table, { sort: [{ field: 'code', dir: 'asc' }], limit: 10 });
      expect(page.rows.map((r) => ({ ...r, id: undefined, price: canonicalDecimal(r.price) }))).toEqual([
        { id: undefined, code: '00123', qty: 1, price: '12.5', day: '2024-01-31', active: true, name: 'Ann' },
        {
          id: undefined,
          code: '00456',
          qty: -20,
          price: '0.5',
          day: '2024-02-29',
          active: false,
          name: 'Zoë, Z',
        },
        {
          id: undefined,
          code: '07',
          qty: 300,
          price: '1000.25',
          day: '2023-12-01',
          active: true,
          name: null,
        },
      ]);
    });

    it('creates columns for header-less CSV columns and loads them', async () => {
      const file = await files.write('blank-headers.csv', lines('a,,"",d', '1,2,x,4', '5,6,y,8'));
      const job = await runImport({
        source: sourceId,
        table: qualified('blank_headers'),
        file,
        create: true,
      });
      expect(job.error).toBeNull();
      const { table, connector } = await fx.app.sources.resolveTable(sourceId, qualified('blank_headers'));
      expect(table.columns.map((c) => c.name)).toEqual(['id', 'a', 'column_2', 'column_3', 'd']);
      const page = await connector.select(table, { sort: [{ field: 'a', dir: 'asc' }], limit: 10 });
      expect(page.rows.map((r) => [r.a, r.column_2, r.column_3, r.d])).toEqual([
        [1, 2, 'x', 4],
        [5, 6, 'y', 8],
      ]);
    });

    it('sizes a string column by its longest value in characters, whatever comes after it', async () => {
      // 21 emoji are 42 UTF-16 units but 21 characters: they must not shrink the 40 seen before.
      const file = await files.write('lengths.csv', lines('Label', 'a'.repeat(40), '🦄'.repeat(21), 'short'));
      const job = await runImport({ source: sourceId, table: qualified('lengths'), file, create: true });
      expect(job.error).toBeNull();
      expect(job.result).toMatchObject({ rowsLoaded: 3 });
      const { table } = await fx.app.sources.resolveTable(sourceId, qualified('lengths'));
      expect(table.columns.find((c) => c.name === 'label')).toMatchObject({ type: 'string', maxLength: 64 });
    });

    it('a failed create-import leaves no table behind', async () => {
      // Inference skips the ragged row, so the table is created and the load then rejects the file.
      const ragged = await files.write('ragged-create.csv', lines('a,b', '1,x', '2', '3,z'));
      const job = await runImport({
        source: sourceId,
        table: qualified('ragged_create'),
        file: ragged,
        create: true,
      });
      expect(job.status).toBe('failed');
      expect(job.error).toMatchObject({ code: 'import_rejected' });
      expect(job.error!.message).toContain('line 3');
      expect(await tableExists('ragged_create')).toBe(false);

      if (engine.kind === 'postgres') {
        // Unqualified, the table is created in the connector's default schema; when the source does
        // not read that schema the import cannot find it, and the table must not stay behind there.
        const name = uniqueName('unqualified');
        const job = await runImport({
          source: sourceId,
          table: name,
          file: await files.write('unqualified.csv', lines('a,b', '1,x')),
          create: true,
        });
        const connector = await fx.app.sources.connector(sourceId);
        const left = await connector.rawQuery(
          'select table_schema from information_schema.tables where table_name = $1',
          [name],
        );
        expect(left.rows.length).toBe(job.status === 'succeeded' ? 1 : 0);
        if (left.rows.length > 0)
          await connector.rawQuery(`drop table ${left.rows[0]!.table_schema as string}.${name}`);
      }

      const quote = await files.write('quote-create.csv', lines('a,b', '1,"x', '2,y'));
      const failed = await runImport({
        source: sourceId,
        table: qualified('quote_create'),
        file: quote,
        create: true,
      });
      expect(failed.error).toMatchObject({ code: 'csv_unbalanced_quote' });
      expect(await tableExists('quote_create')).toBe(false);
    });
  });
});

describe('CSV import into a built-in table', () => {
  let fx: ConsolidationFixture;
  let files: CsvFiles;

  beforeAll(async () => {
    fx = await openConsolidationFixture();
    files = await csvFiles('braid-csv-builtin');
  });
  afterAll(async () => {
    await fx?.close();
    await files?.remove();
  });

  it('loads through the imports service', async () => {
    await fx.app.builtinTables.create({
      name: 'contacts',
      columns: [
        { name: 'id', type: 'integer', nullable: false },
        { name: 'email', type: 'string', maxLength: 100, nullable: false },
        { name: 'score', type: 'decimal', precision: 6, scale: 2, nullable: true },
      ],
      primaryKey: ['id'],
    });
    const file = await files.write(
      'contacts.csv',
      lines('Id,E-Mail,Score', '1,a@example.com,1.5', '2,"b@example.com",', '3,c@example.com,-0.25'),
    );
    const job = await fx.app.imports.submit(
      { source: BUILTIN_SOURCE_ID, table: 'contacts', file, mode: 'all_or_nothing' },
      { caller: 'cli', createdBy: null, runHere: true },
    );
    const done = (await fx.app.jobs.wait(job.id)) as Job<unknown, ImportJobResult>;
    expect(done.error).toBeNull();
    expect(done.result).toMatchObject({ rowsLoaded: 3, created: false });
    const { connector, table } = await fx.app.sources.resolveTable(BUILTIN_SOURCE_ID, 'contacts');
    const page = await connector.select(table, { sort: [{ field: 'id', dir: 'asc' }], limit: 10 });
    expect(
      page.rows.map((r) => [r.id, r.email, r.score === null ? null : canonicalDecimal(r.score)]),
    ).toEqual([
      [1, 'a@example.com', '1.5'],
      [2, 'b@example.com', null],
      [3, 'c@example.com', '-0.25'],
    ]);
  });
});
