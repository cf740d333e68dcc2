import { describe, expect, it } from 'vitest';
import { createPostgresConnector } from '../../src/connectors/postgres/index.js';
import type { ColumnSchema, TableSchema } from '../../src/model/schema.js';
import { postgresAvailable, POSTGRES_URL } from '../support/servers.js';
import { usePostgresSchema } from './postgres-fixture.js';

const available = await postgresAvailable();

const RICH_SCHEMA = `
  create type mood as enum ('sad', 'ok', 'happy');
  create domain positive_int as integer check (value > 0);
  create table customers (
    id bigint generated always as identity primary key,
    email varchar(120) not null unique,
    name text,
    code char(3),
    region text not null default 'EU',
    mood mood,
    status text check (status in ('new', 'active', 'it''s closed')),
    score numeric(12, 3),
    ratio real,
    weight double precision,
    active boolean default true,
    born date,
    wakes time(3),
    wakes_tz timetz,
    created timestamp(6) default now(),
    seen timestamptz,
    data jsonb,
    meta json,
    ext uuid,
    photo bytea,
    tags text[],
    counts int8[],
    moods mood[],
    small smallint,
    big bigint,
    legacy serial,
    pos positive_int not null default 1,
    span interval,
    ip inet,
    full_name text generated always as (coalesce(name, '') || ' <' || email || '>') stored,
    nick text collate "C"
  );
  create unique index customers_name_region on customers (name, region);
  create unique index customers_partial on customers (code) where active;
  create unique index customers_lower_email on customers (lower(email));
  create table orders (
    id serial primary key,
    customer_id bigint not null references customers (id) on delete cascade,
    number text not null,
    constraint orders_number_customer unique (customer_id, number)
  );
  create table order_lines (
    line int not null,
    order_id int not null references orders (id),
    product text,
    primary key (order_id, line)
  );
  create table shipments (
    id int primary key,
    order_id int,
    line int,
    foreign key (order_id, line) references order_lines (order_id, line) on update cascade on delete set null
  );
  create table no_key (a int, b text);
  create view active_customers as select id, email from customers where active;
  create materialized view customer_count as select count(*) as n from customers;
`;

describe.skipIf(!available)('PostgreSQL introspection', () => {
  const pg = usePostgresSchema('bpg_intro', RICH_SCHEMA);
  let tables: TableSchema[] = [];
  const table = (name: string): TableSchema => {
    const found = tables.find((t) => t.name === name);
    if (!found) throw new Error(`no table ${name}`);
    return found;
  };
  const column = (t: string, c: string): ColumnSchema => {
    const found = table(t).columns.find((col) => col.name === c);
    if (!found) throw new Error(`no column ${t}.${c}`);
    return found;
  };

  it('lists the tables and views of the configured schema only, with kinds', async () => {
    ({ tables } = await pg.connector.introspect());
    expect(tables.map((t) => `${t.name}:${t.kind}`).sort()).toEqual([
      'active_customers:view',
      'customer_count:view',
      'customers:table',
      'no_key:table',
      'order_lines:table',
      'orders:table',
      'shipments:table',
    ]);
    expect(new Set(tables.map((t) => t.schema))).toEqual(new Set([pg.schema]));
    expect(pg.connector.defaultSchema).toBe('public');
  });

  it('maps every native type to a portable type and keeps the native one', () => {
    // format_type qualifies types outside the search_path, as DDL elsewhere would need them.
    const own = (name: string): string => `${pg.schema}.${name}`;
    const expected: Record<string, [string, string]> = {
      id: ['bigint', 'bigint'],
      email: ['string', 'character varying(120)'],
      name: ['text', 'text'],
      code: ['string', 'character(3)'],
      mood: ['enum', own('mood')],
      status: ['enum', 'text'],
      score: ['decimal', 'numeric(12,3)'],
      ratio: ['float', 'real'],
      weight: ['float', 'double precision'],
      active: ['boolean', 'boolean'],
      born: ['date', 'date'],
      wakes: ['time', 'time(3) without time zone'],
      wakes_tz: ['time', 'time with time zone'],
      created: ['datetime', 'timestamp(6) without time zone'],
      seen: ['datetimetz', 'timestamp with time zone'],
      data: ['json', 'jsonb'],
      meta: ['json', 'json'],
      ext: ['uuid', 'uuid'],
      photo: ['binary', 'bytea'],
      tags: ['json', 'text[]'],
      counts: ['json', 'bigint[]'],
      moods: ['json', `${own('mood')}[]`],
      small: ['integer', 'smallint'],
      legacy: ['integer', 'integer'],
      pos: ['integer', own('positive_int')],
      span: ['text', 'interval'],
      ip: ['text', 'inet'],
      nick: ['text', 'text collate "C"'],
    };
    for (const [name, [type, nativeType]] of Object.entries(expected)) {
      expect({
        name,
        type: column('customers', name).type,
        nativeType: column('customers', name).nativeType,
      }).toEqual({
        name,
        type,
        nativeType,
      });
    }
  });

  it('reads lengths, precision, enum values, defaults, nullability, identity and generated columns', () => {
    expect(column('customers', 'email')).toMatchObject({ maxLength: 120, nullable: false });
    expect(column('customers', 'code').maxLength).toBe(3);
    expect(column('customers', 'score')).toMatchObject({ precision: 12, scale: 3 });
    expect(column('customers', 'wakes').precision).toBe(3);
    expect(column('customers', 'mood').enumValues).toEqual(['sad', 'ok', 'happy']);
    expect(column('customers', 'status').enumValues).toEqual(['new', 'active', "it's closed"]);
    expect(column('customers', 'region')).toMatchObject({ nullable: false, defaultValue: "'EU'::text" });
    expect(column('customers', 'active').defaultValue).toBe('true');
    expect(column('customers', 'pos')).toMatchObject({ nullable: false, defaultValue: '1' });
    expect(column('customers', 'id')).toMatchObject({
      autoIncrement: true,
      generated: false,
      nullable: false,
    });
    expect(column('customers', 'legacy').autoIncrement).toBe(true);
    expect(column('customers', 'legacy').defaultValue).toMatch(/^nextval\(/);
    expect(column('customers', 'full_name')).toMatchObject({
      generated: true,
      autoIncrement: false,
      defaultValue: null,
    });
    expect(column('customers', 'name')).toMatchObject({
      nullable: true,
      autoIncrement: false,
      generated: false,
    });
    expect(column('orders', 'id').autoIncrement).toBe(true);
  });

  it('reads primary keys in key order, including composite ones', () => {
    expect(table('customers').primaryKey).toEqual(['id']);
    expect(table('order_lines').columns.map((c) => c.name)).toEqual(['line', 'order_id', 'product']);
    expect(table('order_lines').primaryKey).toEqual(['order_id', 'line']);
    expect(table('no_key').primaryKey).toEqual([]);
    expect(table('active_customers').primaryKey).toEqual([]);
  });

  it('reads foreign keys, composite ones and their actions', () => {
    expect(table('orders').foreignKeys).toEqual([
      {
        name: 'orders_customer_id_fkey',
        columns: ['customer_id'],
        referencedSchema: pg.schema,
        referencedTable: 'customers',
        referencedColumns: ['id'],
        onUpdate: 'NO ACTION',
        onDelete: 'CASCADE',
      },
    ]);
    expect(table('shipments').foreignKeys).toEqual([
      expect.objectContaining({
        columns: ['order_id', 'line'],
        referencedTable: 'order_lines',
        referencedColumns: ['order_id', 'line'],
        onUpdate: 'CASCADE',
        onDelete: 'SET NULL',
      }),
    ]);
  });

  it('reads unique constraints and unique indexes, but not the key, partial or expression indexes', () => {
    expect(table('customers').uniqueIndexes).toEqual([
      { name: 'customers_email_key', columns: ['email'] },
      { name: 'customers_name_region', columns: ['name', 'region'] },
    ]);
    expect(table('orders').uniqueIndexes).toEqual([
      { name: 'orders_number_customer', columns: ['customer_id', 'number'] },
    ]);
  });

  it('reads view columns as nullable and not generated', () => {
    expect(table('active_customers').columns.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['id', 'bigint', true],
      ['email', 'string', true],
    ]);
  });

  it('without schemas, reads every non-system schema', async () => {
    const all = createPostgresConnector({ url: POSTGRES_URL });
    try {
      const { tables: everything } = await all.introspect();
      expect(everything.some((t) => t.schema === pg.schema && t.name === 'customers')).toBe(true);
      expect(everything.some((t) => t.schema === 'pg_catalog' || t.schema === 'information_schema')).toBe(
        false,
      );
    } finally {
      await all.close();
    }
  });
});
