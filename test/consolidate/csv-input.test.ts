import fs from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConsolidationFixture, type ConsolidationFixture } from './consolidation-fixture.js';

/** A CSV export from a third tool merged with a database table; its rows are named by line. */
describe('a CSV file as a consolidation input', () => {
  let fx: ConsolidationFixture;
  let csv: string;

  beforeAll(async () => {
    fx = await openConsolidationFixture();
    const crm = path.join(fx.dataDir, 'crm.db');
    const db = new Database(crm);
    db.exec(`create table contacts (id integer primary key, email text, name text, score integer);
      insert into contacts values (1, 'ada@example.com', 'Ada', 10), (2, 'bob@example.com', 'Bob', 20);`);
    db.close();
    csv = path.join(fx.dataDir, 'newsletter.csv');
    await fs.writeFile(
      csv,
      '\uFEFFE-Mail;Name;Score\r\n"BOB@example.com";"Bob ""the builder""";25\r\ncy@example.com;Cy;\r\ndee@example.com;Dee;not a number\r\n',
    );
    const master = path.join(fx.dataDir, 'master.db');
    new Database(master).close();
    await fx.addSource('crm', 'sqlite', { file: crm });
    await fx.addSource('master', 'sqlite', { file: master });
  });

  afterAll(async () => {
    await fx?.close();
  });

  const definition = (
    table: string,
    onInvalidRow: 'fail' | 'skip',
    csvColumns: Record<string, string> = {},
  ) => ({
    name: 'contacts',
    target: { source: 'master' },
    onInvalidRow,
    table,
    create: {
      columns: [
        { name: 'id', type: 'integer', nullable: false },
        { name: 'email', type: 'string', maxLength: 100 },
        { name: 'name', type: 'string', maxLength: 100 },
        { name: 'score', type: 'integer' },
      ],
      primaryKey: ['id'],
    },
    key: { column: 'id', generate: 'sequence' },
    inputs: [
      {
        name: 'crm',
        source: 'crm',
        table: 'contacts',
        columns: { email: 'email', name: 'name', score: 'score' },
      },
      {
        name: 'newsletter',
        file: csv,
        columns: {
          email: { from: 'E-Mail', transform: 'value.toLowerCase()' },
          name: 'Name',
          score: 'Score',
          ...csvColumns,
        },
      },
    ],
    match: { exact: [['email']] },
    resolve: { default: 'priority', fields: { score: 'most_common' } },
  });

  it('fails by default on the invalid CSV row, naming its line, column and value; nothing is written', async () => {
    const job = await fx.consolidate(definition('contacts_strict', 'fail'));
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('invalid_rows');
    expect(job.error?.message).toContain('line:4');
    expect(job.error?.message).toContain('"score"');
    expect(job.error?.message).toContain('not a number');
  });

  it('with skip, merges the CSV rows with the table and reports the rejected line', async () => {
    const job = await fx.consolidate(definition('contacts', 'skip'));
    expect(job.error).toBeNull();
    const report = job.result!;
    expect(report.verdict).toBe('verified');
    expect(report.tables[0]!.inputs).toEqual([
      { input: 'crm', read: 2, staged: 2, rejected: 0 },
      { input: 'newsletter', read: 3, staged: 2, rejected: 1 },
    ]);
    expect(report.rejects).toEqual([
      expect.objectContaining({
        input: 'newsletter',
        sourceKey: 'line:4',
        line: 4,
        field: 'score',
        value: 'not a number',
      }),
    ]);
    const db = new Database(path.join(fx.dataDir, 'master.db'), { readonly: true });
    expect(db.prepare('select id, email, name, score from contacts order by id').all()).toEqual([
      { id: 1, email: 'ada@example.com', name: 'Ada', score: 10 },
      { id: 2, email: 'bob@example.com', name: 'Bob', score: 20 },
      { id: 3, email: 'cy@example.com', name: 'Cy', score: null },
    ]);
    db.close();
  });

  it('a column the CSV lacks is named with the columns it has', async () => {
    const job = await fx.consolidate(definition('contacts_missing', 'skip', { name: 'Full Name' }));
    expect(job.error?.code).toBe('unknown_field');
    expect(job.error?.message).toContain('the CSV has no column "Full Name"');
  });
});
