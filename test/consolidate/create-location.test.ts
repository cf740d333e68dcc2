import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_URL, createPostgresSchema, postgresAvailable } from '../support/servers.js';
import { openConsolidationFixture, type ConsolidationFixture } from './consolidation-fixture.js';

const available = await postgresAvailable();

/**
 * A PostgreSQL source limited to one schema sees only that schema, so a table Braid creates for it
 * under an unqualified name (an import with create, a consolidation target) must land there.
 */
describe.skipIf(!available)('tables created for a schema-limited PostgreSQL source', () => {
  let fx: ConsolidationFixture;
  let schema: { schema: string; url: string; drop(): Promise<void> };

  beforeAll(async () => {
    fx = await openConsolidationFixture();
    schema = await createPostgresSchema('created_here');
    await fx.addSource('pg', 'postgres', { url: schema.url, schemas: [schema.schema] });
  });

  afterAll(async () => {
    await fx?.close();
    await schema?.drop();
  });

  async function schemaOf(table: string): Promise<string[]> {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    const { rows } = await client.query(
      'select table_schema from information_schema.tables where table_name = $1',
      [table],
    );
    await client.end();
    return rows.map((r: { table_schema: string }) => r.table_schema);
  }

  it('an import with create puts the table in the source schema and loads it', async () => {
    const file = path.join(fx.dataDir, 'cities.csv');
    await fs.writeFile(file, 'name,population\nLyon,522000\nNantes,320000\n');
    const table = `cities_${Date.now().toString(36)}`;
    const job = await fx.app.imports.submit(
      { source: 'pg', table, file, create: true },
      { caller: 'cli', createdBy: null, runHere: true },
    );
    const finished = await fx.app.jobs.wait(job.id);
    expect(finished.error).toBeNull();
    expect(await schemaOf(table)).toEqual([schema.schema]);
    const id = await fx.app.sources.resolveId('pg');
    const page = await fx.app.rows.list(id, table, { sort: 'name' });
    expect(page.rows.map((r) => [r.name, r.population])).toEqual([
      ['Lyon', 522000],
      ['Nantes', 320000],
    ]);
  });

  it('a consolidation target created under an unqualified name lands there too', async () => {
    const table = `target_${Date.now().toString(36)}`;
    const source = `src_${Date.now().toString(36)}`;
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`create table "${schema.schema}"."${source}" (id int primary key, name text)`);
    await client.query(`insert into "${schema.schema}"."${source}" values (1, 'a'), (2, 'b')`);
    await client.end();
    await fx.app.sources.refresh(await fx.app.sources.resolveId('pg'));
    const job = await fx.consolidate({
      name: 'copy',
      target: { source: 'pg' },
      table,
      create: true,
      key: { column: 'id', generate: 'sequence' },
      inputs: [{ source: 'pg', table: source, columns: { name: 'name' } }],
    });
    expect(job.error).toBeNull();
    expect(job.result!.verdict).toBe('verified');
    expect(await schemaOf(table)).toEqual([schema.schema]);
  });
});
