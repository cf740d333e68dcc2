/**
 * A process that runs one job and hangs in it, for job-kill.test.ts to SIGKILL: it opens the
 * metadata store given in the environment, submits a `steps` job run here with a short lease, saves
 * a checkpoint, prints the job id and waits forever.
 */
import { JobQueue } from '../../src/jobs/job-queue.js';
import { openMetaStore } from '../../src/meta/meta-store.js';

const store = await openMetaStore({
  dataDir: process.env.JOB_TEST_DATA_DIR!,
  databaseUrl: process.env.JOB_TEST_DATABASE_URL || undefined,
  pgSchema: process.env.JOB_TEST_PG_SCHEMA || undefined,
});
const queue = new JobQueue({ store, leaseMs: 1_000, heartbeatMs: 200 });
queue.register('steps', async (ctx) => {
  await ctx.saveCheckpoint({ step: 1 });
  ctx.progress({ phase: 'step 1', done: 1, total: 2, unit: 'steps' });
  // Long enough for the progress to be flushed (at once for the first update).
  await new Promise((resolve) => setTimeout(resolve, 300));
  process.stdout.write(`running ${ctx.job.id}\n`);
  await new Promise(() => {});
});
await queue.submit('steps', { file: 'big.csv' }, { runHere: true });
