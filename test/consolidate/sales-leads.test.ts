import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsolidationReport } from '../../src/consolidate/consolidation-report.js';
import {
  createMysqlDatabase,
  createPostgresSchema,
  mysqlAvailable,
  postgresAvailable,
  postgresExec,
} from '../support/servers.js';
import { openConsolidationFixture, type ConsolidationFixture } from './consolidation-fixture.js';

const available = (await postgresAvailable()) && (await mysqlAvailable());

/** Three regional lead lists: the same people written differently (case, spaces, phone formats). */
const LEADS: Record<string, [number, string, string | null, string | null, string, string][]> = {
  east: [
    [1, 'Ada Lovelace', ' Ada@Example.com', '+1 (555) 010-0001', 'Analytical', '2026-01-01T10:00:00Z'],
    [2, 'Bob Stone', 'bob@stone.example', '555-010-0002', 'Stone Inc', '2026-01-01T10:00:00Z'],
    [3, 'Cy Young', null, '555 010 0003', 'Young & Co', '2026-03-01T10:00:00Z'],
  ],
  west: [
    [1, 'ada lovelace', 'ada@example.com', '5550100001', 'Analytical Engines', '2026-02-01T10:00:00Z'],
    [2, 'Dee Dee', 'dee@d.example', '555.010.0004', 'Dee Ltd', '2026-01-01T10:00:00Z'],
  ],
  north: [
    [1, 'BOB  STONE', 'BOB@STONE.EXAMPLE', '(555) 010-0002', 'Stone Incorporated', '2026-02-15T10:00:00Z'],
    [2, 'Cy Young', 'cy@young.example', '5550100003', 'Young & Co', '2026-01-01T10:00:00Z'],
    [3, 'Eve Adams', 'eve@x.example', null, 'Eve Corp', '2026-01-01T10:00:00Z'],
  ],
};

function definition(masterTable: string, regions: Record<string, string>) {
  const columns = {
    full_name: 'name',
    email: { from: 'email', transform: 'value.trim().toLowerCase()' },
    phone: { from: 'phone', transform: "value.replace(/\\D/g, '').slice(-10)" },
    company: 'company',
  };
  return {
    name: 'sales-leads',
    target: { source: 'master' },
    tables: [
      {
        table: masterTable,
        create: {
          columns: [
            { name: 'id', type: 'bigint', nullable: false },
            { name: 'full_name', type: 'string', maxLength: 100 },
            { name: 'email', type: 'string', maxLength: 200 },
            { name: 'phone', type: 'string', maxLength: 20 },
            { name: 'company', type: 'string', maxLength: 100 },
          ],
          primaryKey: ['id'],
        },
        key: { column: 'id', generate: 'sequence' },
        inputs: Object.entries(regions).map(([region, schema]) => ({
          name: region,
          source: region,
          table: `${schema}.leads`,
          columns,
          updatedAt: 'updated_at',
        })),
        match: {
          exact: [[{ field: 'email', normalize: ['email'] }], [{ field: 'phone', normalize: ['digits'] }]],
        },
        resolve: { default: 'priority', fields: { company: 'newest' } },
      },
    ],
  };
}

describe.skipIf(!available)('consolidating three PostgreSQL lead lists into one MariaDB master', () => {
  let fx: ConsolidationFixture;
  const schemas: Record<string, string> = {};
  const drops: (() => Promise<void>)[] = [];
  let master: { url: string; drop(): Promise<void> };

  beforeAll(async () => {
    fx = await openConsolidationFixture();
    for (const [region, rows] of Object.entries(LEADS)) {
      const created = await createPostgresSchema(`leads_${region}`);
      drops.push(created.drop);
      schemas[region] = created.schema;
      const values = rows
        .map(
          (r) =>
            `(${r.map((v) => (v === null ? 'null' : typeof v === 'number' ? v : `'${v.replace(/'/g, "''")}'`)).join(', ')})`,
        )
        .join(', ');
      await postgresExec(
        created.schema,
        `create table leads (id int primary key, name text, email text, phone text, company text, updated_at timestamptz);
         insert into leads values ${values};`,
      );
      await fx.addSource(region, 'postgres', { url: created.url, schemas: [created.schema] });
    }
    master = await createMysqlDatabase('leads_master');
    await fx.addSource('master', 'mysql', { url: master.url });
  });

  afterAll(async () => {
    await fx?.close();
    await master?.drop();
    await Promise.all(drops.map((d) => d()));
  });

  it('plans without writing: the report shows what would happen and no table is created', async () => {
    const job = await fx.consolidate(definition('leads_planned', schemas), { dryRun: true });
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    const report = job.result!;
    expect(report.verdict).toBe('planned');
    expect(report.tables[0]!.entities).toBe(5);
    expect(report.tables[0]!.written).toBeNull();
    const conn = await mysql.createConnection({ uri: master.url });
    const [tables] = await conn.query("show tables like 'leads_planned'");
    await conn.end();
    expect(tables).toEqual([]);
  });

  it('merges the overlapping leads, accounts for every input row and verifies the master', async () => {
    const job = await fx.consolidate(definition('leads', schemas));
    expect(job.error).toBeNull();
    const report: ConsolidationReport = job.result!;
    const table = report.tables[0]!;
    expect(report.verdict).toBe('verified');
    expect(report.accounted).toBe(true);
    expect(table.inputs).toEqual([
      { input: 'east', read: 3, staged: 3, rejected: 0 },
      { input: 'west', read: 2, staged: 2, rejected: 0 },
      { input: 'north', read: 3, staged: 3, rejected: 0 },
    ]);
    expect(table.records).toBe(8);
    expect(table.entities).toBe(5);
    expect(table.duplicatesMerged).toBe(3);
    expect(table.checksum?.match).toBe(true);

    const conn = await mysql.createConnection({ uri: master.url });
    const [rows] = await conn.query('select id, full_name, email, phone, company from leads order by id');
    await conn.end();
    expect(rows).toEqual([
      // Ada: east and west by email; the name by priority (east), the company by newest (west).
      {
        id: 1,
        full_name: 'Ada Lovelace',
        email: 'ada@example.com',
        phone: '5550100001',
        company: 'Analytical Engines',
      },
      // Bob: east and north by email; north's company is newer.
      {
        id: 2,
        full_name: 'Bob Stone',
        email: 'bob@stone.example',
        phone: '5550100002',
        company: 'Stone Incorporated',
      },
      // Cy: east has no email, matched to north by phone; north's email fills the gap.
      { id: 3, full_name: 'Cy Young', email: 'cy@young.example', phone: '5550100003', company: 'Young & Co' },
      { id: 4, full_name: 'Dee Dee', email: 'dee@d.example', phone: '5550100004', company: 'Dee Ltd' },
      { id: 5, full_name: 'Eve Adams', email: 'eve@x.example', phone: null, company: 'Eve Corp' },
    ]);

    // Discrepancies: names differ in case (priority) and companies (newest), each listed.
    const discrepancies = await fx.app.consolidations.discrepancies(job.id, {});
    const byField = discrepancies.map(
      (d) => `${d.entity} ${d.field} ${d.policy} ${JSON.stringify(d.chosen)}`,
    );
    expect(byField).toEqual([
      'east:1 full_name priority "Ada Lovelace"',
      'east:1 company newest "Analytical Engines"',
      'east:2 full_name priority "Bob Stone"',
      'east:2 company newest "Stone Incorporated"',
    ]);
    expect(table.discrepancies).toEqual({ total: 4, byPolicy: { priority: 2, newest: 2 }, pendingReview: 0 });

    // Lineage explains Cy's row: which records, merged by which key.
    const [cy] = await fx.app.consolidations.lineage(job.id, { key: '3' });
    expect(cy!.records).toEqual([
      { input: 'east', sourceKey: '3' },
      { input: 'north', sourceKey: '2' },
    ]);
    expect(cy!.merges).toEqual([
      {
        a: 'east:3',
        b: 'north:2',
        kind: 'exact',
        evidence: { key: 1, fields: ['phone'], value: ['5550100003'] },
      },
    ]);
  });

  it('running the finished job again changes nothing; a new job refuses the filled master', async () => {
    const first = await fx.consolidate(definition('leads_again', schemas));
    expect(first.result!.verdict).toBe('verified');
    const again = await fx.app.jobs.resume(first.id, { runHere: true }).catch((err: Error) => err);
    // A finished job is not resumable: its result stands.
    expect(again).toBeInstanceOf(Error);
    const second = await fx.consolidate(definition('leads_again', schemas));
    expect(second.status).toBe('failed');
    expect(second.error?.code).toBe('target_not_empty');
    const conn = await mysql.createConnection({ uri: master.url });
    const [[count]] = (await conn.query('select count(*) as n from leads_again')) as unknown as [
      { n: number }[],
    ];
    await conn.end();
    expect(count!.n).toBe(5);
  });
});
