import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { openBraidApp } from '../services/braid-app.js';

/**
 * `braid worker`: runs syncs and queued jobs without serving HTTP, on this machine or another one
 * sharing the metadata store (BRAID_DATABASE_URL) and the secret key. Leases split the syncs and
 * jobs between the server and every worker; a worker that dies hands its syncs over once its
 * leases expire, and its running jobs become interrupted (resumable).
 */
export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('run syncs in this process, without the web server (leases share them with other processes)')
    .option('--lease <seconds>', 'how long a sync stays with a process that stopped renewing it', '15')
    .action(async (options: { lease: string }) => {
      const leaseMs = Number(options.lease) * 1000;
      if (!Number.isFinite(leaseMs) || leaseMs < 2_000) throw new Error('--lease must be at least 2 seconds');
      const app = await openBraidApp(loadConfig());
      let closing = false;
      const shutdown = async () => {
        if (closing) return;
        closing = true;
        await app.close();
        process.exit(0);
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
      const supervisor = await app.runSyncs({ leaseMs });
      await app.runJobs();
      process.stdout.write(`Braid worker running syncs and jobs (process ${supervisor.owner})\n`);
    });
}
