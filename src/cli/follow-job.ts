import type { Job } from '../jobs/job.js';
import type { BraidApp } from '../services/braid-app.js';
import { ProgressBar } from './progress-bar.js';

/**
 * Follows a job with a progress bar on stderr (rows done, rows/s, ETA) until it ends. Ctrl-C: a job
 * this process runs is stopped here and left `interrupted` (resume it later); a job another
 * process runs keeps running there, and only the following stops.
 */
export async function followJob(
  app: BraidApp,
  id: string,
  options: { runsHere?: boolean } = {},
): Promise<Job> {
  const runsHere = options.runsHere ?? true;
  const bar = new ProgressBar();
  const following = new AbortController();
  const onInterrupt = () => {
    // Run here: stopping the queue writes `interrupted`, which ends the wait below.
    if (runsHere) void app.jobs.stop();
    else following.abort(new Error('stopped following the job; it keeps running in another process'));
  };
  process.once('SIGINT', onInterrupt);
  try {
    const finished = await app.jobs.wait(id, {
      onProgress: (job) => bar.update(job),
      signal: following.signal,
    });
    bar.done(finished);
    return finished;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}
