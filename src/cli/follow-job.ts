import type { Job } from '../jobs/job.js';
import type { BraidApp } from '../services/braid-app.js';
import { ProgressBar } from './progress-bar.js';

/**
 * Follows a job this process runs, with a progress bar on stderr (rows done, rows/s, ETA). Ctrl-C
 * stops the queue here, which leaves the job `interrupted`: `braid jobs resume ID` (or the
 * command's own resume) continues it later.
 */
export async function followJob(app: BraidApp, id: string): Promise<Job> {
  const bar = new ProgressBar();
  const onInterrupt = () => void app.jobs.stop();
  process.once('SIGINT', onInterrupt);
  try {
    const finished = await app.jobs.wait(id, { onProgress: (job) => bar.update(job) });
    bar.done(finished);
    return finished;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
}
