import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import type { ConsolidationReport } from '../../src/consolidate/consolidation-report.js';
import type { Job } from '../../src/jobs/job.js';
import { openBraidApp, type BraidApp } from '../../src/services/braid-app.js';

/** A Braid app on a temp data dir (no demo), running jobs in the test's process as the CLI does. */
export interface ConsolidationFixture {
  app: BraidApp;
  dataDir: string;
  addSource(
    name: string,
    kind: 'postgres' | 'mysql' | 'sqlite',
    config: Record<string, unknown>,
  ): Promise<string>;
  /** Submits the definition and waits for the job to finish. */
  consolidate(
    definition: unknown,
    options?: { dryRun?: boolean },
  ): Promise<Job<unknown, ConsolidationReport>>;
  close(): Promise<void>;
}

export async function openConsolidationFixture(): Promise<ConsolidationFixture> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'braid-consolidate-'));
  const app = await openBraidApp(loadConfig({ BRAID_DATA_DIR: dataDir, BRAID_DEMO: '0' }));
  return {
    app,
    dataDir,
    async addSource(name, kind, config) {
      return (await app.sources.create({ name, kind, config })).id;
    },
    async consolidate(definition, options = {}) {
      const job = await app.consolidations.submit(definition, {
        dryRun: options.dryRun ?? false,
        caller: 'cli',
        createdBy: null,
        runHere: true,
      });
      return (await app.jobs.wait(job.id)) as Job<unknown, ConsolidationReport>;
    },
    async close() {
      await app.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
