import { afterAll, describe, expect, it } from 'vitest';
import { BraidError } from '../model/errors.js';
import { createSandbox } from './sandbox.js';

async function failure(promise: Promise<unknown>): Promise<BraidError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (err: unknown) => ({ err }),
  );
  if (!('err' in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.err).toBeInstanceOf(BraidError);
  return outcome.err as BraidError;
}

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = performance.now();
  const result = await run();
  return { ms: performance.now() - start, result };
}

const sandbox = createSandbox({ memoryLimitMb: 64, timeoutMs: 1000 });
afterAll(() => sandbox.close());

describe('time limit', () => {
  it('runs with the flag isolated-vm needs', () => {
    expect(process.execArgv).toContain('--no-node-snapshot');
  });

  it('kills an endless loop at the time limit, and works afterwards', async () => {
    const { ms, result: err } = await timed(() =>
      failure(sandbox.runFunction('while (true) {}', { steps: {} }, { details: { rowKey: 5 } })),
    );
    expect(err.code).toBe('sandbox_timeout');
    expect(err.message).toBe('The function `while (true) {}` did not finish within 1000 ms (row 5)');
    expect(err.details).toMatchObject({ rowKey: 5, timeoutMs: 1000, expression: 'while (true) {}' });
    expect(ms).toBeGreaterThanOrEqual(950);
    expect(ms).toBeLessThan(5000);
    expect(await sandbox.evaluate('value + 1', { value: 1 })).toBe(2);
  });

  it('leaves the host’s event loop free while user code loops', async () => {
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 20);
    try {
      const err = await failure(sandbox.runFunction('for (;;) {}', {}, { timeoutMs: 500 }));
      expect(err.code).toBe('sandbox_timeout');
    } finally {
      clearInterval(timer);
    }
    // isolated-vm runs the isolate on its own thread; a blocked main thread would not tick at all.
    expect(ticks).toBeGreaterThan(10);
  });

  it('kills the same code again on a later row and still answers the rows that finish', async () => {
    const expression = 'value ? value * 2 : (() => { for (;;) {} })()';
    expect(await sandbox.evaluate(expression, { value: 2 }, { timeoutMs: 100 })).toBe(4);
    expect((await failure(sandbox.evaluate(expression, { value: 0 }, { timeoutMs: 100 }))).code).toBe(
      'sandbox_timeout',
    );
    expect(await sandbox.evaluate(expression, { value: 3 }, { timeoutMs: 100 })).toBe(6);
    expect((await failure(sandbox.evaluate(expression, { value: 0 }, { timeoutMs: 100 }))).code).toBe(
      'sandbox_timeout',
    );
  });

  it('counts work done after an await against the limit', async () => {
    const err = await failure(sandbox.runFunction('await null; for (;;) {}', {}, { timeoutMs: 200 }));
    expect(err.code).toBe('sandbox_timeout');
  });

  it('ends a promise that nothing can settle without waiting for the limit', async () => {
    const { ms, result: err } = await timed(() =>
      failure(sandbox.runFunction('await new Promise(() => {})', {}, { timeoutMs: 20_000 })),
    );
    expect(err.code).toBe('sandbox_timeout');
    expect(err.details).toMatchObject({ neverSettles: true });
    // Far below the 20 s limit it was given: reported at once, not waited out (margin for busy CPUs).
    expect(ms).toBeLessThan(10_000);
  });

  it('starts each call’s clock when it runs, not while it waits behind others', async () => {
    const busy = 'const end = Date.now() + 300; while (Date.now() < end) {} return trigger.n';
    const calls = [1, 2, 3].map((n) => sandbox.runFunction(busy, { trigger: { n } }, { timeoutMs: 600 }));
    expect(await Promise.all(calls)).toEqual([1, 2, 3]);
  });

  it('reports runaway recursion as the code’s own error', async () => {
    const err = await failure(sandbox.runFunction('const f = (n) => f(n + 1) + 1; return f(0)', {}));
    expect(err.code).toBe('sandbox_error');
    expect(err.details).toMatchObject({
      errorName: 'RangeError',
      errorMessage: 'Maximum call stack size exceeded',
    });
  });
});

describe('memory limit', () => {
  const bomb = 'const a = []; while (true) a.push(new Array(1e6).fill(1))';

  it('stops a memory bomb without harming the host, and works afterwards', async () => {
    const hostHeapBefore = process.memoryUsage().heapUsed;
    expect(await sandbox.evaluate('value.trim()', { value: ' cached ' })).toBe('cached');
    const err = await failure(sandbox.runFunction(bomb, { steps: {} }, { details: { rowKey: 'r-1' } }));
    expect(err.code).toBe('sandbox_memory');
    expect(err.message).toBe(`The function \`${bomb}\` used more than the 64 MB memory limit (row "r-1")`);
    expect(err.details).toMatchObject({ rowKey: 'r-1', memoryLimitMb: 64 });
    // The bomb filled the isolate's heap, not the host's.
    expect(process.memoryUsage().heapUsed - hostHeapBefore).toBeLessThan(32 * 1024 * 1024);
    // A fresh isolate answers, including code that was compiled in the disposed one.
    expect(await sandbox.evaluate('value.trim()', { value: ' again ' })).toBe('again');
    expect(await sandbox.runFunction('return steps.n * 2', { steps: { n: 21 } })).toBe(42);
  });

  it('runs the calls queued behind a bomb on the fresh isolate', async () => {
    // Both codes compiled first, so that the calls below reach the isolate's queue in call order.
    expect(await sandbox.evaluate('value * 10', { value: 0 })).toBe(0);
    await sandbox.check('function', bomb, []);
    const queued = [1, 2, 3].map((n) => sandbox.evaluate('value * 10', { value: n }));
    const exploding = sandbox.runFunction(bomb, {});
    const after = [4, 5].map((n) => sandbox.evaluate('value * 10', { value: n }));
    expect(await Promise.all(queued)).toEqual([10, 20, 30]);
    expect((await failure(exploding)).code).toBe('sandbox_memory');
    expect(await Promise.all(after)).toEqual([40, 50]);
  });

  it('refuses a single allocation larger than the limit', async () => {
    const err = await failure(sandbox.evaluate('new ArrayBuffer(512 * 1024 * 1024).byteLength', {}));
    expect(err.code).toBe('sandbox_error');
    expect(err.details).toMatchObject({ errorName: 'RangeError' });
    expect(await sandbox.evaluate('new ArrayBuffer(1024).byteLength', {})).toBe(1024);
  });

  it('honours a smaller limit', async () => {
    const small = createSandbox({ memoryLimitMb: 16 });
    try {
      const err = await failure(
        small.runFunction('const s = []; for (;;) s.push("x".repeat(1e5) + s.length)', {}),
      );
      expect(err.code).toBe('sandbox_memory');
      expect(err.details).toMatchObject({ memoryLimitMb: 16 });
      expect(await small.evaluate('[1, 2, 3].map((n) => n * n)', {})).toEqual([1, 4, 9]);
    } finally {
      await small.close();
    }
  });
});
