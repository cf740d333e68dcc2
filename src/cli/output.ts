import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { openBraidApp, type BraidApp } from '../services/braid-app.js';
import { formatTable } from './format-table.js';

export function wantsJson(command: Command): boolean {
  return Boolean(command.optsWithGlobals().json);
}

/** Prints data as JSON for scripts, or as a table / lines for people. */
export function print(
  command: Command,
  data: unknown,
  table?: { rows: Record<string, unknown>[]; columns?: string[] },
): void {
  if (wantsJson(command) || !table) {
    process.stdout.write(`${JSON.stringify(data, null, wantsJson(command) ? 0 : 2)}\n`);
    return;
  }
  process.stdout.write(`${formatTable(table.rows, table.columns)}\n`);
}

/** Opens the app on the configured data dir for one command and closes it afterwards. */
export async function withApp<T>(fn: (app: BraidApp) => Promise<T>): Promise<T> {
  const app = await openBraidApp(loadConfig());
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}
