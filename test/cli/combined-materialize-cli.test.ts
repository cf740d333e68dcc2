import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCaseCombined } from '../combined/use-case-combined.js';
import { mysqlAvailable, postgresAvailable } from '../support/servers.js';
import type { UseCaseDatabases } from '../sync/use-case-databases.js';
import { braid } from './run-braid.js';
import { openUseCaseCli, type UseCaseCli } from './use-case-cli.js';

const ready = (await mysqlAvailable()) && (await postgresAvailable());

/**
 * `braid combined materialize | materialized | dematerialize`, each its own process. No worker
 * runs here, so the generated sync is only created (and deleted): the API test covers it running.
 */
describe.skipIf(!ready)('braid combined materialize CLI', () => {
  let cli: UseCaseCli;
  let dbs: UseCaseDatabases;
  let dataDir: string;
  const run = (...args: string[]) => cli.run(...args);
  const tableExists = async () =>
    (
      await dbs.pg.query(
        'select 1 from information_schema.tables where table_schema = $1 and table_name = $2',
        [dbs.postgresSchema, 'customers_mat'],
      )
    ).rowCount === 1;

  beforeAll(async () => {
    cli = await openUseCaseCli('cli_mat', (app) =>
      app.combined.create(
        useCaseCombined('customers', [{ name: 'billing_cycle', owners: ['invoicing.billing_cycle'] }]),
      ),
    );
    ({ dbs, dataDir } = cli);
  });

  afterAll(async () => {
    await cli?.close();
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
