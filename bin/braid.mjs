#!/usr/bin/env node
// The `braid` command. It re-executes Node with the flags Braid needs: --no-node-snapshot, which
// isolated-vm (the user JavaScript sandbox) requires on Node >= 20, and, when the compiled build in
// dist/ is missing or older than the sources (a checkout being edited), the TypeScript loader.
// The compiled build starts faster and uses about 35 MB less memory than the loader.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('..', import.meta.url);
const compiled = fileURLToPath(new URL('dist/cli/main.js', root));
const source = fileURLToPath(new URL('src/cli/main.ts', root));

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) {
      newest = Math.max(newest, statSync(`${entry.parentPath ?? entry.path}/${entry.name}`).mtimeMs);
    }
  }
  return newest;
}

function buildIsFresh() {
  try {
    return statSync(compiled).mtimeMs >= newestSource(fileURLToPath(new URL('src', root)));
  } catch {
    return false;
  }
}

// BRAID_RUNTIME=compiled|source overrides the choice (benchmarks pin the compiled build).
const runtime = process.env.BRAID_RUNTIME ?? (buildIsFresh() ? 'compiled' : 'source');
const args =
  runtime === 'compiled'
    ? ['--no-node-snapshot', '--enable-source-maps', compiled]
    : ['--no-node-snapshot', '--import', import.meta.resolve('tsx'), source];
const child = spawn(process.execPath, [...args, ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
