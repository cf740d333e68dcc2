import { describe, expect, it } from 'vitest';
import { bindNamed } from './named-bindings.js';

const dollar = (i: number) => `$${i}`;
const question = () => '?';

describe('bindNamed', () => {
  it('turns :names into positional parameters in order, repeating values as often as used', () => {
    expect(bindNamed('select * from t where a = :a and b = :b or a = :a', { a: 1, b: 'x' }, dollar)).toEqual({
      sql: 'select * from t where a = $1 and b = $2 or a = $3',
      params: [1, 'x', 1],
    });
  });

  it('leaves casts, literals, quoted identifiers, comments and dollar quotes alone', () => {
    const text = `select :v::int, ':no', "col:no", $$ :no $$ -- :no\n/* :no */ from t`;
    expect(bindNamed(text, { v: 5 }, dollar)).toEqual({
      sql: `select $1::int, ':no', "col:no", $$ :no $$ -- :no\n/* :no */ from t`,
      params: [5],
    });
  });

  it('knows that a backslash ends nothing in standard strings but escapes a quote in MySQL', () => {
    expect(bindNamed(`select 'C:\\' as p, :x`, { x: 1 }, dollar).sql).toBe(`select 'C:\\' as p, $1`);
    expect(bindNamed(`select 'it\\'s :no', :x`, { x: 1 }, question, true).sql).toBe(`select 'it\\'s :no', ?`);
  });

  it('names a missing or an unused binding', () => {
    expect(() => bindNamed('select :a', {}, dollar)).toThrow(/bindings has no "a"/);
    expect(() => bindNamed('select 1', { a: 1 }, dollar)).toThrow(/"a" not used/);
  });

  it('passes positional SQL and arrays through', () => {
    expect(bindNamed('select ?', [1], question)).toEqual({ sql: 'select ?', params: [1] });
  });
});
