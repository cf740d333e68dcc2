import { afterAll, describe, expect, it } from 'vitest';
import { BraidError } from '../model/errors.js';
import { createSandbox, Sandbox } from './sandbox.js';

/** The BraidError a promise rejects with (fails the test if it resolves or rejects with anything else). */
async function failure(promise: Promise<unknown>): Promise<BraidError> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (err: unknown) => ({ err }),
  );
  if (!('err' in outcome)) throw new Error(`expected a failure, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.err).toBeInstanceOf(BraidError);
  return outcome.err as BraidError;
}

const sandbox = createSandbox();
afterAll(() => sandbox.close());

describe('sync transforms', () => {
  const readPhone = "value.replace(/\\D/g, '')";
  const writeAmount = 'Number(value)';

  it('strips a phone number to its digits', async () => {
    const phones: [string, string][] = [
      ['+1 (555) 010-4477', '15550104477'],
      ['030 / 1234 567-0', '03012345670'],
      ['+44 20 7946 0958 ext. 12', '44207946095812'],
      ['', ''],
    ];
    for (const [value, digits] of phones) {
      expect(await sandbox.evaluate(readPhone, { value, row: { id: 1, phone: value } })).toBe(digits);
    }
  });

  it('turns a decimal string into a number', async () => {
    expect(await sandbox.evaluate(writeAmount, { value: '1299.50', row: {} })).toBe(1299.5);
    expect(await sandbox.evaluate(writeAmount, { value: '-0.07', row: {} })).toBe(-0.07);
    expect(await sandbox.evaluate(writeAmount, { value: null, row: {} })).toBe(0);
  });

  it('reaches the whole row', async () => {
    const row = { id: 7, first_name: 'Ada', last_name: 'Lovelace', email: ' Ada@Example.COM ' };
    expect(await sandbox.evaluate('`${row.first_name} ${row.last_name}`', { value: null, row })).toBe(
      'Ada Lovelace',
    );
    expect(await sandbox.evaluate('value.trim().toLowerCase()', { value: row.email, row })).toBe(
      'ada@example.com',
    );
  });

  it('has the standard library a transform reaches for, despite the frozen realm', async () => {
    const cases: [string, unknown, unknown][] = [
      ["new Intl.NumberFormat('de-DE', { minimumFractionDigits: 2 }).format(value)", 1234.5, '1.234,50'],
      ["value.normalize('NFD').replace(/[\u0300-\u036f]/g, '')", 'Crème Brûlée', 'Creme Brulee'],
      ['new Date(value).toISOString().slice(0, 10)', '2024-03-01T23:30:00+01:00', '2024-03-01'],
      ['JSON.parse(value).tags.sort().join("|")', '{"tags":["b","c","a"]}', 'a|b|c'],
      ['Object.entries(value).map(([k, v]) => k + "=" + v).join("&")', { a: 1, b: 'x' }, 'a=1&b=x'],
      ['[...new Set(value)].length', [1, 1, 2, 3, 3], 3],
      ["value.split(',').map((s) => s.trim()).filter(Boolean)", ' a, b ,,c ', ['a', 'b', 'c']],
      ['Math.round(value * 100) / 100', 2.345, 2.35],
    ];
    for (const [expression, value, expected] of cases) {
      expect(await sandbox.evaluate(expression, { value, row: {} }), expression).toEqual(expected);
    }
  });

  it('compiles a code once and reuses it for every row', async () => {
    const own = createSandbox();
    try {
      for (let i = 0; i < 20; i++) await own.evaluate('value * 2', { value: i });
      await own.evaluate('value * 3', { value: 1 });
      expect(own.cachedCodeCount).toBe(2);
    } finally {
      await own.close();
    }
  });
});

describe('automation functions', () => {
  it('runs a function body over JSON inputs', async () => {
    const inputs = {
      trigger: { table: 'customers', op: 'insert', after: { id: 3 } },
      steps: { a: { rows: [{ id: 1 }, { id: 2 }, { id: 3 }] } },
    };
    expect(await sandbox.runFunction('return steps.a.rows.length', inputs)).toBe(3);
    expect(await sandbox.runFunction('return trigger.after.id + steps.a.rows[0].id', inputs)).toBe(4);
  });

  it('awaits promises made inside the isolate', async () => {
    const body = `
      const double = async (n) => n * 2;
      const values = await Promise.all(steps.a.rows.map((r) => double(r.id)));
      return { values, total: values.reduce((a, b) => a + b, 0) };`;
    const steps = { a: { rows: [{ id: 1 }, { id: 5 }] } };
    expect(await sandbox.runFunction(body, { steps })).toEqual({ values: [2, 10], total: 12 });
  });

  it('reports a rejected promise as the thrown error', async () => {
    const err = await failure(
      sandbox.runFunction('await null;\nthrow new RangeError("no rows")', { steps: {} }),
    );
    expect(err.code).toBe('sandbox_error');
    expect(err.details).toMatchObject({ errorName: 'RangeError', errorMessage: 'no rows', line: 2 });
  });

  it('without a return the result is null', async () => {
    expect(await sandbox.runFunction('const x = 1;', {})).toBeNull();
  });
});

describe('results are copied out as JSON', () => {
  it('copies nested objects and arrays deeply', async () => {
    const result = await sandbox.evaluate(
      '({ a: [1, "two", { three: [true, null] }], b: { c: { d: -1.5 } } })',
      {},
    );
    expect(result).toEqual({ a: [1, 'two', { three: [true, null] }], b: { c: { d: -1.5 } } });
  });

  it('turns dates into ISO strings and undefined into null', async () => {
    expect(await sandbox.evaluate('new Date(Date.UTC(2024, 1, 29, 13, 5))', {})).toBe(
      '2024-02-29T13:05:00.000Z',
    );
    expect(await sandbox.evaluate('({ at: new Date(0), gone: undefined })', {})).toEqual({
      at: '1970-01-01T00:00:00.000Z',
    });
    expect(await sandbox.evaluate('undefined', {})).toBeNull();
    expect(await sandbox.evaluate('[undefined, 1]', {})).toEqual([null, 1]);
  });

  it('refuses what JSON cannot represent', async () => {
    const refused: [string, string][] = [
      ['() => 1', 'a function'],
      ['({ nested: { f() {} } })', 'a function'],
      ['new Map([[1, 2]])', 'a Map'],
      ['Symbol("s")', 'a symbol'],
      ['10n', 'a BigInt (return it as a string)'],
      ['0 / 0', 'NaN'],
      ['[1, Infinity]', 'Infinity'],
      ['new Date(NaN)', 'an invalid Date'],
      ['new (class Point { constructor() { this.x = 1 } })()', 'a Point'],
    ];
    for (const [expression, what] of refused) {
      const err = await failure(sandbox.evaluate(expression, {}, { details: { rowKey: 9 } }));
      expect(err.code, expression).toBe('sandbox_result');
      expect(err.details?.['result'], expression).toBe(what);
      expect(err.message).toContain(`(row 9)`);
    }
  });

  it('refuses a cycle', async () => {
    const err = await failure(sandbox.runFunction('const a = {}; a.self = a; return a', {}));
    expect(err.code).toBe('sandbox_result');
    expect(err.details?.['result']).toMatch(/circular/);
  });
});

describe('errors', () => {
  it('reports a thrown error with the expression, the row key and the position', async () => {
    const err = await failure(
      sandbox.evaluate('value.trim()', { value: 42, row: { id: 42 } }, { details: { rowKey: 42 } }),
    );
    expect(err.code).toBe('sandbox_error');
    expect(err.status).toBe(422);
    expect(err.message).toBe(
      'The expression `value.trim()` threw TypeError: value.trim is not a function at line 1, column 7 (row 42)',
    );
    expect(err.details).toEqual({
      rowKey: 42,
      expression: 'value.trim()',
      mode: 'expression',
      errorName: 'TypeError',
      errorMessage: 'value.trim is not a function',
      line: 1,
      column: 7,
    });
  });

  it('reports where in a multi-line function body the error was thrown', async () => {
    const body = 'const rows = steps.a.rows;\nconst first = rows[0];\nreturn first.email.toLowerCase();';
    const err = await failure(
      sandbox.runFunction(body, { steps: { a: { rows: [{}] } } }, { details: { step: 'b' } }),
    );
    expect(err.code).toBe('sandbox_error');
    expect(err.details).toMatchObject({ step: 'b', line: 3, errorName: 'TypeError', mode: 'function' });
  });

  it('reports values that are not errors by their JSON text', async () => {
    const err = await failure(sandbox.runFunction('throw { code: 7 }', {}));
    expect(err.message).toBe('The function `throw { code: 7 }` threw {"code":7}');
    const text = await failure(sandbox.runFunction("throw 'no customer'", {}));
    expect(text.details?.['errorMessage']).toBe('"no customer"');
  });

  it('reports a syntax error with its line and column', async () => {
    const err = await failure(sandbox.evaluate('value.(', { value: 'x' }, { details: { rowKey: 1 } }));
    expect(err.code).toBe('sandbox_syntax');
    expect(err.status).toBe(400);
    expect(err.details).toMatchObject({ expression: 'value.(', line: 1, column: 7 });
    expect(err.message).toBe(
      "The expression `value.(` has a syntax error at line 1, column 7: Unexpected token '('",
    );

    const body = 'const a = 1;\nconst b = ;\nreturn a;';
    const inBody = await failure(sandbox.runFunction(body, {}));
    expect(inBody.details).toMatchObject({ line: 2, column: 11 });
  });

  it('puts an error at the end of unfinished code, not in the wrapper', async () => {
    const err = await failure(sandbox.evaluate('(value', { value: 1 }));
    expect(err.code).toBe('sandbox_syntax');
    expect(err.details).toMatchObject({ line: 1, column: 7 });
    expect(err.message).toContain('ends before it is complete');
    const unclosed = await failure(sandbox.runFunction('if (steps) {\n  return 1;', { steps: {} }));
    expect(unclosed.details).toMatchObject({ line: 2 });
  });

  it('refuses statements in place of an expression', async () => {
    const err = await failure(sandbox.evaluate('const x = 1; x', {}));
    expect(err.code).toBe('sandbox_syntax');
  });

  it('checks code without running it', async () => {
    await expect(sandbox.check('expression', 'value.trim()', ['value', 'row'])).resolves.toBeUndefined();
    await expect(sandbox.check('function', 'while (true) {}', ['steps'])).resolves.toBeUndefined();
    const err = await failure(sandbox.check('function', 'return )', ['steps']));
    expect(err.details).toMatchObject({ mode: 'function', line: 1, column: 8 });
  });

  it('refuses inputs that are not JSON or not usable as names', async () => {
    const bigint = await failure(sandbox.evaluate('value', { value: 10n }));
    expect(bigint.code).toBe('sandbox_input');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect((await failure(sandbox.evaluate('value', { value: cyclic }))).code).toBe('sandbox_input');
    expect((await failure(sandbox.evaluate('1', { 'a-b': 1 }))).code).toBe('sandbox_input');
    expect((await failure(sandbox.evaluate('1', { class: 1 }))).code).toBe('sandbox_input');
  });
});

describe('lifecycle', () => {
  it('keeps working when old codes are evicted from a small cache', async () => {
    const small = new Sandbox({ maxCachedCode: 2 });
    try {
      for (let round = 0; round < 3; round++) {
        const results = await Promise.all(
          [1, 2, 3, 4].map((n) => small.evaluate(`value + ${n}`, { value: 10 })),
        );
        expect(results).toEqual([11, 12, 13, 14]);
      }
      expect(small.cachedCodeCount).toBe(2);
    } finally {
      await small.close();
    }
  });

  it('fails calls after close with sandbox_closed', async () => {
    const closing = createSandbox();
    expect(await closing.evaluate('1 + 1', {})).toBe(2);
    await closing.close();
    const err = await failure(closing.evaluate('1 + 1', {}));
    expect(err.code).toBe('sandbox_closed');
  });

  it('refuses options it cannot honour', () => {
    expect(() => createSandbox({ memoryLimitMb: 4 })).toThrow(RangeError);
    expect(() => createSandbox({ timeoutMs: 0 })).toThrow(RangeError);
    expect(() => createSandbox({ maxCachedCode: 1.5 })).toThrow(RangeError);
  });
});
