import { isBraidError } from '../../model/errors.js';

/**
 * Whether an error means "this event can never be applied as it is" (a constraint violation, a
 * value out of range, a transform error): such events go to the dead-letter list instead of
 * blocking the stream. Everything else (5xx, a lost connection, an unknown failure) is treated as
 * transient and retried, because dropping a change is worse than waiting for a server to return.
 */
export function isPermanentError(err: unknown): boolean {
  return isBraidError(err) && err.status >= 400 && err.status < 500;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Exponential backoff: `baseMs * 2^attempt`, capped at `maxMs`. */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** attempt);
}

export interface RetryOptions {
  /** Attempts in all (default 5). */
  tries?: number;
  baseMs?: number;
  maxMs?: number;
  /** Called before each wait, for logs and status. */
  onRetry?: (err: unknown, attempt: number) => void;
}

/**
 * Runs `fn` until it succeeds, retrying transient errors with backoff. Permanent errors (see
 * isPermanentError) are thrown at once: retrying a constraint violation cannot help. The last
 * transient error is thrown after `tries` attempts, so the caller does not acknowledge the position.
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const tries = options.tries ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (isPermanentError(err) || attempt + 1 >= tries) throw err;
      options.onRetry?.(err, attempt);
      await sleep(backoffMs(attempt, options.baseMs ?? 100, options.maxMs ?? 2_000));
    }
  }
}
