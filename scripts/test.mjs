// The README's test command: type check, lint, then every test (unit, integration, conformance)
// against the real servers. Exits non-zero on the first failing step and ends with one plain
// summary line ("N passed, N failed, N skipped").
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function run(tool, args) {
  console.log(`\n> ${tool} ${args.join(' ')}`);
  const result = spawnSync('npx', ['--no-install', tool, ...args], { stdio: 'inherit', env: process.env });
  return result.status ?? 1;
}

// The tests need the servers up and configured (logical WAL, row binlog, TLS, probe roles). The
// setup script is idempotent and quick when nothing changes; it needs root, as on CI machines.
// BRAID_SKIP_SERVICES=1 skips it (servers managed elsewhere, URLs from BRAID_TEST_*).
if (process.env.BRAID_SKIP_SERVICES !== '1') {
  if (process.getuid?.() === 0) {
    console.log('> bash scripts/ensure-services.sh');
    const services = spawnSync('bash', ['scripts/ensure-services.sh'], { stdio: 'inherit' });
    if (services.status !== 0) process.exit(services.status ?? 1);
  } else {
    console.log('not root: assuming the test servers are up and configured (see npm run services)');
  }
}

for (const [tool, args] of [
  ['tsc', ['--noEmit']],
  ['eslint', ['.']],
]) {
  const status = run(tool, args);
  if (status !== 0) process.exit(status);
}

const dir = mkdtempSync(join(tmpdir(), 'braid-test-'));
const report = join(dir, 'vitest.json');
const status = run('vitest', [
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
  ...process.argv.slice(2),
]);
try {
  const results = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = results.numPendingTests + results.numTodoTests;
  console.log(`\n${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`);
  if (results.numTotalTests === 0) {
    console.log('no test ran');
    process.exit(1);
  }
} catch {
  console.log('the test runner wrote no report');
  process.exit(status || 1);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
