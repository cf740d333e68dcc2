import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCsv } from '../../src/consolidate/csv/csv-reader.js';
import { createPostgresSchema, postgresAvailable, postgresExec, uniqueName } from '../support/servers.js';
import { startHarness, type Harness } from './harness.js';

const ready = await postgresAvailable();

/** Values a naive writer gets wrong: delimiters, quotes, line breaks, non-ASCII, '' next to null. */
const THINGS = [
  { id: 1, name: 'Ada, the "first"', note: 'line one\nline two', amount: '12.50', active: true },
  { id: 2, name: 'Zoë ✓ 日本語 🎉', note: '', amount: null, active: false },
  { id: 3, name: ' leading and trailing ', note: null, amount: '0.00', active: null },
  { id: 4, name: '"', note: 'windows\r\nbreak', amount: '-3.10', active: true },
  { id: 5, name: 'tab\there;semi', note: ',', amount: '99999999.99', active: false },
];

const sqlText = (v: unknown) =>
  v === null ? 'null' : typeof v === 'string' ? `'${v.replaceAll("'", "''")}'` : String(v);

async function parseCsv(text: string): Promise<(string | null)[][]> {
  const records: (string | null)[][] = [];
  const input = (async function* () {
    yield Buffer.from(text);
  })();
  for await (const batch of readCsv(input, { encoding: 'utf-8', bomBytes: 0, delimiter: ',', quote: '"' }))
    for (const record of batch) records.push(record.fields);
  return records;
}

describe.skipIf(!ready)('exports API: CSV and JSON lines of a PostgreSQL table', () => {
  let h: Harness;
  let db: Awaited<ReturnType<typeof createPostgresSchema>>;
  let source: string;
  let things: string;
  let many: string;

  const get = (query: Record<string, string>) =>
    h.admin({ url: `/api/exports?${new URLSearchParams({ source, ...query })}` });

  beforeAll(async () => {
    db = await createPostgresSchema('api_export');
    await postgresExec(
      db.schema,
      `create table things (id int primary key, name text, note text, amount numeric(10,2), active boolean);
       insert into things values ${THINGS.map((t) => `(${Object.values(t).map(sqlText).join(', ')})`).join(', ')};
       create table many (id int primary key, label text);
       insert into many select i, 'row ' || i from generate_series(1, 25000) as i;`,
    );
    things = `${db.schema}.things`;
    many = `${db.schema}.many`;
    h = await startHarness();
    const res = await h.admin({
      method: 'POST',
      url: '/api/sources',
      payload: { name: uniqueName('pg'), kind: 'postgres', config: { url: db.url, schemas: [db.schema] } },
    });
    expect(res.statusCode, res.body).toBe(201);
    source = res.json().id;
  });

  afterAll(async () => {
    await h?.close();
    await db?.drop();
  });

  it('exports CSV that reads back equal, null and empty string apart', async () => {
    const res = await get({ table: things });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="things\.csv"/);
    const [header, ...records] = await parseCsv(res.body);
    expect(header).toEqual(['id', 'name', 'note', 'amount', 'active']);
    expect(records).toEqual(THINGS.map((t) => Object.values(t).map((v) => (v === null ? null : String(v)))));
  });

  it('exports JSON lines that parse back to the wire values', async () => {
    const res = await get({ table: things, format: 'jsonl' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson');
    expect(res.headers['content-disposition']).toMatch(/filename="things\.jsonl"/);
    const lines = res.body.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => JSON.parse(l))).toEqual(THINGS);
  });

  it('applies a filter, a sort and a column choice, by query string or JSON body', async () => {
    const filter = { field: 'active', op: 'eq', value: false };
    const res = await get({ table: things, filter: JSON.stringify(filter), sort: '-id', columns: 'name,id' });
    expect(res.statusCode, res.body).toBe(200);
    expect(await parseCsv(res.body)).toEqual([
      ['name', 'id'],
      ['tab\there;semi', '5'],
      ['Zoë ✓ 日本語 🎉', '2'],
    ]);

    const posted = await h.admin({
      method: 'POST',
      url: '/api/exports',
      payload: {
        source,
        table: things,
        format: 'jsonl',
        filter: {
          or: [
            { field: 'name', op: 'contains', value: 'ada', caseInsensitive: true },
            { field: 'note', op: 'isNull' },
          ],
        },
        sort: [{ field: 'amount', dir: 'asc' }],
        columns: ['id', 'amount'],
      },
    });
    expect(posted.statusCode, posted.body).toBe(200);
    expect(
      posted.body
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
    ).toEqual([
      { id: 3, amount: '0.00' },
      { id: 1, amount: '12.50' },
    ]);
  });

  it('exports every row of a large table, no cap', async () => {
    const res = await get({ table: many });
    expect(res.statusCode).toBe(200);
    const lines = res.body.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(25_001);
    expect(lines[0]).toBe('id,label');
    expect(lines[1]).toBe('1,row 1');
    expect(lines[25_000]).toBe('25000,row 25000');

    const jsonl = await get({
      table: many,
      format: 'jsonl',
      filter: '{"field":"id","op":"gt","value":5000}',
    });
    expect(jsonl.body.trim().split('\n')).toHaveLength(20_000);
  });

  it('answers bad requests with JSON errors before any row', async () => {
    const unknownFilter = await get({ table: things, filter: '{"field":"nope","op":"eq","value":1}' });
    expect(unknownFilter.statusCode).toBe(400);
    expect(unknownFilter.headers['content-type']).toMatch(/^application\/json/);
    expect(unknownFilter.json().error.message).toContain('nope');

    const unknownColumn = await get({ table: things, columns: 'id,ghost' });
    expect(unknownColumn.statusCode).toBe(400);
    expect(unknownColumn.json().error).toMatchObject({ code: 'unknown_field', details: { field: 'ghost' } });

    const badJson = await get({ table: things, filter: '{oops' });
    expect(badJson.statusCode).toBe(400);

    const badFormat = await get({ table: things, format: 'xlsx' });
    expect(badFormat.statusCode).toBe(400);

    const noTable = await get({ table: `${db.schema}.missing` });
    expect(noTable.statusCode).toBe(404);
    expect(noTable.json().error.code).toBe('unknown_table');

    const noSource = await h.admin({ url: `/api/exports?source=ghost&table=x` });
    expect(noSource.statusCode).toBe(404);

    const anonymous = await h.server.inject({ url: `/api/exports?source=${source}&table=${things}` });
    expect(anonymous.statusCode).toBe(401);
  });
});
