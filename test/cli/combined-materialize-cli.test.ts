import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openBraidApp } from '../../src/services/braid-app.js';
import { mysqlAvailable, postgresAvailable } from '../support/servers.js';
import { openUseCaseDatabases, type UseCaseDatabases } from '../sync/use-case-databases.js';
import { braid } from './run-braid.js';

const ready = (await mysqlAvailable()) && (await postgresAvailable());
const MATCH = { column: 'business_name', normalize: ['trim', 'lower', 'collapse_spaces'] };

/**
 * `braid combined materialize | materialized | dematerialize`, each its own process. No worker
 * runs here, so the generated sync is only created (and deleted): the API test covers it running.
 */
describe.skipIf(!ready)('braid combined materialize CLI', () => {
  let dbs: UseCaseDatabases;
  let dataDir: string;
  const run = (...args: string[]) => {
    const result = braid(dataDir, args);
    if (result.code !== 0)
      throw new Error(`braid ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    return result.stdout;
  };
  const tableExists = async () =>
    (
      await dbs.pg.query(
        'select 1 from information_schema.tables where table_schema = $1 and table_name = $2',
        [dbs.postgresSchema, 'customers_mat'],
      )
    ).rowCount === 1;

  beforeAll(async () => {
    dbs = await openUseCaseDatabases('cli_mat');
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-mat-cli-'));
    const app = await openBraidApp(loadConfig({ BRAID_DATA_DIR: dataDir, BRAID_DEMO: '0' }));
    try {
      await app.sources.create({ name: 'crm', kind: 'mysql', config: { url: dbs.mariadbUrl } });
      await app.sources.create({ name: 'invoicing', kind: 'postgres', config: dbs.postgresConfig });
      await app.combined.create({
        name: 'customers',
        members: [
          { name: 'crm', source: 'crm', table: 'crm_business_information', match: MATCH },
          { name: 'invoicing', source: 'invoicing', table: 'invoice_customers', match: MATCH },
        ],
        columns: [
          { name: 'business_name', owners: ['crm.business_name', 'invoicing.business_name'] },
          { name: 'email', owners: ['crm.email', 'invoicing.email'] },
          { name: 'billing_cycle', owners: ['invoicing.billing_cycle'] },
        ],
      });
    } finally {
      await app.close();
    }
  });

  afterAll(async () => {
    await dbs?.close();
    if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('materializes, shows the status, refuses a second time, and dematerializes with --drop', async () => {
    const created = JSON.parse(
      run('--json', 'combined', 'materialize', 'customers', 'invoicing', 'customers_mat'),
    );
    expect(created).toMatchObject({ combinedName: 'customers', rows: 5 });
    expect(await tableExists()).toBe(true);

    const status = run('combined', 'materialized', 'customers');
    expect(status).toContain(`materialized in invoicing.${dbs.postgresSchema}.customers_mat`);
    expect(status).toMatch(/lag: none measured yet/);
    // Nothing runs syncs here: the status says so.
    expect(status).toMatch(/note: .*(server|worker)/);

    const again = braid(dataDir, ['combined', 'materialize', 'customers', 'invoicing', 'other_table']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already materialized \(already_materialized\)/);

    expect(JSON.parse(run('--json', 'combined', 'dematerialize', 'customers', '--drop'))).toMatchObject({
      dematerialized: true,
      dropped: true,
    });
    expect(await tableExists()).toBe(false);
    const gone = braid(dataDir, ['combined', 'materialized', 'customers']);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toMatch(/not materialized/);
  });
});
