import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/connector.js';
import type { DatabaseSchema, TableSchema } from '../../src/model/schema.js';
import { createSandbox, type SqliteSandbox } from './sqlite-fixtures.js';

const RICH_SCHEMA = `
create table customers (
  id integer primary key autoincrement,
  email varchar(120) not null unique,
  name text,
  tier text not null default 'basic' check (tier in ('basic', 'pro', 'it''s complicated')),
  created_at datetime default current_timestamp
);
create table everything (
  id integer primary key,
  i int, big bigint, dec numeric(20, 4), dtext decimal_text(38, 9), f real, d double, fl float,
  b boolean, day date, t time, ts timestamp, dt datetime, tz timestamptz,
  j json, u uuid, bin blob, s varchar(80), c char(3), tx text, cl clob, untyped,
  odd geometry, myint myint,
  doubled integer generated always as (i * 2) stored,
  tripled integer as (i * 3) virtual
);
create table order_lines (
  order_id integer not null,
  line_no integer not null,
  customer_id integer references customers(id) on delete cascade,
  sku text not null,
  qty int not null default 1,
  primary key (order_id, line_no),
  constraint uq_order_sku unique (order_id, sku)
);
create table tags (name text primary key, parent text references tags) without rowid;
create table notes (body text, author text);
create unique index notes_body_author on notes(author, body);
create unique index notes_partial on notes(body) where author is not null;
create unique index notes_expr on notes(lower(body));
create index notes_plain on notes(author);
create view active_customers as select id, email, tier from customers where tier <> 'basic';
create view broken as select * from customers;
`;

describe('SQLite introspection', () => {
  let sandbox: SqliteSandbox;
  let connector: Connector;
  let schema: DatabaseSchema;
  const table = (name: string): TableSchema => {
    const found = schema.tables.find((t) => t.name === name);
    if (!found) throw new Error(`no table ${name}`);
    return found;
  };
  const column = (tableName: string, name: string) => table(tableName).columns.find((c) => c.name === name)!;

  beforeAll(async () => {
    sandbox = createSandbox();
    const file = sandbox.file();
    sandbox.exec(file, RICH_SCHEMA);
    // A view whose table is gone: it must be left out, not break the introspection.
    sandbox.exec(
      file,
      'create table doomed (x int); create view orphan as select x from doomed; drop table doomed;',
    );
    connector = sandbox.connect(file);
    schema = await connector.introspect();
  });
  afterAll(() => sandbox.cleanup());

  it('lists tables and views but not SQLite internals or broken views', () => {
    const names = schema.tables.map((t) => t.name).sort();
    expect(names).toEqual([
      'active_customers',
      'broken',
      'customers',
      'everything',
      'notes',
      'order_lines',
      'tags',
    ]);
    expect(table('active_customers').kind).toBe('view');
    expect(table('customers').kind).toBe('table');
    expect(table('customers').schema).toBeNull();
    expect(connector.defaultSchema).toBe('main');
    expect(Date.parse(schema.introspectedAt)).not.toBeNaN();
  });

  it('maps declared types to portable types with sizes', () => {
    const types = Object.fromEntries(table('everything').columns.map((c) => [c.name, c.type]));
    expect(types).toEqual({
      id: 'integer',
      i: 'integer',
      big: 'bigint',
      dec: 'decimal',
      dtext: 'decimal',
      f: 'float',
      d: 'float',
      fl: 'float',
      b: 'boolean',
      day: 'date',
      t: 'time',
      ts: 'datetime',
      dt: 'datetime',
      tz: 'datetimetz',
      j: 'json',
      u: 'uuid',
      bin: 'binary',
      s: 'string',
      c: 'string',
      tx: 'text',
      cl: 'text',
      untyped: 'text',
      odd: 'decimal',
      myint: 'integer',
      doubled: 'integer',
      tripled: 'integer',
    });
    expect(column('everything', 's').maxLength).toBe(80);
    expect(column('everything', 'dec')).toMatchObject({
      precision: 20,
      scale: 4,
      nativeType: 'numeric(20, 4)',
    });
    expect(column('everything', 'dtext')).toMatchObject({ precision: 38, scale: 9 });
  });

  it('reads nullability, defaults, auto-increment and generated columns', () => {
    expect(column('customers', 'id')).toMatchObject({
      autoIncrement: true,
      nullable: false,
      generated: false,
    });
    expect(column('everything', 'id')).toMatchObject({ autoIncrement: true, nullable: false });
    expect(column('customers', 'email')).toMatchObject({
      nullable: false,
      defaultValue: null,
      autoIncrement: false,
    });
    expect(column('customers', 'name').nullable).toBe(true);
    expect(column('customers', 'tier').defaultValue).toBe("'basic'");
    expect(column('customers', 'created_at').defaultValue?.toLowerCase()).toBe('current_timestamp');
    expect(column('everything', 'doubled').generated).toBe(true);
    expect(column('everything', 'tripled').generated).toBe(true);
    expect(column('everything', 'i').generated).toBe(false);
    // A composite key and a WITHOUT ROWID text key are no rowid aliases.
    expect(column('order_lines', 'order_id').autoIncrement).toBe(false);
    expect(column('tags', 'name').autoIncrement).toBe(false);
  });

  it('reads CHECK (col IN (...)) back as an enum with its values in order', () => {
    expect(column('customers', 'tier')).toMatchObject({
      type: 'enum',
      nativeType: 'TEXT',
      enumValues: ['basic', 'pro', "it's complicated"],
    });
  });

  it('reads composite primary keys in key order', () => {
    expect(table('order_lines').primaryKey).toEqual(['order_id', 'line_no']);
    expect(table('customers').primaryKey).toEqual(['id']);
    expect(table('tags').primaryKey).toEqual(['name']);
    expect(table('notes').primaryKey).toEqual([]);
    expect(table('active_customers').primaryKey).toEqual([]);
  });

  it('reads foreign keys, including an implicit reference to the parent key', () => {
    expect(table('order_lines').foreignKeys).toEqual([
      expect.objectContaining({
        columns: ['customer_id'],
        referencedSchema: null,
        referencedTable: 'customers',
        referencedColumns: ['id'],
        onDelete: 'CASCADE',
      }),
    ]);
    expect(table('tags').foreignKeys).toEqual([
      expect.objectContaining({ columns: ['parent'], referencedTable: 'tags', referencedColumns: ['name'] }),
    ]);
    expect(table('customers').foreignKeys).toEqual([]);
  });

  it('reads unique indexes and constraints, leaving out partial and expression indexes', () => {
    expect(table('customers').uniqueIndexes).toEqual([
      { name: 'sqlite_autoindex_customers_1', columns: ['email'] },
    ]);
    expect(table('order_lines').uniqueIndexes).toEqual([
      { name: 'uq_order_sku', columns: ['order_id', 'sku'] },
    ]);
    expect(table('notes').uniqueIndexes).toEqual([
      { name: 'notes_body_author', columns: ['author', 'body'] },
    ]);
  });

  it('describes view columns', () => {
    expect(table('active_customers').columns.map((c) => [c.name, c.type])).toEqual([
      ['id', 'integer'],
      ['email', 'string'],
      ['tier', 'text'],
    ]);
  });

  it('introspects 2,000 tables completely (speed: bench/introspect.ts)', async () => {
    const file = sandbox.file('many.db');
    const ddl: string[] = ['begin;'];
    for (let i = 0; i < 2000; i++) {
      ddl.push(
        `create table t${i} (id integer primary key, name text not null unique, ref integer references t${Math.max(0, i - 1)}(id), amount decimal(10,2), state text check (state in ('a','b')));`,
      );
    }
    ddl.push('commit;');
    sandbox.exec(file, ddl.join('\n'));
    const many = sandbox.connect(file);
    const result = await many.introspect();
    expect(result.tables).toHaveLength(2000);
    const t1999 = result.tables.find((t) => t.name === 't1999')!;
    expect(t1999.foreignKeys[0]?.referencedTable).toBe('t1998');
    expect(t1999.uniqueIndexes[0]?.columns).toEqual(['name']);
    expect(t1999.columns.find((c) => c.name === 'state')?.enumValues).toEqual(['a', 'b']);
  });
});
