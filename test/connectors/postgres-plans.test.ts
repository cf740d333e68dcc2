import {
  DummyDriver,
  Kysely,
  PostgresAdapter as KyselyPostgresAdapter,
  PostgresIntrospector as KyselyPostgresIntrospector,
  PostgresQueryCompiler,
  sql,
} from 'kysely';
import { describe, expect, it } from 'vitest';
import { PostgresAdapter } from '../../src/connectors/postgres/postgres-adapter.js';
import { compileFilter } from '../../src/connectors/shared/filter-compiler.js';
import { keysetPredicate, orderByClause } from '../../src/connectors/shared/keyset.js';
import type { Sql } from '../../src/connectors/shared/dialect-adapter.js';
import type { Filter } from '../../src/model/filter.js';
import { resolveSort, type SortTerm } from '../../src/model/query.js';
import type { TableSchema } from '../../src/model/schema.js';
import { postgresAvailable } from '../support/servers.js';
import { usePostgresSchema } from './postgres-fixture.js';

const available = await postgresAvailable();

/**
 * Keyset pages must walk an index, not sort the table for every page. These tests compile the
 * statements the connector sends (the shared compilers with the PostgreSQL adapter) and read their
 * plans from the real server.
 */
const SCHEMA = `
  create table people (id int primary key, email text not null, nickname text);
  insert into people select g, 'user' || g || '@example.com', case when g % 3 = 0 then null else 'n' || g end
    from generate_series(1, 50000) g;
  create index people_lower_email on people (lower(email));
  analyze people;
`;

const compiler = new Kysely<any>({
  dialect: {
    createAdapter: () => new KyselyPostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new KyselyPostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

describe.skipIf(!available)('PostgreSQL query plans', () => {
  const pg = usePostgresSchema('bpg_plans', SCHEMA);
  let people: TableSchema;
  const adapter = new PostgresAdapter({
    target: { host: '', port: 0, database: '', user: '' },
    secrets: [],
    timeoutMs: 1000,
  });
  // What the connector detects for this machine's byte-order (C.UTF-8) databases.
  adapter.collation = { bytewiseDefault: true, foldCollation: null };

  /** Node types of the plan of a statement. */
  async function plan(query: Sql): Promise<string> {
    const compiled = query.compile(compiler);
    const { rows } = await pg.connector.rawQuery(`explain (format json) ${compiled.sql}`, [
      ...compiled.parameters,
    ]);
    return JSON.stringify(rows[0]);
  }

  function page(sort: SortTerm[], cursor: unknown[] | null, filter?: Filter): Sql {
    const terms = resolveSort(people, sort);
    const where = [compileFilter(filter, people, adapter)];
    if (cursor) where.push(keysetPredicate(terms, cursor, people, adapter));
    return sql`select * from ${adapter.table(people)} where ${sql.join(where, sql` and `)} order by ${orderByClause(terms, people, adapter)} limit 100`;
  }

  it('walks the primary key index for pages in key order, both directions', async () => {
    people = await pg.table('people');
    const ascending = await plan(page([{ field: 'id', dir: 'asc' }], [25_000]));
    expect(ascending).toContain('"Index Scan"');
    expect(ascending).not.toContain('"Sort"');
    const descending = await plan(page([{ field: 'id', dir: 'desc' }], [25_000]));
    expect(descending).toContain('Backward');
    expect(descending).not.toContain('"Sort"');
  });

  it('keeps NULLS FIRST where a column can be null', async () => {
    const compiled = page([{ field: 'nickname', dir: 'asc' }], null).compile(compiler).sql;
    expect(compiled).toContain('"nickname" asc nulls first');
    expect(compiled).toContain('"id" asc');
  });

  it('uses an index on lower(column) for case-insensitive equality', async () => {
    const ci = await plan(
      page([{ field: 'id', dir: 'asc' }], null, {
        field: 'email',
        op: 'eq',
        value: 'USER7@example.com',
        caseInsensitive: true,
      }),
    );
    expect(ci).toContain('people_lower_email');
  });
});
