import { Command, Option } from 'commander';
import { loadConfig } from '../config.js';
import { BraidError } from '../model/errors.js';
import { registerAdminCommands } from './admin-commands.js';
import { registerCombinedCommands } from './combined-commands.js';
import { registerCombinedMaterializeCommands } from './combined-materialize-commands.js';
import { registerConsolidateCommands } from './consolidate-commands.js';
import { registerDataCommands } from './data-commands.js';
import { registerJobsCommands } from './jobs-commands.js';
import { registerRelationsCommands } from './relations-commands.js';
import { registerStartCommand } from './start-command.js';
import { registerSyncCommands } from './sync-commands.js';
import { registerTransferCommands } from './transfer-commands.js';
import { registerWorkerCommand } from './worker-command.js';

const program = new Command('braid')
  .description('Work with several databases as if they were one.')
  .addOption(new Option('--json', 'machine-readable output'))
  .showHelpAfterError();

registerStartCommand(program);
registerWorkerCommand(program);
registerAdminCommands(program);
registerDataCommands(program);
registerSyncCommands(program);
registerJobsCommands(program);
registerTransferCommands(program);
registerConsolidateCommands(program);
registerRelationsCommands(program);
registerCombinedCommands(program);
// After registerCombinedCommands: it adds its subcommands to the `combined` command made there.
registerCombinedMaterializeCommands(program);

try {
  loadConfig();
  await program.parseAsync(process.argv);
} catch (err) {
  // One line, no stack: the reason and, for Braid errors, the stable code.
  const message = err instanceof BraidError ? `${err.message} (${err.code})` : (err as Error).message;
  process.stderr.write(`braid: ${message}\n`);
  process.exitCode = err instanceof BraidError && err.status < 500 ? 2 : 1;
}
