import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TableDefinition } from '../../src/model/schema.js';
import { createConnector } from '../../src/connectors/create-connector.js';
import { engines } from '../conformance/engines.js';
import { seg, startHarness, type Harness } from './harness.js';

const HOSTILE_TABLE = "x'; drop table t; --";
const HOSTILE_COLUMN = 'a"b';

const tables: TableDefinition[] = [
  {
    name: 'customers',
    columns: [
      { name: 'id', type: 'integer', autoIncrement: true },
      { name: 'email', type: 'string', maxLength: 120, nullable: false },
      { name: 'phone', type: 'bigint' },
      { name: 'balance', type: 'decimal', precision: 20, scale: 4 },
      { name: 'active', type: 'boolean' },
    ],
    primaryKey: ['id'],
    uniqueIndexes: [{ name: 'customers_email_uq', columns: ['email'] }],
  },
  {
    name: 'order_lines',
    columns: [
      { name: 'order_no', type: 'integer', nullable: false },
      { name: 'region', type: 'string', maxLength: 10, nullable: false },
      { name: 'qty', type: 'integer' },
    ],
    primaryKey: ['order_no', 'region'],
  },
  {
    name: HOSTILE_TABLE,
    columns: [
      { name: 'id', type: 'integer', nullable: false },
      { name: HOSTILE_COLUMN, type: 'string', maxLength: 50 },
      { name: 'select', type: 'string', maxLength: 50 },
    ],
    primaryKey: ['id'],
  },
];

describe.each(engines)('rows API over HTTP on $kind', (engine) => {
  let h: Harness;
  let sourceId: string;
  let pgSchema: string | null = null;
  let drop: () => Promise<void> = async () => {};
  const name = (table: string) => (pgSchema ? `${pgSchema}.${table}` : table);
  const rowsUrl = (table: string) => `/api/sources/${sourceId}/tables/${seg(name(table))}/rows`;
  const rawTable = (table: string) =>
    engine.kind === 'mysql' ? `\`${table}\`` : pgSchema ? `"${pgSchema}"."${table}"` : `"${table}"`;

  beforeAll(async () => {
    const isolated = await engine.isolate();
    drop = () => isolated.drop();
    pgSchema = isolated.schema;
    const { create, ...config } = isolated.config as Record<string, unknown> & { create?: boolean };
    if (create) {
      // A SQLite source must be an existing file, as a person's database would be.
      const bootstrap = createConnector('sqlite', isolated.config);
      await bootstrap.rawQuery('select 1');
      await bootstrap.close();
    }
    h = await startHarness();
    const res = await h.admin({
      method: 'POST',
      url: '/api/sources',
      payload: { name: `src-${engine.kind}`, kind: engine.kind, config },
    });
    expect(res.statusCode, res.body).toBe(201);
    sourceId = res.json().id;
    const connector = await h.app.sources.connector(sourceId);
    for (const definition of tables) await connector.createTable({ ...definition, schema: pgSchema });
    await h.app.sources.refresh(sourceId);
  });
  afterAll(async () => {
    await h?.close();
    await drop();
  });

  it('lists tables from the fetched schema', async () => {
    const res = await h.admin({ method: 'GET', url: `/api/sources/${sourceId}/tables` });
    expect(res.statusCode).toBe(200);
    const names = res.json().tables.map((t: { name: string }) => t.name);
    expect(names).toEqual(expect.arrayContaining(['customers', 'order_lines', HOSTILE_TABLE]));
  });

  it('inserts, reads, filters, pages, updates and deletes', async () => {
    const one = await h.admin({
      method: 'POST',
      url: rowsUrl('customers'),
      payload: { email: 'a@x.test', phone: '9007199254740993', balance: '12.5000', active: true },
    });
    expect(one.statusCode, one.body).toBe(201);
    expect(one.json()).toMatchObject({ email: 'a@x.test', phone: '9007199254740993', active: true });
    expect(typeof one.json().id).toBe('number');
    const bulk = await h.admin({
      method: 'POST',
      url: rowsUrl('customers'),
      payload: Array.from({ length: 25 }, (_, i) => ({
        email: `bulk${String(i).padStart(2, '0')}@x.test`,
        active: i % 2 === 0,
      })),
    });
    expect(bulk.statusCode).toBe(201);
    expect(bulk.json().map((r: { email: string }) => r.email)).toEqual(
      Array.from({ length: 25 }, (_, i) => `bulk${String(i).padStart(2, '0')}@x.test`),
    );

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: Record<string, string> = {
        filter: JSON.stringify({ field: 'email', op: 'startsWith', value: 'bulk' }),
        sort: '-email',
        limit: '7',
        ...(cursor ? { cursor } : {}),
      };
      const page = await h.admin({ method: 'GET', url: rowsUrl('customers'), query });
      expect(page.statusCode, page.body).toBe(200);
      seen.push(...page.json().rows.map((r: { email: string }) => r.email));
      cursor = page.json().next;
    } while (cursor);
    expect(seen).toEqual(
      Array.from({ length: 25 }, (_, i) => `bulk${String(24 - i).padStart(2, '0')}@x.test`),
    );

    const counted = await h.admin({
      method: 'GET',
      url: rowsUrl('customers'),
      query: { filter: '{"field":"active","op":"eq","value":true}', count: 'true', limit: '1' },
    });
    expect(counted.json().total).toBe(14);

    const id = one.json().id;
    const patched = await h.admin({
      method: 'PATCH',
      url: `${rowsUrl('customers')}/${id}`,
      payload: { balance: '-3.25' },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().balance).toMatch(/^-3\.25/);
    expect(patched.json().email).toBe('a@x.test');
    expect((await h.admin({ method: 'DELETE', url: `${rowsUrl('customers')}/${id}` })).statusCode).toBe(204);
    expect((await h.admin({ method: 'GET', url: `${rowsUrl('customers')}/${id}` })).statusCode).toBe(404);
  });

  it('addresses composite keys as a JSON array in the URL', async () => {
    await h.admin({
      method: 'POST',
      url: rowsUrl('order_lines'),
      payload: [
        { order_no: 7, region: 'EU', qty: 1 },
        { order_no: 7, region: 'US', qty: 2 },
      ],
    });
    const key = seg(JSON.stringify([7, 'US']));
    const row = await h.admin({ method: 'GET', url: `${rowsUrl('order_lines')}/${key}` });
    expect(row.statusCode, row.body).toBe(200);
    expect(row.json()).toEqual({ order_no: 7, region: 'US', qty: 2 });
    const bad = await h.admin({ method: 'GET', url: `${rowsUrl('order_lines')}/7` });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('invalid_key');
  });

  it('reads and writes a table and columns with hostile names', async () => {
    const url = rowsUrl(HOSTILE_TABLE);
    const created = await h.admin({
      method: 'POST',
      url,
      payload: { id: 1, [HOSTILE_COLUMN]: 'it\'s "quoted"', select: 'drop table customers' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const found = await h.admin({
      method: 'GET',
      url,
      query: {
        filter: JSON.stringify({ field: HOSTILE_COLUMN, op: 'contains', value: '"quoted"' }),
        sort: `-${'select'}`,
      },
    });
    expect(found.json().rows).toEqual([
      { id: 1, [HOSTILE_COLUMN]: 'it\'s "quoted"', select: 'drop table customers' },
    ]);
    const patched = await h.admin({ method: 'PATCH', url: `${url}/1`, payload: { select: 'ok' } });
    expect(patched.json().select).toBe('ok');
    const still = await h.admin({ method: 'GET', url: rowsUrl('customers'), query: { limit: '1' } });
    expect(still.statusCode).toBe(200);
  });

  it('answers bad input with 4xx naming the problem and writes nothing', async () => {
    const before = (
      await h.admin({ method: 'GET', url: rowsUrl('order_lines'), query: { count: 'true' } })
    ).json().total;
    const wrongType = await h.admin({
      method: 'POST',
      url: rowsUrl('order_lines'),
      payload: [
        { order_no: 1, region: 'EU' },
        { order_no: 'abc', region: 'EU' },
      ],
    });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().error).toMatchObject({
      code: 'invalid_value',
      details: { field: 'order_no', value: 'abc' },
    });
    expect(wrongType.json().error.message).toContain('rows[1]');
    const duplicate = await h.admin({
      method: 'POST',
      url: rowsUrl('order_lines'),
      payload: [
        { order_no: 90, region: 'EU' },
        { order_no: 90, region: 'EU' },
      ],
    });
    expect(duplicate.statusCode).toBe(409);
    expect(
      (await h.admin({ method: 'GET', url: rowsUrl('order_lines'), query: { count: 'true' } })).json().total,
    ).toBe(before);

    const malformed = await h.admin({
      method: 'GET',
      url: rowsUrl('customers'),
      query: { filter: '{"field":' },
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('invalid_filter');
    const unknownField = await h.admin({
      method: 'GET',
      url: rowsUrl('customers'),
      query: { filter: '{"field":"nope","op":"eq","value":1}' },
    });
    expect(unknownField.statusCode).toBe(400);
    expect(unknownField.json().error).toMatchObject({ code: 'unknown_field', details: { field: 'nope' } });
    const unknownSort = await h.admin({ method: 'GET', url: rowsUrl('customers'), query: { sort: 'nope' } });
    expect(unknownSort.json().error.details.field).toBe('nope');
    const unknownColumn = await h.admin({
      method: 'POST',
      url: rowsUrl('customers'),
      payload: { email: 'z@x.test', nope: 1 },
    });
    expect(unknownColumn.json().error).toMatchObject({ code: 'unknown_field', details: { field: 'nope' } });
    const unknownTable = await h.admin({ method: 'GET', url: rowsUrl('no_such_table') });
    expect(unknownTable.statusCode).toBe(404);
    expect(unknownTable.json().error.code).toBe('unknown_table');
  });

  it('runs raw SQL with named bindings, never interpolated', async () => {
    const table = rawTable('customers');
    const res = await h.admin({
      method: 'POST',
      url: `/api/sources/${sourceId}/query`,
      payload: {
        sql: `select count(*) as n from ${table} where email = :email`,
        bindings: { email: "' or '1'='1" },
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(Number(res.json().rows[0].n)).toBe(0);
    const missing = await h.admin({
      method: 'POST',
      url: `/api/sources/${sourceId}/query`,
      payload: { sql: 'select :x as v', bindings: {} },
    });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.code).toBe('missing_binding');
  });

  it('refuses a body over the size limit with 413', async () => {
    const huge = 'x'.repeat(11 * 1024 * 1024);
    const res = await h.admin({
      method: 'POST',
      url: rowsUrl('customers'),
      payload: JSON.stringify({ email: huge }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('payload_too_large');
  });
});
