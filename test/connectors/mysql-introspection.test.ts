import { describe, expect, it } from 'vitest';
import type { ColumnSchema, TableSchema } from '../../src/model/schema.js';
import { IS_MARIADB, MYSQL_AVAILABLE, useMysqlDatabase, withoutDisplayWidth } from './mysql-fixture.js';

const DDL = `
create table regions (
  code char(2) not null,
  country varchar(40) not null,
  name varchar(80) not null,
  primary key (country, code)
);
create table every_type (
  id bigint not null auto_increment primary key,
  tiny tinyint, small smallint, medium mediumint, regular int not null default 7,
  unsigned_int int unsigned, big bigint, big_unsigned bigint unsigned, yr year,
  amount decimal(38,9), ratio double, approx float,
  flag tinyint(1) not null default 0, bool_col boolean, bit1 bit(1), bits bit(8),
  label varchar(80) not null default 'it''s', code char(3), body text, tiny_body tinytext, long_body longtext,
  size enum('small','medium','it''s big','back\\\\slash') default 'small', tags set('a','b'),
  day date, clock time(3), at datetime(6), stamp timestamp(6) null,
  doc json, ref ${IS_MARIADB ? 'uuid' : 'char(36)'}, bin binary(4), varbin varbinary(16), blob_col blob,
  region_country varchar(40), region_code char(2),
  doubled int as (regular * 2) virtual,
  shout varchar(90) as (concat(label, '!')) stored,
  created datetime default current_timestamp,
  unique key uq_label_code (label, code),
  constraint fk_region foreign key (region_country, region_code) references regions (country, code)
    on delete set null on update cascade
);
create table prefixed (id int primary key, name varchar(200), unique key uq_prefix (name(10)));
create table no_key (a int, b text);
create view big_amounts as select id, amount, label from every_type where amount > 100;
`;

describe.skipIf(!MYSQL_AVAILABLE)('MySQL introspection', () => {
  const db = useMysqlDatabase('intro', DDL);
  let tables: TableSchema[] = [];
  const table = (name: string): TableSchema => {
    const found = tables.find((t) => t.name === name);
    if (!found) throw new Error(`no table ${name}`);
    return found;
  };
  const column = (tableName: string, name: string): ColumnSchema => {
    const found = table(tableName).columns.find((c) => c.name === name);
    if (!found) throw new Error(`no column ${tableName}.${name}`);
    return found;
  };

  it('lists the tables and views of the database, schema null, defaultSchema the database', async () => {
    const schema = await db.connector.introspect();
    tables = schema.tables;
    expect(tables.map((t) => [t.name, t.kind, t.schema])).toEqual([
      ['big_amounts', 'view', null],
      ['every_type', 'table', null],
      ['no_key', 'table', null],
      ['prefixed', 'table', null],
      ['regions', 'table', null],
    ]);
    expect(db.connector.defaultSchema).toBe(db.database);
    expect(Number.isNaN(Date.parse(schema.introspectedAt))).toBe(false);
  });

  it('maps every native type to its portable type and keeps the native COLUMN_TYPE', () => {
    const types = Object.fromEntries(
      table('every_type').columns.map((c) => [c.name, [c.type, withoutDisplayWidth(c.nativeType)]]),
    );
    expect(types).toMatchObject({
      id: ['bigint', 'bigint'],
      tiny: ['integer', 'tinyint'],
      small: ['integer', 'smallint'],
      medium: ['integer', 'mediumint'],
      regular: ['integer', 'int'],
      unsigned_int: ['bigint', 'int unsigned'],
      big: ['bigint', 'bigint'],
      big_unsigned: ['bigint', 'bigint unsigned'],
      yr: ['integer', 'year'],
      amount: ['decimal', 'decimal(38,9)'],
      ratio: ['float', 'double'],
      approx: ['float', 'float'],
      flag: ['boolean', 'tinyint(1)'],
      bool_col: ['boolean', 'tinyint(1)'],
      bit1: ['boolean', 'bit(1)'],
      bits: ['binary', 'bit(8)'],
      label: ['string', 'varchar(80)'],
      code: ['string', 'char(3)'],
      body: ['text', 'text'],
      tiny_body: ['text', 'tinytext'],
      long_body: ['text', 'longtext'],
      size: ['enum', "enum('small','medium','it''s big','back\\\\slash')"],
      tags: ['string', "set('a','b')"],
      day: ['date', 'date'],
      clock: ['time', 'time(3)'],
      at: ['datetime', 'datetime(6)'],
      stamp: ['datetimetz', 'timestamp(6)'],
      // MariaDB's JSON is LONGTEXT with a json_valid() check, found in CHECK_CONSTRAINTS.
      doc: ['json', IS_MARIADB ? 'longtext' : 'json'],
      ref: IS_MARIADB ? ['uuid', 'uuid'] : ['string', 'char(36)'],
      bin: ['binary', 'binary(4)'],
      varbin: ['binary', 'varbinary(16)'],
      blob_col: ['binary', 'blob'],
      doubled: ['integer', 'int'],
      shout: ['string', 'varchar(90)'],
      created: ['datetime', 'datetime'],
    });
  });

  it('reports nullability, defaults, lengths, precision, scale and enum values', () => {
    expect(column('every_type', 'regular')).toMatchObject({ nullable: false, defaultValue: '7' });
    expect(column('every_type', 'label')).toMatchObject({
      nullable: false,
      defaultValue: "'it''s'",
      maxLength: 80,
    });
    expect(column('every_type', 'flag')).toMatchObject({ nullable: false, defaultValue: '0' });
    expect(column('every_type', 'tiny')).toMatchObject({ nullable: true, defaultValue: null });
    expect(column('every_type', 'created').defaultValue).toMatch(/current_timestamp/i);
    expect(column('every_type', 'code').maxLength).toBe(3);
    expect(column('every_type', 'varbin').maxLength).toBe(16);
    expect([column('every_type', 'amount').precision, column('every_type', 'amount').scale]).toEqual([38, 9]);
    expect(column('every_type', 'clock').precision).toBe(3);
    expect(column('every_type', 'at').precision).toBe(6);
    expect(column('every_type', 'size').enumValues).toEqual(['small', 'medium', "it's big", 'back\\slash']);
    expect(column('every_type', 'size').defaultValue).toBe("'small'");
  });

  it('marks auto_increment and generated (virtual and stored) columns', () => {
    const flags = table('every_type')
      .columns.filter((c) => c.autoIncrement || c.generated)
      .map((c) => [c.name, c.autoIncrement, c.generated]);
    expect(flags).toEqual([
      ['id', true, false],
      ['doubled', false, true],
      ['shout', false, true],
    ]);
  });

  it('answers primary keys in key order, composite included, and empty without one', () => {
    expect(table('every_type').primaryKey).toEqual(['id']);
    expect(table('regions').primaryKey).toEqual(['country', 'code']);
    expect(table('no_key').primaryKey).toEqual([]);
    expect(table('big_amounts').primaryKey).toEqual([]);
  });

  it('answers composite foreign keys with their rules', () => {
    expect(table('every_type').foreignKeys).toEqual([
      {
        name: 'fk_region',
        columns: ['region_country', 'region_code'],
        referencedSchema: null,
        referencedTable: 'regions',
        referencedColumns: ['country', 'code'],
        onUpdate: 'CASCADE',
        onDelete: 'SET NULL',
      },
    ]);
    expect(table('regions').foreignKeys).toEqual([]);
  });

  it('answers unique indexes in column order, without the primary key or prefix indexes', () => {
    expect(table('every_type').uniqueIndexes).toEqual([
      { name: 'uq_label_code', columns: ['label', 'code'] },
    ]);
    expect(table('prefixed').uniqueIndexes).toEqual([]);
  });

  it('describes the columns of views', () => {
    expect(table('big_amounts').columns.map((c) => [c.name, c.type])).toEqual([
      ['id', 'bigint'],
      ['amount', 'decimal'],
      ['label', 'string'],
    ]);
  });

  it('maps tables Braid creates back to the portable types they were created with', async () => {
    await db.connector.createTable({
      name: 'created_by_braid',
      columns: [
        { name: 'id', type: 'bigint', autoIncrement: true },
        { name: 'name', type: 'string', maxLength: 120 },
        { name: 'notes', type: 'text' },
        { name: 'n', type: 'integer', defaultValue: 3 },
        { name: 'price', type: 'decimal', precision: 12, scale: 2 },
        { name: 'ok', type: 'boolean', defaultValue: true },
        { name: 'day', type: 'date' },
        { name: 'clock', type: 'time' },
        { name: 'at', type: 'datetime' },
        { name: 'atz', type: 'datetimetz' },
        { name: 'doc', type: 'json' },
        { name: 'ref', type: 'uuid' },
        { name: 'bin', type: 'binary' },
        { name: 'size', type: 'enum', enumValues: ['s', "it's", 'back\\slash'] },
        { name: 'ratio', type: 'float' },
      ],
      uniqueIndexes: [{ name: 'uq_name', columns: ['name'] }],
    });
    const created = await db.table('created_by_braid');
    expect(created.columns.map((c) => [c.name, c.type])).toEqual([
      ['id', 'bigint'],
      ['name', 'string'],
      ['notes', 'text'],
      ['n', 'integer'],
      ['price', 'decimal'],
      ['ok', 'boolean'],
      ['day', 'date'],
      ['clock', 'time'],
      ['at', 'datetime'],
      ['atz', 'datetimetz'],
      ['doc', 'json'],
      ['ref', 'uuid'],
      ['bin', 'binary'],
      ['size', 'enum'],
      ['ratio', 'float'],
    ]);
    expect(created.primaryKey).toEqual(['id']);
    expect(created.columns[0]!.autoIncrement).toBe(true);
    expect(created.uniqueIndexes).toEqual([{ name: 'uq_name', columns: ['name'] }]);
    expect(created.columns.find((c) => c.name === 'size')!.enumValues).toEqual(['s', "it's", 'back\\slash']);
    expect(created.columns.find((c) => c.name === 'n')!.defaultValue).toBe('3');
  });

  it('alters tables: add, rename and drop columns', async () => {
    const before = await db.table('no_key');
    await db.connector.alterTable(before, [
      { op: 'addColumn', column: { name: 'added', type: 'datetimetz' } },
      { op: 'renameColumn', from: 'a', to: 'renamed' },
      { op: 'dropColumn', name: 'b' },
    ]);
    const after = await db.table('no_key');
    expect(after.columns.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['renamed', 'integer', true],
      ['added', 'datetimetz', true],
    ]);
  });
});
