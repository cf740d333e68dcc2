import type { Command } from 'commander';
import { JOB_STATUSES, type Job, type JobStatus } from '../jobs/job.js';
import { badRequest } from '../model/errors.js';
import type { BraidApp } from '../services/braid-app.js';
import { followJob } from './follow-job.js';
import { progressText } from './progress-bar.js';
import { print, wantsJson, withApp } from './output.js';

function summary(job: Job): Record<string, unknown> {
  return {
    id: job.id,
    kind: job.kind,
    title: job.title,
    status: job.cancelRequested && job.status === 'running' ? 'running (cancelling)' : job.status,
    progress: job.progress ? progressText(job.progress, false) : '',
    created: job.createdAt.replace('T', ' ').slice(0, 19),
  };
}

/**
 * `braid jobs ...`: the durable jobs (imports, consolidations...) of every process sharing the
 * metadata store. `resume --wait` runs the job in this process and shows its progress; without
 * it the job is queued for a `braid start` or `braid worker` process.
 */
export function registerJobsCommands(program: Command): void {
  const jobs = program.command('jobs').description('imports, consolidations and other long-running jobs');

  jobs
    .command('list')
    .description('list jobs, newest first')
    .option('--kind <kind>', 'only jobs of this kind')
    .option('--status <status>', `only jobs in this status (${JOB_STATUSES.join(', ')})`)
    .option('--limit <n>', 'at most this many', '50')
    .action(async (opts: { kind?: string; status?: string; limit: string }, command: Command) => {
      if (opts.status !== undefined && !JOB_STATUSES.includes(opts.status as JobStatus)) {
        throw badRequest('invalid_status', `--status must be one of ${JOB_STATUSES.join(', ')}`);
      }
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw badRequest('invalid_limit', '--limit must be a positive integer');
      const list = await withApp((app) =>
        app.jobs.list({
          ...(opts.kind !== undefined ? { kind: opts.kind } : {}),
          ...(opts.status !== undefined ? { status: opts.status as JobStatus } : {}),
          limit,
        }),
      );
      print(command, list, { rows: list.map(summary) });
    });

  jobs
    .command('show <id>')
    .description('show a job: status, progress, result or error')
    .action(async (id: string, _opts, command: Command) => {
      print(command, await withApp((app) => app.jobs.get(id)));
    });

  jobs
    .command('logs <id>')
    .description("print a job's log")
    .option('--after <seq>', 'only lines after this sequence number', '0')
    .action(async (id: string, opts: { after: string }, command: Command) => {
      const logs = await withApp((app) =>
        app.jobs.logs(id, { afterSeq: Number(opts.after) || 0, limit: 10_000 }),
      );
      if (wantsJson(command)) return print(command, logs);
      for (const line of logs) {
        const details = line.details ? ` ${JSON.stringify(line.details)}` : '';
        process.stdout.write(`${line.seq}  ${line.at}  ${line.level.padEnd(5)}  ${line.message}${details}\n`);
      }
    });

  jobs
    .command('cancel <id>')
    .description('cancel a job: at once when queued, at its next heartbeat when running')
    .action(async (id: string, _opts, command: Command) => {
      const job = await withApp((app) => app.jobs.cancel(id));
      print(command, job, { rows: [summary(job)] });
    });

  jobs
    .command('resume <id>')
    .description('run a failed, cancelled or interrupted job again from its checkpoint')
    .option('--wait', 'run it in this process and show its progress until it ends')
    .action(async (id: string, opts: { wait?: boolean }, command: Command) => {
      if (!opts.wait) {
        const job = await withApp((app) => app.jobs.resume(id));
        if (wantsJson(command)) return print(command, job);
        process.stdout.write(
          `job ${job.id} queued again: a braid start or braid worker process will run it\n`,
        );
        return;
      }
      const finished = await withApp((app) => resumeHere(app, id));
      if (wantsJson(command)) print(command, finished);
      if (finished.status !== 'succeeded') process.exitCode = 1;
    });
}

/**
 * Resumes in this process when it can run the job's kind (else it is queued and followed), shows
 * the progress, and on Ctrl-C stops the job here as interrupted, resumable again later.
 */
async function resumeHere(app: BraidApp, id: string): Promise<Job> {
  const current = await app.jobs.get(id);
  const runHere = app.jobs.handles(current.kind);
  await app.jobs.resume(id, { runHere });
  return followJob(app, id, { runsHere: runHere });
}
