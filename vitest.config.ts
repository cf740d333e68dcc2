import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration files each create their own schema/database, so files run in parallel safely.
    pool: 'forks',
    // isolated-vm (src/sandbox) needs Node's startup snapshot off on Node >= 20; only child processes
    // accept the flag (worker threads refuse it), which is one more reason for the forks pool.
    execArgv: ['--no-node-snapshot'],
  },
});
