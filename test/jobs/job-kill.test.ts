import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobContext } from '../../src/jobs/job.js';
import { JobQueue } from '../../src/jobs/job-queue.js';
import { META_ENGINES, type MetaFixture } from '../meta/meta-engines.js';

/** Starts job-runner-child.ts on the fixture's store; resolves with the child and its job id. */
async function startRunner(meta: MetaFixture) {
  const child = spawn(
    process.execPath,
    ['--no-node-snapshot', '--import', 'tsx', path.resolve('test/jobs/job-runner-child.ts')],
    {
      env: {
        ...process.env,
        JOB_TEST_DATA_DIR: meta.dataDir,
        JOB_TEST_DATABASE_URL: meta.options.databaseUrl ?? '',
        JOB_TEST_PG_SCHEMA: meta.options.pgSchema ?? '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const jobId = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the runner did not start: ${output}`)), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /running (\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`the runner exited (${code}): ${output}`)));
  });
  return { child, jobId };
}

describe.each(META_ENGINES)('a job whose process is killed, on $name', (engine) => {
  describe.skipIf(!engine.available)('', () => {
    let meta: MetaFixture;
    let queue: JobQueue | null = null;
    beforeEach(async () => {
      meta = await engine.open();
    });
    afterEach(async () => {
      await queue?.stop();
      await meta.cleanup();
    });

    it('becomes interrupted once its lease expires, and resumes elsewhere from its checkpoint', async () => {
      const { child, jobId } = await startRunner(meta);
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGKILL');
      await exited;

      queue = new JobQueue({ store: meta.store, pollMs: 100, leaseMs: 1_500 });
      queue.register('steps', async (ctx: JobContext<{ file: string }>) => ({
        file: ctx.job.params.file,
        from: await ctx.loadCheckpoint<{ step: number }>(),
      }));
      await queue.start();
      const interrupted = await queue.wait(jobId);
      expect(interrupted).toMatchObject({
        status: 'interrupted',
        error: { code: 'job_interrupted' },
        progress: { phase: 'step 1', done: 1, total: 2 },
      });
      await queue.resume(jobId);
      const done = await queue.wait(jobId);
      expect(done).toMatchObject({
        status: 'succeeded',
        attempts: 2,
        owner: queue.owner,
        result: { file: 'big.csv', from: { step: 1 } },
      });
    });
  });
});
