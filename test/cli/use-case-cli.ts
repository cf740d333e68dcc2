import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { openBraidApp, type BraidApp } from '../../src/services/braid-app.js';
import { openUseCaseDatabases, type UseCaseDatabases } from '../sync/use-case-databases.js';
import { braid } from './run-braid.js';

export interface UseCaseCli {
  dbs: UseCaseDatabases;
  dataDir: string;
  /** Runs `braid ...args` on the data dir and answers its output; throws when it exits non-zero. */
  run(...args: string[]): string;
  close(): Promise<void>;
}

/**
 * The use case's databases (fresh, each test file its own) registered as the sources `crm` and
 * `invoicing` in a new data dir; `setup` adds more while the app is open.
 */
export async function openUseCaseCli(
  prefix: string,
  setup: (app: BraidApp) => Promise<unknown> = () => Promise.resolve(),
): Promise<UseCaseCli> {
  const dbs = await openUseCaseDatabases(prefix);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `braid-${prefix}-`));
  const close = async () => {
    await dbs.close();
    await fs.rm(dataDir, { recursive: true, force: true });
  };
  try {
    const app = await openBraidApp(loadConfig({ BRAID_DATA_DIR: dataDir, BRAID_DEMO: '0' }));
    try {
      await app.sources.create({ name: 'crm', kind: 'mysql', config: { url: dbs.mariadbUrl } });
      await app.sources.create({ name: 'invoicing', kind: 'postgres', config: dbs.postgresConfig });
      await setup(app);
    } finally {
      await app.close();
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    dbs,
    dataDir,
    run(...args) {
      const result = braid(dataDir, args);
      if (result.code !== 0)
        throw new Error(`braid ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
      return result.stdout;
    },
    close,
  };
}
