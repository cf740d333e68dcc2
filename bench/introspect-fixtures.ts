/**
 * The 2,000-table database of the introspection benchmark, written once per engine so all three
 * hold the same tables: mixed column types, a primary key each, a foreign key on every odd table
 * (to the table before it), a unique index on every even table, and a few views.
 */

export const TABLES = 2_000;
export const VIEWS = 20;

export type Engine = 'postgres' | 'mysql' | 'sqlite';

export const tableName = (i: number): string => `t_${String(i).padStart(4, '0')}`;
export const viewName = (i: number): string => `v_${String(i).padStart(2, '0')}`;

/** Column types per engine; the names and the order are the same everywhere. */
const COLUMNS: Record<Engine, string[]> = {
  postgres: [
    'id integer not null primary key',
    'code varchar(40) not null',
    'name text',
    'amount numeric(12,2)',
    'active boolean not null default true',
    'created_at timestamptz default now()',
    'payload jsonb',
    'parent_id integer',
  ],
  mysql: [
    'id int not null primary key',
    'code varchar(40) not null',
    'name varchar(200)',
    'amount decimal(12,2)',
    'active tinyint(1) not null default 1',
    'created_at datetime(6) default current_timestamp(6)',
    'payload json',
    'parent_id int',
  ],
  sqlite: [
    'id integer not null primary key',
    'code varchar(40) not null',
    'name text',
    'amount numeric(12,2)',
    'active boolean not null default 1',
    'created_at datetime default current_timestamp',
    'payload json',
    'parent_id integer',
  ],
};

/** `qualify` names a table (PostgreSQL puts everything in the benchmark's schema). */
function createTable(engine: Engine, i: number, qualify: (name: string) => string): string[] {
  const parts = [...COLUMNS[engine]];
  // SQLite only declares foreign keys inside CREATE TABLE; the others do too, which keeps one shape.
  if (i % 2 === 1) {
    parts.push(
      `constraint ${tableName(i)}_parent_fk foreign key (parent_id) references ${qualify(tableName(i - 1))} (id)`,
    );
  }
  const statements = [`create table ${qualify(tableName(i))} (${parts.join(', ')})`];
  if (i % 2 === 0) {
    // The index name is schema-local in PostgreSQL (no qualification), database-wide in SQLite.
    statements.push(`create unique index ${tableName(i)}_code_uq on ${qualify(tableName(i))} (code)`);
  }
  return statements;
}

/** Statements in creation order, in batches that each fit comfortably in one transaction. */
export function fixtureBatches(
  engine: Engine,
  qualify: (name: string) => string,
  batchTables = 100,
): string[][] {
  const batches: string[][] = [];
  for (let start = 0; start < TABLES; start += batchTables) {
    const batch: string[] = [];
    for (let i = start; i < Math.min(TABLES, start + batchTables); i++)
      batch.push(...createTable(engine, i, qualify));
    batches.push(batch);
  }
  const views: string[] = [];
  for (let v = 0; v < VIEWS; v++) {
    const source = qualify(tableName(v * (TABLES / VIEWS)));
    views.push(
      `create view ${qualify(viewName(v))} as select id, code, amount from ${source} where active = ${engine === 'postgres' ? 'true' : '1'}`,
    );
  }
  batches.push(views);
  return batches;
}

/** Drop statements in batches, children before parents, so no batch needs CASCADE over thousands of objects. */
export function dropBatches(qualify: (name: string) => string, batchTables = 100): string[][] {
  const batches: string[][] = [
    [...Array.from({ length: VIEWS }, (_, v) => `drop view if exists ${qualify(viewName(v))}`)],
  ];
  for (let end = TABLES; end > 0; end -= batchTables) {
    const batch: string[] = [];
    for (let i = end - 1; i >= Math.max(0, end - batchTables); i--)
      batch.push(`drop table if exists ${qualify(tableName(i))}`);
    batches.push(batch);
  }
  return batches;
}
