import type { JobProgress } from './job.js';

/** How far back the rate looks: long enough to smooth uneven batches, short enough to follow changes. */
const RATE_WINDOW_MS = 10_000;
/** Below this much elapsed time a rate is noise. */
const MIN_RATE_SPAN_MS = 200;

interface Sample {
  at: number;
  done: number;
}

/**
 * A running job's progress in memory: merges the handler's partial updates (cheap, per batch) and
 * computes rate and ETA from `done` over the last seconds of the current phase when a snapshot is
 * taken for the store. A new phase starts a new rate.
 */
export class ProgressTracker {
  private current: JobProgress | null;
  private samples: Sample[] = [];
  private changed = false;

  constructor(
    initial: JobProgress | null,
    private readonly now: () => number = Date.now,
  ) {
    this.current = initial;
  }

  /** True when an update arrived since the last snapshot. */
  get dirty(): boolean {
    return this.changed;
  }

  update(update: Partial<JobProgress>): void {
    const previous = this.current;
    const next: JobProgress = {
      phase: update.phase ?? previous?.phase ?? '',
      done: update.done ?? previous?.done ?? 0,
      total: update.total !== undefined ? update.total : (previous?.total ?? null),
      unit: update.unit ?? previous?.unit ?? 'items',
    };
    if (!previous || next.phase !== previous.phase || next.done < previous.done) this.samples = [];
    if (this.samples.length === 0) this.samples.push({ at: this.now(), done: next.done });
    this.current = next;
    this.changed = true;
  }

  /** The progress to store, with rate and ETA; clears `dirty`. */
  snapshot(): JobProgress | null {
    this.changed = false;
    const current = this.current;
    if (!current) return null;
    const at = this.now();
    this.samples.push({ at, done: current.done });
    // Keep one sample older than the window, so the rate always spans at least the window.
    while (this.samples.length > 2 && at - this.samples[1]!.at >= RATE_WINDOW_MS) this.samples.shift();
    const first = this.samples[0]!;
    const span = at - first.at;
    const ratePerSec = span >= MIN_RATE_SPAN_MS ? ((current.done - first.done) * 1000) / span : null;
    const etaSec =
      ratePerSec && ratePerSec > 0 && current.total !== null
        ? Math.max(0, Math.round((current.total - current.done) / ratePerSec))
        : null;
    return {
      ...current,
      ratePerSec: ratePerSec === null ? null : Math.round(ratePerSec * 100) / 100,
      etaSec,
    };
  }
}
