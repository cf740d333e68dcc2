import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** The launcher people run, so tests go through the same entry point (and build check) as they do. */
export const BIN = path.resolve('bin/braid.mjs');

/** Runs `braid ...args` on a data dir and answers its exit code and output. */
export function braid(dataDir: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, BRAID_DATA_DIR: dataDir, BRAID_DEMO: '0', ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
