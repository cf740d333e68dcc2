#!/usr/bin/env node
// The `braid` command. It re-executes Node with the flags Braid needs: the TypeScript loader, and
// --no-node-snapshot, which isolated-vm (user JavaScript sandbox) requires on Node >= 20.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const loader = import.meta.resolve('tsx');
const child = spawn(
  process.execPath,
  ['--no-node-snapshot', '--import', loader, main, ...process.argv.slice(2)],
  {
    stdio: 'inherit',
  },
);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
