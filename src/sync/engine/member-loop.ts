import type { ChangeEvent } from '../../model/change-event.js';
import { applyEvent } from './apply-event.js';
import { backoffMs, isPermanentError, sleep, withRetry } from './retry.js';
import type { MemberRuntime, SyncContext } from './sync-context.js';

/**
 * Applies one event with bounded retries of transient failures; a permanent failure (constraint,
 * transform) goes to the dead-letter list and the batch goes on. A transient failure that outlasts
 * the retries is thrown, so the batch and its position are not acknowledged. Answers the rows
 * written, or null when the event was dead-lettered.
 */
export async function applyWithRetry(
  ctx: SyncContext,
  runtime: MemberRuntime,
  event: ChangeEvent,
): Promise<number | null> {
  try {
    return await withRetry(() => applyEvent(ctx, runtime, event), {
      onRetry: (err, attempt) => {
        // Counted and shown at once, so a target that is down is visible before the retries run out.
        runtime.stats.errors++;
        runtime.stats.lastError = (err as Error).message;
        ctx.logger.warn(`sync ${ctx.syncId}: retrying an event of member ${runtime.index}`, {
          attempt: attempt + 1,
          error: (err as Error).message,
        });
      },
    });
  } catch (err) {
    if (!isPermanentError(err)) throw err;
    runtime.stats.errors++;
    runtime.stats.lastError = (err as Error).message;
    await ctx.store.syncDeadLetters.add({
      syncId: ctx.syncId,
      member: runtime.index,
      event,
      reason: (err as Error).message,
    });
    return null;
  }
}

/** Updates of different rows do not depend on each other: up to this many are applied at once. */
const APPLY_CONCURRENCY = 8;

/**
 * The capture handler of one member (see applyWithRetry); stores the position after the batch.
 * Under load a batch holds many transactions: database round trips are most of an event's cost,
 * so updates of different rows are applied concurrently, each row's updates in order. Inserts,
 * deletes and key changes create or remove links other events may look for: they run alone, in
 * their place.
 */
function handler(ctx: SyncContext, runtime: MemberRuntime) {
  const applyOne = async (event: ChangeEvent) => {
    if (ctx.stopping) throw new Error('sync stopping: batch left unacknowledged');
    const writes = await applyWithRetry(ctx, runtime, event);
    runtime.stats.eventsApplied++;
    if (writes === 0) runtime.stats.noopEvents++;
    if (runtime.stats.lastCommitTime === null || event.commitTime > runtime.stats.lastCommitTime) {
      runtime.stats.lastCommitTime = event.commitTime;
    }
    runtime.stats.lastEventAt = new Date().toISOString();
  };
  const handle = (events: ChangeEvent[]) =>
    ctx.serialize(async () => {
      runtime.stats.applyingSince = events[0]?.commitTime ?? null;
      try {
        await applyBatch(events);
      } finally {
        runtime.stats.applyingSince = null;
      }
    });
  const applyBatch = async (events: ChangeEvent[]) => {
    let lanes = new Map<string, ChangeEvent[]>();
    const runLanes = async () => {
      await inLanes([...lanes.values()], applyOne);
      lanes = new Map();
    };
    for (const event of events) {
      if (event.origin === ctx.origin) {
        runtime.stats.echoesSkipped++;
        continue;
      }
      if (event.op !== 'update' || changesKey(runtime, event)) {
        await runLanes();
        await applyOne(event);
        continue;
      }
      const lane = JSON.stringify(event.key);
      const queued = lanes.get(lane);
      if (queued) queued.push(event);
      else lanes.set(lane, [event]);
    }
    await runLanes();
    const last = events.at(-1);
    if (last) {
      // Only now: every write of the batch succeeded (or was dead-lettered).
      await ctx.store.syncPositions.save(ctx.syncId, runtime.index, last.position);
      runtime.stats.lastPosition = last.position;
    }
  };
  return handle;
}

/**
 * Runs each lane's events in order, APPLY_CONCURRENCY lanes at a time. Every lane is let finish
 * (or fail) before the first failure is thrown, so nothing of a failed batch still runs when the
 * capture restarts.
 */
async function inLanes(lanes: ChangeEvent[][], apply: (event: ChangeEvent) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(APPLY_CONCURRENCY, lanes.length) }, async () => {
    while (next < lanes.length) {
      for (const event of lanes[next++]!) await apply(event);
    }
  });
  const failed = (await Promise.allSettled(workers)).find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/** An update that changes the row's primary key (the new key is in `after`). */
function changesKey(runtime: MemberRuntime, event: ChangeEvent): boolean {
  return runtime.table.primaryKey.some(
    (column) =>
      event.after !== undefined &&
      column in event.after &&
      !sameValue(event.after[column], event.key[column]),
  );
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Runs a member's capture until the sync stops: start from the stored position, and when the run
 * fails (a source down, a handler that kept failing), wait with backoff and start again from the
 * stored position, so nothing is lost and nothing acknowledged is applied twice.
 */
export async function runMember(ctx: SyncContext, runtime: MemberRuntime): Promise<void> {
  let failures = 0;
  while (!ctx.stopping) {
    const applied = runtime.stats.eventsApplied;
    try {
      const from = await ctx.store.syncPositions.get(ctx.syncId, runtime.index);
      runtime.run = await runtime.strategy.start(from, handler(ctx, runtime));
      await runtime.run.done;
      if (ctx.stopping) return;
      throw new Error('capture run ended without being stopped');
    } catch (err) {
      runtime.run = null;
      if (ctx.stopping) return;
      runtime.stats.errors++;
      runtime.stats.lastError = (err as Error).message;
      // A run that made progress before failing starts the backoff again from the bottom.
      failures = runtime.stats.eventsApplied > applied ? 0 : failures + 1;
      ctx.logger.error(`sync ${ctx.syncId}: capture of member ${runtime.index} failed, restarting`, {
        error: (err as Error).message,
        failures,
      });
      await Promise.race([sleep(backoffMs(failures, 250, 30_000)), ctx.stopped]);
    }
  }
}
