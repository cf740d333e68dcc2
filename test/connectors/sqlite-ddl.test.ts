import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/connector.js';
import { PORTABLE_TYPES, type TableDefinition } from '../../src/model/schema.js';
import { coerceRow } from '../../src/model/values.js';
import { createSandbox, tableOf, type SqliteSandbox } from './sqlite-fixtures.js';

/** One column of every portable type, the way built-in tables and consolidation targets declare them. */
const EVERY_TYPE: TableDefinition = {
  name: 'every type',
  columns: [
    { name: 'id', type: 'integer', autoIncrement: true },
    { name: 'code', type: 'string', maxLength: 12, nullable: false },
    { name: 'body', type: 'text' },
    { name: 'count', type: 'integer' },
    { name: 'big', type: 'bigint' },
    { name: 'price', type: 'decimal', precision: 38, scale: 9 },
    { name: 'ratio', type: 'float' },
    { name: 'active', type: 'boolean' },
    { name: 'day', type: 'date' },
    { name: 'at', type: 'time' },
    { name: 'local', type: 'datetime' },
    { name: 'instant', type: 'datetimetz' },
    { name: 'doc', type: 'json' },
    { name: 'ref', type: 'uuid' },
    { name: 'data', type: 'binary' },
    { name: 'state', type: 'enum', enumValues: ['new', "it's done", 'with "quotes"'] },
  ],
  primaryKey: ['id'],
  uniqueIndexes: [{ name: 'uq_every_code', columns: ['code'] }],
};

describe('SQLite DDL from portable definitions', () => {
  let sandbox: SqliteSandbox;
  let file: string;
  let connector: Connector;

  beforeAll(() => {
    sandbox = createSandbox();
    // Built-in tables live in a file Braid creates, in a folder that may not exist yet.
    file = sandbox.file('data/builtin.db');
    connector = sandbox.connect(file, { create: true });
  });
  afterAll(() => sandbox.cleanup());

  it('covers every portable type in the test definition', () => {
    expect(new Set(EVERY_TYPE.columns.map((c) => c.type))).toEqual(new Set(PORTABLE_TYPES));
  });

  it('creates a table that introspects back to the same portable definition', async () => {
    await connector.createTable(EVERY_TYPE);
    const table = await tableOf(connector, 'every type');
    expect(table.columns.map((c) => [c.name, c.type])).toEqual(
      EVERY_TYPE.columns.map((c) => [c.name, c.type]),
    );
    expect(table.primaryKey).toEqual(['id']);
    expect(table.uniqueIndexes).toEqual([{ name: 'uq_every_code', columns: ['code'] }]);
    const col = (name: string) => table.columns.find((c) => c.name === name)!;
    expect(col('id')).toMatchObject({ autoIncrement: true, nullable: false });
    expect(col('code')).toMatchObject({ maxLength: 12, nullable: false });
    expect(col('price')).toMatchObject({ precision: 38, scale: 9 });
    expect(col('state').enumValues).toEqual(['new', "it's done", 'with "quotes"']);
    expect(col('body').nullable).toBe(true);
  });

  it('round-trips every portable type through the created table', async () => {
    const table = await tableOf(connector, 'every type');
    const input = {
      code: 'A-1',
      body: 'línea 1\nline 2',
      count: -2147483648,
      big: '9223372036854775807',
      price: '12345678901234567890.123456789',
      ratio: 1.5e-300,
      active: false,
      day: '1999-12-31',
      at: '00:00:01.000001',
      local: '2024-02-29T23:59:59.999999',
      instant: '2024-03-01T01:00:00-05:00',
      doc: [{ a: 1 }, 'two', 3.25, false, null],
      ref: '00000000-0000-4000-8000-000000000001',
      data: Buffer.from('\u0000binary\u00ff', 'latin1').toString('base64'),
      state: "it's done",
    };
    const [row] = await connector.insert(table, [coerceRow(table, input, { partial: false })]);
    expect(row).toEqual({ id: 1, ...input, instant: '2024-03-01T06:00:00Z' });
    const again = await connector.select(table, {
      filter: {
        and: [
          { field: 'instant', op: 'eq', value: '2024-03-01T06:00:00Z' },
          { field: 'price', op: 'gt', value: '12345678901234567890.123456788' },
          { field: 'state', op: 'eq', value: "it's done" },
        ],
      },
    });
    expect(again.rows).toEqual([row]);
  });

  it('writes defaults in the stored form, so they read and compare like inserted values', async () => {
    await connector.createTable({
      name: 'defaults',
      columns: [
        { name: 'id', type: 'integer', autoIncrement: true },
        { name: 'flag', type: 'boolean', defaultValue: true },
        { name: 'amount', type: 'decimal', precision: 10, scale: 2, defaultValue: '1.5' },
        { name: 'since', type: 'datetime', defaultValue: '2024-01-01T08:30:00' },
        { name: 'blob', type: 'binary', defaultValue: 'AP8=' },
        { name: 'big', type: 'bigint', defaultValue: '9007199254740993' },
        { name: 'label', type: 'string', defaultValue: "O'Brien" },
        { name: 'kind', type: 'enum', enumValues: ['a', 'b'], defaultValue: 'b', nullable: false },
        { name: 'doc', type: 'json', defaultValue: 'text' },
      ],
    });
    const table = await tableOf(connector, 'defaults');
    const [row] = await connector.insert(table, [{}]);
    expect(row).toEqual({
      id: 1,
      flag: true,
      amount: '1.50',
      since: '2024-01-01T08:30:00',
      blob: 'AP8=',
      big: '9007199254740993',
      label: "O'Brien",
      kind: 'b',
      doc: 'text',
    });
    const found = await connector.select(table, {
      filter: { field: 'since', op: 'eq', value: '2024-01-01T08:30:00' },
    });
    expect(found.rows).toHaveLength(1);
  });

  it('adds, renames and drops columns', async () => {
    let table = await tableOf(connector, 'defaults');
    await connector.alterTable(table, [
      { op: 'addColumn', column: { name: 'note', type: 'text' } },
      {
        op: 'addColumn',
        column: {
          name: 'level',
          type: 'enum',
          enumValues: ['low', 'high'],
          defaultValue: 'low',
          nullable: false,
        },
      },
      { op: 'renameColumn', from: 'label', to: 'title' },
      { op: 'dropColumn', name: 'blob' },
    ]);
    table = await tableOf(connector, 'defaults');
    expect(table.columns.map((c) => c.name)).toEqual([
      'id',
      'flag',
      'amount',
      'since',
      'big',
      'title',
      'kind',
      'doc',
      'note',
      'level',
    ]);
    expect(table.columns.find((c) => c.name === 'level')).toMatchObject({
      type: 'enum',
      enumValues: ['low', 'high'],
    });
    expect(await connector.getByKey(table, { id: 1 })).toMatchObject({
      title: "O'Brien",
      note: null,
      level: 'low',
    });
    await expect(connector.insert(table, [{ level: 'medium' }])).rejects.toMatchObject({
      status: 400,
      code: 'invalid_value',
    });
    // The renamed enum column keeps its check (SQLite rewrites the constraint text).
    await connector.alterTable(table, [{ op: 'renameColumn', from: 'kind', to: 'category' }]);
    const renamed = await tableOf(connector, 'defaults');
    expect(renamed.columns.find((c) => c.name === 'category')).toMatchObject({
      type: 'enum',
      enumValues: ['a', 'b'],
    });
  });

  it('refuses alterations SQLite cannot make, with a 400 that says why', async () => {
    const table = await tableOf(connector, 'every type');
    await expect(
      connector.alterTable(table, [
        { op: 'addColumn', column: { name: 'req', type: 'text', nullable: false } },
      ]),
    ).rejects.toMatchObject({ status: 400, code: 'unsupported_change' });
    await expect(
      connector.alterTable(table, [
        { op: 'addColumn', column: { name: 'id2', type: 'integer', autoIncrement: true } },
      ]),
    ).rejects.toMatchObject({ status: 400, code: 'unsupported_change' });
    await expect(connector.alterTable(table, [{ op: 'dropColumn', name: 'code' }])).rejects.toMatchObject({
      status: 400,
      code: 'unsupported_change',
    });
    // A failed change list changes nothing: it runs in one transaction.
    await expect(
      connector.alterTable(table, [
        { op: 'addColumn', column: { name: 'extra', type: 'text' } },
        { op: 'dropColumn', name: 'id' },
      ]),
    ).rejects.toMatchObject({ status: 400 });
    expect((await tableOf(connector, 'every type')).columns.some((c) => c.name === 'extra')).toBe(false);
  });

  it('refuses sizes that are not integers before they reach the DDL text', async () => {
    await expect(
      connector.createTable({
        name: 'bad',
        columns: [{ name: 'x', type: 'string', maxLength: '1); drop table x; --' as never }],
      }),
    ).rejects.toMatchObject({ status: 400, code: 'invalid_type' });
  });

  it('drops tables and views, and the file is an ordinary SQLite database in WAL mode', async () => {
    await connector.rawQuery('create view v_defaults as select id from defaults');
    const schema = await connector.introspect();
    await connector.dropTable(schema.tables.find((t) => t.name === 'v_defaults')!);
    await connector.dropTable(schema.tables.find((t) => t.name === 'defaults')!);
    const names = (await connector.introspect()).tables.map((t) => t.name);
    expect(names).toEqual(['every type']);
    const db = new Database(file, { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.prepare('select code, price from "every type"').get()).toEqual({
        code: 'A-1',
        price: '12345678901234567890.123456789',
      });
    } finally {
      db.close();
    }
  });
});
