import { describe, expect, it } from 'vitest';
import { ProgressBar, formatDuration, progressText } from '../../src/cli/progress-bar.js';
import type { Job, JobProgress } from '../../src/jobs/job.js';
import { ProgressTracker } from '../../src/jobs/progress-tracker.js';

function fakeStream(isTTY: boolean, columns = 200) {
  const writes: string[] = [];
  const stream = { isTTY, columns, write: (text: string) => writes.push(text) > 0 };
  return { stream: stream as unknown as NodeJS.WriteStream, writes };
}

function job(progress: JobProgress | null, extra: Partial<Job> = {}): Job {
  return {
    id: 'j1',
    kind: 'import',
    title: 'Import customers.csv',
    status: 'running',
    params: {},
    progress,
    result: null,
    error: null,
    createdBy: null,
    owner: 'here',
    attempts: 1,
    cancelRequested: false,
    createdAt: '2026-01-01T00:00:00.000Z',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: null,
    updatedAt: '2026-01-01T00:00:01.000Z',
    ...extra,
  };
}

const copying: JobProgress = {
  phase: 'copy',
  done: 123_456,
  total: 1_000_000,
  unit: 'rows',
  ratePerSec: 45_678.4,
  etaSec: 19,
};

describe('progress tracker', () => {
  it('computes rate and ETA from done over time, and starts over on a new phase', () => {
    let now = 0;
    const tracker = new ProgressTracker(null, () => now);
    expect(tracker.snapshot()).toBeNull();
    tracker.update({ phase: 'copy', done: 0, total: 10_000, unit: 'rows' });
    expect(tracker.dirty).toBe(true);
    expect(tracker.snapshot()).toMatchObject({ ratePerSec: null, etaSec: null });
    expect(tracker.dirty).toBe(false);
    now = 1_000;
    tracker.update({ done: 1_000 });
    expect(tracker.snapshot()).toMatchObject({
      phase: 'copy',
      done: 1_000,
      total: 10_000,
      ratePerSec: 1_000,
      etaSec: 9,
    });
    now = 2_000;
    tracker.update({ done: 3_000 });
    expect(tracker.snapshot()).toMatchObject({ ratePerSec: 1_500, etaSec: 5 });
    // Far later: only the last seconds count.
    for (let t = 3_000; t <= 30_000; t += 500) {
      now = t;
      tracker.update({ done: 3_000 + (t - 2_000) * 10 });
      tracker.snapshot();
    }
    expect(tracker.snapshot()!.ratePerSec).toBeCloseTo(10_000, -2);
    now = 31_000;
    tracker.update({ phase: 'index', done: 0, total: null, unit: 'indexes' });
    expect(tracker.snapshot()).toEqual({
      phase: 'index',
      done: 0,
      total: null,
      unit: 'indexes',
      ratePerSec: null,
      etaSec: null,
    });
  });
});

describe('progress bar', () => {
  it('formats counts, rate, ETA and a 20-character bar', () => {
    expect(formatDuration(19)).toBe('0:19');
    expect(formatDuration(725)).toBe('12:05');
    expect(formatDuration(3723)).toBe('1:02:03');
    expect(progressText(copying)).toBe(
      'copy  [##..................]  12%  123,456 / 1,000,000 rows  45,678 rows/s  ETA 0:19',
    );
    expect(progressText({ phase: 'scan', done: 42, total: null, unit: 'files', ratePerSec: null })).toBe(
      'scan  42 files',
    );
  });

  it('redraws one line on a TTY and ends it with the status', () => {
    const { stream, writes } = fakeStream(true);
    const bar = new ProgressBar(stream);
    bar.update(job(copying));
    bar.update(job({ ...copying, done: 500_000 }));
    expect(writes).toHaveLength(2);
    expect(writes[1]).toMatch(/^\rcopy {2}\[#{10}\.{10}\] {2}50% {2}500,000 \/ 1,000,000 rows/);
    expect(writes[1]).not.toContain('\n');
    bar.done(
      job({ ...copying, done: 1_000_000 }, { status: 'succeeded', finishedAt: '2026-01-01T00:00:21.000Z' }),
    );
    expect(writes[2]).toBe(
      '\rsucceeded  copy  [####################] 100%  1,000,000 / 1,000,000 rows  in 0:21\x1b[K\n',
    );
  });

  it('writes plain lines at most every 5 s and on each phase change when not a TTY', () => {
    const { stream, writes } = fakeStream(false);
    const bar = new ProgressBar(stream);
    bar.update(job(copying));
    bar.update(job({ ...copying, done: 200_000 }));
    bar.update(job({ ...copying, done: 300_000 }));
    bar.update(job({ phase: 'index', done: 0, total: 3, unit: 'indexes' }));
    expect(writes).toEqual([
      `${progressText(copying)}\n`,
      `index  [....................]   0%  0 / 3 indexes\n`,
    ]);
    bar.done(job(null, { status: 'failed', error: { code: 'bad_rows', message: 'row 3 has no email' } }));
    expect(writes[2]).toBe('failed  row 3 has no email (bad_rows)\n');
  });
});
