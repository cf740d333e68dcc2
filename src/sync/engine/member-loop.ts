import type { ChangeEvent } from '../../model/change-event.js';
import { applyEvent } from './apply-event.js';
import { backoffMs, isPermanentError, sleep, withRetry } from './retry.js';
import type { MemberRuntime, SyncContext } from './sync-context.js';

/** The serialization of a sync's handlers: members apply one batch at a time, so two events of one
 * entity (one per member) never decide concurrently on stale reads or link the same row twice. */
export type Serializer = <T>(fn: () => Promise<T>) => Promise<T>;

export function serializer(): Serializer {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => undefined);
    return next;
  };
}

/**
 * Applies one event with bounded retries of transient failures; a permanent failure (constraint,
 * transform) goes to the dead-letter list and the batch goes on. A transient failure that outlasts
 * the retries is thrown, so the batch and its position are not acknowledged.
 */
export async function applyWithRetry(
  ctx: SyncContext,
  runtime: MemberRuntime,
  event: ChangeEvent,
): Promise<void> {
  try {
    await withRetry(() => applyEvent(ctx, runtime, event), {
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
  }
}

/** The capture handler of one member (see applyWithRetry); stores the position after the batch. */
function handler(ctx: SyncContext, runtime: MemberRuntime, serialize: Serializer) {
  return (events: ChangeEvent[]) =>
    serialize(async () => {
      for (const event of events) {
        if (ctx.stopping) throw new Error('sync stopping: batch left unacknowledged');
        if (event.origin === ctx.origin) {
          runtime.stats.echoesSkipped++;
          continue;
        }
        await applyWithRetry(ctx, runtime, event);
        runtime.stats.eventsApplied++;
        runtime.stats.lastCommitTime = event.commitTime;
        runtime.stats.lastEventAt = new Date().toISOString();
      }
      const last = events.at(-1);
      if (last) {
        // Only now: every write of the batch succeeded (or was dead-lettered).
        await ctx.store.syncPositions.save(ctx.syncId, runtime.index, last.position);
        runtime.stats.lastPosition = last.position;
      }
    });
}

/**
 * Runs a member's capture until the sync stops: start from the stored position, and when the run
 * fails (a source down, a handler that kept failing), wait with backoff and start again from the
 * stored position, so nothing is lost and nothing acknowledged is applied twice.
 */
export async function runMember(
  ctx: SyncContext,
  runtime: MemberRuntime,
  serialize: Serializer,
): Promise<void> {
  let failures = 0;
  while (!ctx.stopping) {
    const applied = runtime.stats.eventsApplied;
    try {
      const from = await ctx.store.syncPositions.get(ctx.syncId, runtime.index);
      runtime.run = await runtime.strategy.start(from, handler(ctx, runtime, serialize));
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
