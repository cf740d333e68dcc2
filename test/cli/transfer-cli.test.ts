import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { braid } from './run-braid.js';

/** `braid import`, `braid export` and `braid consolidate` as a person runs them. */
describe('braid import, export and consolidate', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-transfer-'));
    for (const name of ['shop', 'master']) new Database(path.join(dataDir, `${name}.db`)).close();
    for (const name of ['shop', 'master']) {
      const added = braid(dataDir, [
        'sources',
        'add',
        name,
        '--kind',
        'sqlite',
        '--file',
        path.join(dataDir, `${name}.db`),
      ]);
      expect(added.code, added.stderr).toBe(0);
    }
  });

  afterAll(async () => fs.rm(dataDir, { recursive: true, force: true }));

  it('imports a CSV into a new table, refuses a bad one whole, and exports with a filter', async () => {
    const good = path.join(dataDir, 'customers.csv');
    await fs.writeFile(
      good,
      'Customer ID,E-Mail,Joined\n1,ada@example.com,2024-01-05\n2,"bob@example.com",2024-02-10\n',
    );
    const created = braid(dataDir, ['import', good, 'shop', 'customers', '--create']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('2 rows loaded into customers (created), 0 rejected');
    // The progress bar goes to stderr, never into the output a script reads.
    expect(created.stderr).toContain('succeeded');

    const bad = path.join(dataDir, 'more.csv');
    await fs.writeFile(
      bad,
      'customer_id,e_mail,joined\n3,cy@example.com,2024-03-01\n4,dee@example.com,not a date\n',
    );
    const refused = braid(dataDir, ['import', bad, 'shop', 'customers']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('line 3 joined "not a date"');
    expect(refused.stderr).toContain('nothing was written');

    const exported = braid(dataDir, [
      'export',
      'shop',
      'customers',
      '--columns',
      'customer_id,e_mail',
      '--filter',
      '{"field":"joined","op":"gte","value":"2024-02-01"}',
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toBe('customer_id,e_mail\n2,bob@example.com\n');

    const jsonl = path.join(dataDir, 'customers.jsonl');
    const toFile = braid(dataDir, ['export', 'shop', 'customers', '--format', 'jsonl', '-o', jsonl]);
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(toFile.stderr).toContain(`2 rows written to ${jsonl}`);
    const lines = (await fs.readFile(jsonl, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([
      { id: 1, customer_id: 1, e_mail: 'ada@example.com', joined: '2024-01-05' },
      { id: 2, customer_id: 2, e_mail: 'bob@example.com', joined: '2024-02-10' },
    ]);
  });

  it('plans, runs and reports a consolidation from a YAML file', async () => {
    const definition = path.join(dataDir, 'master.yaml');
    await fs.writeFile(
      definition,
      `name: master-customers
target: { source: master }
table: customers
create: true
key: { column: id, generate: sequence }
inputs:
  - { source: shop, table: customers, columns: { email: { from: e_mail, transform: "value.toUpperCase()", type: string } } }
`,
    );
    const plan = braid(dataDir, ['consolidate', 'plan', definition]);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain('planned');
    expect(plan.stdout).toContain('customers (to be created): 2 records -> 2 rows');

    const run = braid(dataDir, ['--json', 'consolidate', 'run', definition]);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { job: string; verdict: string };
    expect(report.verdict).toBe('verified');

    const again = braid(dataDir, ['consolidate', 'report', report.job]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('every input row accounted for: yes');
    const master = new Database(path.join(dataDir, 'master.db'), { readonly: true });
    expect(master.prepare('select id, email from customers order by id').all()).toEqual([
      { id: 1, email: 'ADA@EXAMPLE.COM' },
      { id: 2, email: 'BOB@EXAMPLE.COM' },
    ]);
    master.close();
  });
});
