import type { Job, JobProgress } from '../jobs/job.js';

/** A plain (non-TTY) stream gets at most one line per this many milliseconds, plus one per phase. */
const PLAIN_EVERY_MS = 5_000;
const BAR_WIDTH = 20;

const count = (n: number): string => Math.round(n).toLocaleString('en-US');

/** 0:19, 12:05, 1:02:03. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const hours = Math.floor(s / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const secs = String(s % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${secs}` : `${minutes}:${secs}`;
}

function bar(done: number, total: number): string {
  const ratio = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.round(ratio * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%`;
}

/** `phase  [####......]  40%  123,456 / 1,000,000 rows  45,678 rows/s  ETA 0:19`. */
export function progressText(progress: JobProgress, withRate = true): string {
  const parts: string[] = [progress.phase || 'working'];
  const { done, total, unit } = progress;
  if (total !== null) parts.push(bar(done, total));
  parts.push(total !== null ? `${count(done)} / ${count(total)} ${unit}` : `${count(done)} ${unit}`);
  if (withRate && progress.ratePerSec != null) parts.push(`${count(progress.ratePerSec)} ${unit}/s`);
  if (withRate && progress.etaSec != null) parts.push(`ETA ${formatDuration(progress.etaSec)}`);
  return parts.join('  ');
}

function jobLine(job: Job): string {
  if (!job.progress)
    return `${job.title}: ${job.status}${job.status === 'queued' ? ' (waiting for a process that runs jobs)' : ''}`;
  return progressText(job.progress);
}

/**
 * Shows a job's progress on a terminal: one line redrawn in place on a TTY, or on a plain stream
 * (a log file, CI) one line at most every 5 s and at each phase change; `done` prints the outcome.
 *
 * @example
 * const bar = new ProgressBar();
 * const finished = await app.jobs.wait(job.id, { onProgress: (j) => bar.update(j) });
 * bar.done(finished);
 */
export class ProgressBar {
  private lastPlainAt = 0;
  private lastPhase: string | null = null;
  private drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  update(job: Job): void {
    const line = jobLine(job);
    if (this.stream.isTTY) {
      this.stream.write(`\r${this.fit(line)}\x1b[K`);
      this.drawn = true;
      return;
    }
    const phase = job.progress?.phase ?? job.status;
    const now = Date.now();
    if (phase === this.lastPhase && now - this.lastPlainAt < PLAIN_EVERY_MS) return;
    this.lastPhase = phase;
    this.lastPlainAt = now;
    this.stream.write(`${line}\n`);
  }

  done(job: Job): void {
    const parts: string[] = [job.status];
    if (job.progress) parts.push(progressText(job.progress, false));
    if (job.startedAt && job.finishedAt) {
      parts.push(`in ${formatDuration((Date.parse(job.finishedAt) - Date.parse(job.startedAt)) / 1000)}`);
    }
    if (job.error) parts.push(`${job.error.message} (${job.error.code})`);
    const line = parts.join('  ');
    this.stream.write(this.stream.isTTY && this.drawn ? `\r${line}\x1b[K\n` : `${line}\n`);
    this.drawn = false;
  }

  /** Cut to the terminal's width: a wrapped line would no longer be redrawn in place. */
  private fit(line: string): string {
    const width = this.stream.columns;
    return width && line.length >= width ? line.slice(0, Math.max(0, width - 1)) : line;
  }
}
