import { describe, expect, it } from 'vitest';
import { BraidError } from '../../model/errors.js';
import { backoffMs, isPermanentError, withRetry } from './retry.js';

describe('withRetry', () => {
  it('retries transient failures until one succeeds', async () => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw new BraidError(503, 'source_unavailable', 'down');
        return 'ok';
      },
      { baseMs: 1 },
    );
    expect([result, calls]).toEqual(['ok', 3]);
  });

  it('gives up after the bounded number of tries with the last error', async () => {
    let calls = 0;
    const failing = withRetry(
      async () => {
        calls++;
        throw new Error(`connection reset ${calls}`);
      },
      { tries: 4, baseMs: 1 },
    );
    await expect(failing).rejects.toThrow('connection reset 4');
    expect(calls).toBe(4);
  });

  it('throws a permanent error (4xx) at once: retrying a constraint cannot help', async () => {
    let calls = 0;
    const failing = withRetry(async () => {
      calls++;
      throw new BraidError(400, 'check_violation', 'violates check constraint');
    });
    await expect(failing).rejects.toThrow('check constraint');
    expect(calls).toBe(1);
    expect(isPermanentError(new BraidError(500, 'x', 'y'))).toBe(false);
    expect(isPermanentError(new Error('ECONNRESET'))).toBe(false);
  });

  it('backs off exponentially up to the cap', () => {
    expect([0, 1, 2, 10].map((n) => backoffMs(n, 100, 2_000))).toEqual([100, 200, 400, 2_000]);
  });
});
