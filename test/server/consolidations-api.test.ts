import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  POSTGRES_URL,
  createMysqlDatabase,
  createPostgresSchema,
  mysqlAvailable,
  mysqlExec,
  postgresAvailable,
  postgresExec,
  uniqueName,
} from '../support/servers.js';
import { startHarness, type Harness } from './harness.js';

const ready = (await postgresAvailable()) && (await mysqlAvailable());

/** A CRM in MariaDB and a shop in PostgreSQL know some of the same people; the master goes to PostgreSQL. */
function definition(crm: string, shop: string, schema: string, table: string) {
  const columns = {
    full_name: 'name',
    email: { from: 'email', transform: 'value.trim().toLowerCase()' },
    company: 'company',
    visits: 'visits',
  };
  return {
    name: 'contacts',
    target: { source: shop },
    onInvalidRow: 'skip',
    tables: [
      {
        table: `${schema}.${table}`,
        create: {
          columns: [
            { name: 'id', type: 'bigint', nullable: false },
            { name: 'full_name', type: 'string', maxLength: 100 },
            { name: 'email', type: 'string', maxLength: 200 },
            { name: 'company', type: 'string', maxLength: 100 },
            { name: 'visits', type: 'integer' },
          ],
          primaryKey: ['id'],
        },
        key: { column: 'id', generate: 'sequence' },
        inputs: [
          { name: 'crm', source: crm, table: 'contacts', columns, updatedAt: 'updated_at' },
          { name: 'shop', source: shop, table: `${schema}.customers`, columns, updatedAt: 'updated_at' },
        ],
        match: { exact: [[{ field: 'email', normalize: ['email'] }]] },
        resolve: { default: 'priority', fields: { company: 'newest' } },
      },
    ],
  };
}

describe.skipIf(!ready)('consolidations API: MariaDB and PostgreSQL into one PostgreSQL table', () => {
  let h: Harness;
  let pgDb: Awaited<ReturnType<typeof createPostgresSchema>>;
  let myDb: Awaited<ReturnType<typeof createMysqlDatabase>>;
  let crm: string;
  let shop: string;
  let runId: string;
  let def: (table: string) => ReturnType<typeof definition>;

  const count = async (table: string) => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      const { rows } = await client.query(`select count(*)::int as n from "${pgDb.schema}"."${table}"`);
      return rows[0].n as number;
    } finally {
      await client.end();
    }
  };

  const post = (url: string, payload: unknown) =>
    h.admin({ method: 'POST', url, payload: payload as object });

  beforeAll(async () => {
    pgDb = await createPostgresSchema('api_consolidate');
    myDb = await createMysqlDatabase('api_consolidate');
    await mysqlExec(
      myDb.url,
      `create table contacts (id int primary key, name varchar(100), email varchar(200), company varchar(100),
         visits varchar(20), updated_at datetime);
       insert into contacts values
         (1, 'Ada Lovelace', ' Ada@Example.com', 'Analytical', '3', '2026-01-01 10:00:00'),
         (2, 'Bob Stone', 'bob@stone.example', 'Stone Inc', '5', '2026-01-01 10:00:00'),
         (3, 'Bad Visits', 'bad@x.example', 'X', 'lots', '2026-01-01 10:00:00');`,
    );
    await postgresExec(
      pgDb.schema,
      `create table customers (id int primary key, name text, email text, company text, visits text,
         updated_at timestamptz);
       insert into customers values
         (1, 'ada lovelace', 'ada@example.com', 'Analytical Engines', '4', '2026-02-01T10:00:00Z'),
         (2, 'Dee Dee', 'dee@d.example', 'Dee Ltd', null, '2026-01-01T10:00:00Z');`,
    );
    h = await startHarness();
    const addSource = async (kind: string, config: Record<string, unknown>) => {
      const res = await post('/api/sources', { name: uniqueName(kind), kind, config });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().id as string;
    };
    crm = await addSource('mysql', { url: myDb.url });
    shop = await addSource('postgres', { url: pgDb.url, schemas: [pgDb.schema] });
    def = (table) => definition(crm, shop, pgDb.schema, table);
  });

  afterAll(async () => {
    await h?.close();
    await pgDb?.drop();
    await myDb?.drop();
  });

  it('plans without writing, from a YAML definition', async () => {
    const res = await post('/api/consolidations/plan?wait=true', { definition: stringify(def('planned')) });
    expect(res.statusCode, res.body).toBe(200);
    const job = res.json();
    expect(job.error).toBeNull();
    expect(job).toMatchObject({ kind: 'consolidation', status: 'succeeded', result: { verdict: 'planned' } });
    expect(job.result.tables[0]).toMatchObject({ entities: 3, written: null });
    const tables = await h.admin({ url: `/api/sources/${shop}/tables/${pgDb.schema}.planned` });
    expect(tables.statusCode).toBe(404);
  });

  it('consolidates and verifies; the report, discrepancies, lineage and rejects explain it', async () => {
    const res = await post('/api/consolidations?wait=true', def('contacts_master'));
    expect(res.statusCode, res.body).toBe(200);
    const job = res.json();
    expect(job.error).toBeNull();
    expect(job.result.verdict).toBe('verified');
    runId = job.id;
    expect(await count('contacts_master')).toBe(3);

    const report = await h.admin({ url: `/api/consolidations/${runId}/report` });
    expect(report.statusCode).toBe(200);
    expect(report.json()).toMatchObject({
      job: runId,
      name: 'contacts',
      verdict: 'verified',
      accounted: true,
      rejected: 1,
    });
    expect(report.json().tables[0]).toMatchObject({
      inputs: [
        { input: 'crm', read: 3, staged: 2, rejected: 1 },
        { input: 'shop', read: 2, staged: 2, rejected: 0 },
      ],
      records: 4,
      entities: 3,
      duplicatesMerged: 1,
      written: 3,
      checksum: { match: true },
    });

    const discrepancies = (await h.admin({ url: `/api/consolidations/${runId}/discrepancies` })).json()
      .discrepancies;
    expect(discrepancies).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          entity: 'crm:1',
          field: 'full_name',
          policy: 'priority',
          chosen: 'Ada Lovelace',
        }),
        expect.objectContaining({
          entity: 'crm:1',
          field: 'company',
          policy: 'newest',
          chosen: 'Analytical Engines',
          pending: false,
        }),
      ]),
    );
    expect(discrepancies[0].candidates).toEqual(
      expect.arrayContaining([expect.objectContaining({ records: expect.any(Array) })]),
    );
    const pending = await h.admin({ url: `/api/consolidations/${runId}/discrepancies?pending=true&limit=5` });
    expect(pending.json()).toEqual({ discrepancies: [] });

    const all = (await h.admin({ url: `/api/consolidations/${runId}/lineage` })).json().lineage;
    expect(all).toHaveLength(3);
    const ada = all.find((e: { records: unknown[] }) => e.records.length === 2);
    expect(ada.records).toEqual([
      { input: 'crm', sourceKey: '1' },
      { input: 'shop', sourceKey: '1' },
    ]);
    expect(ada.merges).toEqual([expect.objectContaining({ a: 'crm:1', b: 'shop:1', kind: 'exact' })]);
    const one = await h.admin({
      url: `/api/consolidations/${runId}/lineage?table=${pgDb.schema}.contacts_master&key=${ada.targetKey}`,
    });
    expect(one.json().lineage).toEqual([ada]);
    const page = await h.admin({ url: `/api/consolidations/${runId}/lineage?limit=1&offset=2` });
    expect(page.json().lineage).toHaveLength(1);

    const rejects = await h.admin({ url: `/api/consolidations/${runId}/rejects` });
    expect(rejects.statusCode).toBe(200);
    expect(rejects.json().rejects).toEqual([
      expect.objectContaining({
        input: 'crm',
        sourceKey: '3',
        field: 'visits',
        value: 'lots',
        reason: expect.any(String),
      }),
    ]);
    expect((await h.admin({ url: `/api/consolidations/${runId}/rejects?offset=1` })).json()).toEqual({
      rejects: [],
    });
  });

  it('refuses an invalid definition with a 400 naming the path', async () => {
    const bad = def('never');
    (bad.tables[0]!.resolve as { default: string }).default = 'sometimes';
    const res = await post('/api/consolidations/plan', { definition: bad });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      code: 'invalid_definition',
      details: { path: 'tables[0].resolve.default' },
    });
    expect(res.json().error.message).toMatch(/^tables\[0\]\.resolve\.default/);

    const noName = await post('/api/consolidations', { ...def('never'), name: undefined });
    expect(noName.json().error).toMatchObject({ code: 'invalid_definition', details: { path: 'name' } });

    const yaml = await h.admin({
      method: 'POST',
      url: '/api/consolidations/plan',
      headers: { 'content-type': 'application/yaml' },
      payload: 'name: [unclosed',
    });
    expect(yaml.statusCode).toBe(400);
    expect(yaml.json().error.code).toBe('invalid_definition');

    const ghost = await post('/api/consolidations/plan', { ...def('never'), target: { source: 'ghost' } });
    expect(ghost.statusCode).toBe(404);
  });

  it('answers 409 report_not_ready for a failed job, and resumes it once its cause is fixed', async () => {
    // The master is filled now: a second run into it fails.
    const res = await post('/api/consolidations?wait=true', def('contacts_master'));
    const failed = res.json();
    expect(failed.status).toBe('failed');
    expect(failed.error.code).toBe('target_not_empty');
    const report = await h.admin({ url: `/api/consolidations/${failed.id}/report` });
    expect(report.statusCode).toBe(409);
    expect(report.json().error).toMatchObject({ code: 'report_not_ready', details: { status: 'failed' } });

    await postgresExec(pgDb.schema, 'delete from contacts_master');
    const resumed = await post(`/api/consolidations/${failed.id}/resume?wait=true`, undefined);
    expect(resumed.statusCode, resumed.body).toBe(200);
    expect(resumed.json()).toMatchObject({
      id: failed.id,
      status: 'succeeded',
      attempts: 2,
      result: { verdict: 'verified' },
    });
    expect(await count('contacts_master')).toBe(3);

    const again = await post(`/api/consolidations/${runId}/resume`, undefined);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('job_not_resumable');
  });

  it('answers 202 without wait, and 404 for jobs that are not consolidations', async () => {
    const res = await post('/api/consolidations/plan', def('later'));
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ kind: 'consolidation', title: 'plan contacts' });
    const done = await h.app.jobs.wait(res.json().id);
    expect(done.status).toBe('succeeded');

    for (const url of ['report', 'discrepancies', 'lineage', 'rejects']) {
      const missing = await h.admin({ url: `/api/consolidations/nope/${url}` });
      expect(missing.statusCode, url).toBe(404);
    }
  });
});
