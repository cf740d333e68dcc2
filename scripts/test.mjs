// The README's test command: type check, lint, then every test (unit, integration, conformance)
// against the real servers. Exits non-zero on the first failing step.
import { spawnSync } from 'node:child_process';

const steps = [
  ['tsc', ['--noEmit']],
  ['eslint', ['.']],
  ['vitest', ['run', ...process.argv.slice(2)]],
];
for (const [tool, args] of steps) {
  console.log(`\n> ${tool} ${args.join(' ')}`);
  const result = spawnSync('npx', ['--no-install', tool, ...args], { stdio: 'inherit', env: process.env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
