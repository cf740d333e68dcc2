import { afterAll, describe, expect, it } from 'vitest';
import { postgresAvailable } from '../support/servers.js';
import { usePostgresSchema } from './postgres-fixture.js';

const available = await postgresAvailable();
const TABLES = 2000;

/**
 * Created server-side in one DO block: 2 000 tables with a key, a foreign key, a unique and a check
 * each. It commits every 200 tables, because one transaction would need more locks than the
 * default lock table holds ("out of shared memory"); dropping them is chunked for the same reason.
 */
const MANY_TABLES = `
  do $$
  begin
    for i in 1..${TABLES} loop
      execute format(
        'create table %I (id serial primary key, parent_id int %s, name varchar(50) unique,
           amount numeric(10, 2), created timestamptz default now(), status text check (status in (''a'', ''b'')))',
        't' || lpad(i::text, 4, '0'),
        case when i > 1 then format('references %I (id)', 't' || lpad((i - 1)::text, 4, '0')) else '' end);
      if i % 200 = 0 then commit; end if;
    end loop;
  end $$;
`;

const DROP_TABLES = `
  do $$
  begin
    for i in reverse ${TABLES}..1 loop
      execute format('drop table if exists %I cascade', 't' || lpad(i::text, 4, '0'));
      if i % 200 = 0 then commit; end if;
    end loop;
  end $$;
`;

describe.skipIf(!available)('PostgreSQL introspection of a big catalog', () => {
  const pg = usePostgresSchema('bpg_scale', MANY_TABLES);
  // Registered after the fixture, so it runs before the fixture drops the schema.
  afterAll(() => pg.exec(DROP_TABLES), 120_000);

  it(`reads ${TABLES} tables completely (speed: bench/introspect.ts)`, async () => {
    await pg.connector.introspect(); // warm the pool and the catalog caches
    const { tables } = await pg.connector.introspect();
    expect(tables).toHaveLength(TABLES);
    const last = tables.find((t) => t.name === 't2000')!;
    expect(last.columns.map((c) => c.type)).toEqual([
      'integer',
      'integer',
      'string',
      'decimal',
      'datetimetz',
      'enum',
    ]);
    expect(last.foreignKeys[0]).toMatchObject({ columns: ['parent_id'], referencedTable: 't1999' });
    expect(last.uniqueIndexes).toEqual([{ name: 't2000_name_key', columns: ['name'] }]);
    expect(last.columns[5]!.enumValues).toEqual(['a', 'b']);
  }, 120_000);
});
