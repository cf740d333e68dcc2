import type { Command } from 'commander';
import { print, withApp } from './output.js';

export function registerAdminCommands(program: Command): void {
  const admin = program.command('admin').description('manage administrators');
  admin
    .command('create')
    .description('create an administrator (or reset the password of an existing one)')
    .requiredOption('--email <email>')
    .option('--password <password>', 'the password (or use --password-env)')
    .option('--password-env <var>', 'read the password from this environment variable')
    .action(async (opts: { email: string; password?: string; passwordEnv?: string }, command: Command) => {
      const password = opts.password ?? (opts.passwordEnv ? process.env[opts.passwordEnv] : undefined);
      if (!password) throw new Error('give --password or --password-env');
      const user = await withApp((app) => app.createAdmin(opts.email, password));
      print(command, user, { rows: [{ id: user.id, email: user.email, role: user.role }] });
    });
}
