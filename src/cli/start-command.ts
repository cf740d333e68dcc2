import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { buildServer } from '../server/build-server.js';
import { engineLoggerOf } from '../server/engine-logger.js';
import { openBraidApp } from '../services/braid-app.js';

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('start the server (embedded SQLite store and a demo workspace when nothing is configured)')
    .option('--no-syncs', 'do not run syncs here (leave them to `braid worker` processes)')
    .option('--no-jobs', 'do not run queued jobs here (leave them to `braid worker` processes)')
    .action(async (options: { syncs: boolean; jobs: boolean }) => {
      const config = loadConfig();
      const app = await openBraidApp(config);
      const firstRun = await app.prepareFirstRun();
      const server = await buildServer(app, { logger: { level: process.env.LOG_LEVEL ?? 'info' } });
      const shutdown = async () => {
        await server.close();
        await app.close();
        process.exit(0);
      };
      process.once('SIGINT', shutdown);
      process.once('SIGTERM', shutdown);
      await server.listen({ port: config.port, host: config.host });
      if (options.syncs || options.jobs) app.setLogger(engineLoggerOf(server.log));
      if (options.syncs) await app.runSyncs();
      if (options.jobs) await app.runJobs();
      const address = server.server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      const lines = [
        '',
        `Braid is running at http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`,
        `  data directory: ${config.dataDir}`,
        `  metadata store: ${config.databaseUrl ? 'PostgreSQL' : 'SQLite (embedded)'}`,
        `  syncs: ${options.syncs ? 'run here' : 'left to braid worker processes'}`,
        `  jobs: ${options.jobs ? 'run here' : 'left to braid worker processes'}`,
      ];
      if (firstRun.demoSources.length)
        lines.push(`  demo workspace: sources ${firstRun.demoSources.join(', ')} created`);
      if (firstRun.admin) lines.push(...firstRun.admin);
      process.stdout.write(`${lines.join('\n')}\n\n`);
    });
}
