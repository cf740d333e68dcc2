import { afterAll, describe, expect, it } from 'vitest';
import { BraidError } from '../model/errors.js';
import { createSandbox } from './sandbox.js';

const sandbox = createSandbox();
afterAll(() => sandbox.close());

/** What an escape attempt ended in: its value, or the code and message of the error it threw. */
async function outcome(
  run: Promise<unknown>,
): Promise<{ value: unknown } | { code: string; message: string }> {
  try {
    return { value: await run };
  } catch (err) {
    if (!(err instanceof BraidError)) throw err;
    return { code: err.code, message: String(err.details?.['errorMessage'] ?? err.message) };
  }
}

describe('nothing of the host is reachable', () => {
  const escapes: [string, string][] = [
    ['process', 'process is not defined'],
    ["require('fs')", 'require is not defined'],
    ["module.require('fs')", 'module is not defined'],
    [
      "this.constructor.constructor('return process')()",
      "Cannot read properties of undefined (reading 'constructor')",
    ],
    ["[].constructor.constructor('return process')()", 'process is not defined'],
    ["({}).constructor.constructor('return process')()", 'process is not defined'],
    ["(async () => {}).constructor('return process')()", 'process is not defined'],
    ['Function(\'return this.constructor.constructor("return process")()\')()', 'process is not defined'],
    ["eval('process')", 'process is not defined'],
    ["(0, eval)('require')", 'require is not defined'],
    ["import('fs')", 'Not supported'],
  ];
  for (const [expression, message] of escapes) {
    it(`refuses ${expression}`, async () => {
      expect(await outcome(sandbox.evaluate(expression, { value: 1, row: {} }))).toEqual({
        code: 'sandbox_error',
        message,
      });
    });
  }

  it('has no process on the global object, however it is reached', async () => {
    const reads = [
      'typeof globalThis.process',
      "typeof Function('return this')().process",
      "typeof Function('return globalThis')().require",
      "typeof (0, eval)('this').process",
      "typeof [].constructor.constructor('return this')().process",
    ];
    for (const expression of reads)
      expect(await sandbox.evaluate(expression, {}), expression).toBe('undefined');
  });

  it('offers no I/O, timers, module system or environment', async () => {
    const names = [
      'process',
      'require',
      'module',
      'exports',
      '__dirname',
      'Buffer',
      'global',
      'fetch',
      'XMLHttpRequest',
      'WebSocket',
      'setTimeout',
      'setInterval',
      'setImmediate',
      'queueMicrotask',
      'WebAssembly',
      'SharedArrayBuffer',
      'Atomics',
      'WeakRef',
      'FinalizationRegistry',
    ];
    const body = `return names.filter((name) => typeof globalThis[name] !== 'undefined')`;
    expect(await sandbox.runFunction(body, { names })).toEqual([]);
  });

  it('keeps Error.prepareStackTrace out of reach', async () => {
    expect(await sandbox.evaluate('typeof Error.prepareStackTrace', {})).toBe('undefined');
    const tricks = [
      'Error.prepareStackTrace = (e, frames) => frames.map((f) => f.getThis()); return new Error().stack',
      "Object.defineProperty(Error, 'prepareStackTrace', { value: (e, s) => s }); return new Error().stack",
      'Error.stackTraceLimit = Infinity; return 1',
    ];
    for (const body of tricks) {
      const result = await outcome(sandbox.runFunction(body, {}));
      expect(result, body).toMatchObject({ code: 'sandbox_error' });
    }
  });

  it('compiles code from strings only inside the isolate', async () => {
    expect(await sandbox.evaluate("eval('typeof require + typeof process')", {})).toBe('undefinedundefined');
    expect(await sandbox.evaluate("new Function('a', 'return a * 2')(21)", {})).toBe(42);
  });
});

describe('no state survives an evaluation', () => {
  it('does not let a global set in one call be seen by the next', async () => {
    const set = await outcome(
      sandbox.runFunction('globalThis.leak = trigger.secret; return 1', { trigger: { secret: 's' } }),
    );
    expect(set).toEqual({
      code: 'sandbox_error',
      message: 'Cannot add property leak, object is not extensible',
    });
    expect(await sandbox.evaluate('typeof leak', {})).toBe('undefined');
    const implicit = await outcome(sandbox.runFunction('leak = 1', {}));
    expect(implicit).toEqual({ code: 'sandbox_error', message: 'leak is not defined' });
    const viaEval = await outcome(sandbox.evaluate("(0, eval)('var leak = 1')", {}));
    expect(viaEval).toMatchObject({ code: 'sandbox_error' });
    expect(await sandbox.evaluate('typeof leak', {})).toBe('undefined');
  });

  it('gives every row of the same code the same pristine realm', async () => {
    // Each call records what it finds, then tries every place that could carry a value to the next.
    const body = `
      const iteratorProto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
      const generatorProto = Object.getPrototypeOf(function* () {}).prototype;
      const found = [globalThis.carried, Array.prototype.carried, Object.prototype.carried, JSON.carried,
        iteratorProto.carried, generatorProto.carried, Math.carried, RegExp.$1, RegExp.lastMatch];
      const attempts = [
        () => { globalThis.carried = value; }, () => { Array.prototype.carried = value; },
        () => { Object.prototype.carried = value; }, () => { JSON.carried = value; },
        () => { iteratorProto.carried = value; }, () => { generatorProto.carried = value; },
        () => { Math.carried = value; }, () => { Object.defineProperty(Object.prototype, 'carried', { value }); },
        () => { Array.prototype.push = () => value; },
      ];
      let refused = 0;
      for (const attempt of attempts) { try { attempt(); } catch { refused += 1; } }
      /(secret-\\d+)/.exec(value);
      return { found: found.map((v) => (v === undefined ? 'none' : v)), refused, pushWorks: [1].concat([2]).length };`;
    const first = await sandbox.runFunction(body, { value: 'secret-1' });
    const second = await sandbox.runFunction(body, { value: 'secret-2' });
    const pristine = { found: Array(9).fill('none'), refused: 9, pushWorks: 2 };
    expect(first).toEqual(pristine);
    expect(second).toEqual(pristine);
  });

  it('leaves nothing reachable unfrozen', async () => {
    const body = `
      const roots = [globalThis, function* () {}, async function () {}, async function* () {},
        [][Symbol.iterator](), new Map().entries(), new Set().values(), ''[Symbol.iterator](), 'a'.matchAll(/a/g)];
      // The probes and the prototype objects of the two generator functions are made by this call.
      const fresh = [...roots.slice(1), roots[1].prototype, roots[3].prototype];
      const seen = new Set();
      const pending = roots.slice();
      let unfrozen = 0;
      while (pending.length > 0) {
        const item = pending.pop();
        if ((typeof item !== 'object' && typeof item !== 'function') || item === null || seen.has(item)) continue;
        seen.add(item);
        if (!Object.isFrozen(item) && !fresh.includes(item)) unfrozen += 1;
        pending.push(Object.getPrototypeOf(item));
        for (const key of Reflect.ownKeys(item)) {
          const desc = Object.getOwnPropertyDescriptor(item, key);
          if ('value' in desc) pending.push(desc.value); else pending.push(desc.get, desc.set);
        }
      }
      return { unfrozen, checked: seen.size };`;
    const result = (await sandbox.runFunction(body, {})) as { unfrozen: number; checked: number };
    expect(result.unfrozen).toBe(0);
    expect(result.checked).toBeGreaterThan(300);
  });

  it('still lets code give its own objects the usual properties', async () => {
    const body = `
      class SyncError extends Error { constructor(m) { super(m); this.name = 'SyncError'; } }
      const custom = new SyncError('no match');
      const plain = new Error('x');
      plain.name = 'Renamed';
      plain.message = 'changed';
      const o = {};
      o.toString = () => 'custom';
      o.constructor = 'mine';
      return [String(custom), String(plain), String(o), o.constructor, Error.prototype.name, String({})];`;
    expect(await sandbox.runFunction(body, {})).toEqual([
      'SyncError: no match',
      'Renamed: changed',
      'custom',
      'mine',
      'Error',
      '[object Object]',
    ]);
  });

  it('keeps concurrent evaluations apart', async () => {
    const values = Array.from({ length: 50 }, (_, i) => `row-${i}`);
    const results = await Promise.all(
      values.map((value, i) => sandbox.evaluate('value + ":" + row.id', { value, row: { id: i } })),
    );
    expect(results).toEqual(values.map((value, i) => `${value}:${i}`));
  });
});
