import type { CaptureRun, ChangeHandler } from '../capture-strategy.js';
import type { ChangeEvent } from '../../model/change-event.js';

/** One read of a polling source: the events after `position`, in order (empty when nothing new). */
export type ReadBatch = (position: string | null) => Promise<ChangeEvent[]>;

export interface PollLoopOptions {
  /** Pause between polls when the last one found nothing (ms). */
  intervalMs: number;
  /** Consecutive failed reads after which the run ends with the error (`done` rejects). */
  maxReadFailures: number;
  /** Called after the handler resolved for a batch, with the new and the previous acknowledged position. */
  onAcknowledged?: (position: string, previous: string | null) => Promise<void>;
}

/** A CaptureRun that can also be told to poll at once (tests, "sync now" buttons). */
export interface PollingRun extends CaptureRun {
  /** Polls immediately (instead of waiting for the interval) and resolves when that poll has finished. */
  pollNow(): Promise<void>;
}

/**
 * The loop every polling strategy shares: read a batch after the acknowledged position, hand it to
 * the handler, and only when the handler resolved move the position on. A handler that throws gets
 * the same events again on the next poll (delivery is at least once); a source that fails to
 * answer `maxReadFailures` times in a row ends the run.
 */
export function startPollLoop(
  from: string | null,
  read: ReadBatch,
  handler: ChangeHandler,
  options: PollLoopOptions,
): PollingRun {
  let position = from;
  let stopped = false;
  let ended = false;
  let readFailures = 0;
  let wake: (() => void) | null = null;
  let running = false;
  let completed = 0;
  let waiters: { target: number; resolve: () => void }[] = [];

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        wake = null;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        wake = null;
        resolve();
      };
    });

  /** One poll: answers whether more may be waiting (a full batch was handled). */
  const cycle = async (): Promise<boolean> => {
    let events: ChangeEvent[];
    try {
      events = await read(position);
      readFailures = 0;
    } catch (err) {
      if (++readFailures >= options.maxReadFailures) throw err;
      return false;
    }
    if (events.length === 0) return false;
    try {
      await handler(events);
    } catch {
      // The consumer failed: keep the position so the same events come again after the pause.
      return false;
    }
    const previous = position;
    position = events[events.length - 1]!.position;
    // Clean-up after an acknowledgement (pruning delivered rows) may fail without harm: the next
    // acknowledgement retries it; it must not end the run.
    await options.onAcknowledged?.(position, previous).catch(() => undefined);
    return true;
  };

  const done = (async () => {
    while (!stopped) {
      let more = false;
      running = true;
      try {
        more = await cycle();
      } finally {
        running = false;
        completed++;
        const ready = waiters.filter((w) => w.target <= completed);
        waiters = waiters.filter((w) => w.target > completed);
        for (const w of ready) w.resolve();
      }
      if (!more && !stopped) await sleep(options.intervalMs);
    }
  })();
  // A fatal error is reported through `done`; keep it from also being an unhandled rejection.
  done
    .catch(() => undefined)
    .finally(() => {
      ended = true;
    });

  return {
    get lastPosition() {
      return position;
    },
    done,
    async stop() {
      stopped = true;
      wake?.();
      await done.catch(() => undefined);
      for (const w of waiters.splice(0)) w.resolve();
    },
    pollNow() {
      if (stopped || ended) return Promise.resolve();
      // A cycle already running may have read before this call: wait for the one after it.
      const target = completed + (running ? 2 : 1);
      return new Promise<void>((resolve) => {
        waiters.push({ target, resolve });
        wake?.();
      });
    },
  };
}
