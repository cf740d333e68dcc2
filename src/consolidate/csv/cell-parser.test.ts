import { describe, it, expect } from 'vitest';
import { plainColumn, type ColumnSchema } from '../../model/schema.js';
import { coerceValue } from '../../model/values.js';
import { cellParser, type CellResult } from './cell-parser.js';

function value(result: CellResult): unknown {
  if (!result.ok) throw new Error(`rejected: ${result.reason}`);
  return result.value;
}

function reason(result: CellResult): string {
  if (result.ok) throw new Error(`accepted: ${JSON.stringify(result.value)}`);
  return result.reason;
}

/** Accepts each text and checks the answer is what coerceValue answers for it. */
function accepts(column: ColumnSchema, cases: [string, unknown][]): void {
  const parse = cellParser(column);
  for (const [text, expected] of cases) {
    const got = value(parse(text));
    expect(got, text).toEqual(expected);
    expect(coerceValue(column, got), text).toEqual(got);
  }
}

function rejects(column: ColumnSchema, cases: [string, string | RegExp][]): void {
  const parse = cellParser(column);
  for (const [text, why] of cases) {
    const r = reason(parse(text));
    if (typeof why === 'string') expect(r, text).toBe(why);
    else expect(r, text).toMatch(why);
  }
}

describe('cellParser: missing values', () => {
  it('answers null on nullable columns, for null and blank non-text cells', () => {
    expect(cellParser(plainColumn('n', 'integer'))(null)).toEqual({ ok: true, value: null });
    expect(cellParser(plainColumn('n', 'integer'))('  ')).toEqual({ ok: true, value: null });
    expect(cellParser(plainColumn('s', 'string'))(null)).toEqual({ ok: true, value: null });
  });

  it('keeps an empty quoted string on text columns', () => {
    expect(cellParser(plainColumn('s', 'string', { nullable: false }))('')).toEqual({ ok: true, value: '' });
  });

  it('refuses a missing value on a required column', () => {
    expect(cellParser(plainColumn('n', 'integer', { nullable: false }))(null)).toEqual({
      ok: false,
      reason: 'empty, but the column is required',
    });
  });

  it('leaves the value to the database with a default, autoIncrement or generated', () => {
    const omit = { ok: true, value: undefined };
    expect(cellParser(plainColumn('id', 'integer', { nullable: false, autoIncrement: true }))(null)).toEqual(
      omit,
    );
    expect(cellParser(plainColumn('c', 'string', { nullable: false, defaultValue: "'x'" }))(null)).toEqual(
      omit,
    );
    expect(cellParser(plainColumn('g', 'string', { generated: true }))('abc')).toEqual(omit);
  });
});

describe('cellParser: types', () => {
  it('string and text keep spaces and check maxLength in characters', () => {
    accepts(plainColumn('s', 'string', { maxLength: 5 }), [
      ['  a  ', '  a  '],
      ['😀😀😀😀😀', '😀😀😀😀😀'],
    ]);
    rejects(plainColumn('s', 'string', { maxLength: 80 }), [
      ['x'.repeat(93), 'longer than 80 characters (93)'],
    ]);
    accepts(plainColumn('t', 'text'), [['a\nb', 'a\nb']]);
  });

  it('integer with spaces, signs and native ranges', () => {
    accepts(plainColumn('i', 'integer', { nativeType: 'integer' }), [
      [' 42 ', 42],
      ['+7', 7],
      ['-2147483648', -2147483648],
      ['007', 7],
      ['-0', 0],
    ]);
    rejects(plainColumn('i', 'integer', { nativeType: 'integer' }), [
      ['2147483648', 'out of range for int (-2147483648..2147483647)'],
      ['1.5', 'not an integer'],
      ['1e3', 'not an integer'],
      ['12a', 'not an integer'],
      ['+', 'not an integer'],
    ]);
    rejects(plainColumn('i', 'integer', { nativeType: 'smallint' }), [
      ['32768', 'out of range for smallint (-32768..32767)'],
    ]);
    rejects(plainColumn('i', 'integer', { nativeType: 'SMALLINT UNSIGNED' }), [
      ['-1', 'out of range for smallint unsigned (0..65535)'],
    ]);
    accepts(plainColumn('i', 'integer', { nativeType: 'tinyint unsigned' }), [['255', 255]]);
    rejects(plainColumn('i', 'integer', { nativeType: 'tinyint(4)' }), [
      ['128', 'out of range for tinyint (-128..127)'],
    ]);
    rejects(plainColumn('i', 'integer', { nativeType: 'mediumint' }), [['8388608', /mediumint/]]);
    accepts(plainColumn('i', 'integer', { nativeType: 'int(10) unsigned' }), [['4294967295', 4294967295]]);
    accepts(plainColumn('i', 'integer', { nativeType: 'int4' }), [['2147483647', 2147483647]]);
    accepts(plainColumn('i', 'integer', { nativeType: 'INTEGER' }), [['9007199254740991', 9007199254740991]]);
    rejects(plainColumn('i', 'integer', { nativeType: 'INTEGER' }), [
      ['9007199254740992', /out of range for INTEGER/],
    ]);
  });

  it('bigint answers strings over 64 bits', () => {
    accepts(plainColumn('b', 'bigint', { nativeType: 'bigint' }), [
      ['9223372036854775807', '9223372036854775807'],
      [' -9223372036854775808 ', '-9223372036854775808'],
      ['+0012', '12'],
    ]);
    rejects(plainColumn('b', 'bigint', { nativeType: 'bigint' }), [
      ['9223372036854775808', /out of range for bigint/],
      ['1.0', 'not an integer'],
    ]);
    const unsigned = cellParser(plainColumn('b', 'bigint', { nativeType: 'bigint(20) unsigned' }));
    expect(value(unsigned('18446744073709551615'))).toBe('18446744073709551615');
    expect(reason(unsigned('-1'))).toMatch(/unsigned bigint/);
  });

  it('decimal: plain and exponent notation, precision and scale', () => {
    const money = plainColumn('d', 'decimal', { precision: 8, scale: 2 });
    accepts(money, [
      ['12.5', '12.5'],
      ['-0.05', '-0.05'],
      ['+007.10', '7.10'],
      ['1.500', '1.50'],
      ['1.2e3', '1200'],
      ['5E-2', '0.05'],
      ['.5', '0.5'],
      ['123456.78', '123456.78'],
    ]);
    rejects(money, [
      ['1.234', 'more than 2 decimal places'],
      ['1234567', 'too many digits before the decimal point (at most 6)'],
      ['1,5', 'not a decimal number'],
      ['abc', 'not a decimal number'],
      ['1e', 'not a decimal number'],
      ['1e5000', 'exponent too large'],
    ]);
    rejects(plainColumn('d', 'decimal', { precision: 5, scale: 0 }), [['1.5', 'not a whole number']]);
    accepts(plainColumn('d', 'decimal'), [['3.14159265358979323846', '3.14159265358979323846']]);
  });

  it('float accepts finite numbers', () => {
    accepts(plainColumn('f', 'float'), [
      ['1.5', 1.5],
      [' -2e-3 ', -0.002],
      ['10', 10],
    ]);
    rejects(plainColumn('f', 'float'), [
      ['NaN', 'not a number'],
      ['Infinity', 'not a number'],
      ['0x10', 'not a number'],
      ['1e999', 'too large for a float'],
    ]);
  });

  it('boolean words and digits, any case', () => {
    const b = plainColumn('b', 'boolean');
    accepts(b, [
      ['TRUE', true],
      ['t', true],
      ['Yes', true],
      ['y', true],
      ['1', true],
      ['false', false],
      ['F', false],
      ['no', false],
      ['N', false],
      ['0', false],
    ]);
    rejects(b, [
      ['2', 'not a boolean (true/false, yes/no, 1/0)'],
      ['oui', /not a boolean/],
    ]);
  });

  it('date with a real day', () => {
    accepts(plainColumn('d', 'date'), [
      ['2024-02-29', '2024-02-29'],
      [' 1999-12-31 ', '1999-12-31'],
    ]);
    rejects(plainColumn('d', 'date'), [
      ['2023-02-29', 'not a date (YYYY-MM-DD)'],
      ['2024-13-01', 'not a date (YYYY-MM-DD)'],
      ['01/02/2024', 'not a date (YYYY-MM-DD)'],
      ['2024-1-1', 'not a date (YYYY-MM-DD)'],
    ]);
  });

  it('time HH:MM[:SS[.fff]]', () => {
    accepts(plainColumn('t', 'time'), [
      ['10:30', '10:30:00'],
      ['9:05', '09:05:00'],
      ['23:59:59.123456', '23:59:59.123456'],
    ]);
    rejects(plainColumn('t', 'time'), [
      ['24:00', 'not a time (HH:MM[:SS])'],
      ['10:60', 'not a time (HH:MM[:SS])'],
      ['10', 'not a time (HH:MM[:SS])'],
    ]);
  });

  it('datetime without zone', () => {
    accepts(plainColumn('d', 'datetime'), [
      ['2024-05-01 10:00', '2024-05-01T10:00:00'],
      ['2024-05-01T10:00:05.250', '2024-05-01T10:00:05.250'],
      ['2024-05-01', '2024-05-01T00:00:00'],
    ]);
    rejects(plainColumn('d', 'datetime'), [
      ['2024-05-01T10:00:00Z', 'has a time zone, but the column stores local times'],
      ['2024-05-01 25:00', /not a date and time/],
      ['yesterday', /not a date and time/],
    ]);
  });

  it('datetimetz normalized to UTC', () => {
    accepts(plainColumn('d', 'datetimetz'), [
      ['2024-05-01T10:00:00+02:00', '2024-05-01T08:00:00Z'],
      ['2024-05-01 10:00:00.123456 -0130', '2024-05-01T11:30:00.123456Z'],
      ['2024-01-01T00:30Z', '2024-01-01T00:30:00Z'],
      ['2024-01-01T00:30:00+01', '2023-12-31T23:30:00Z'],
    ]);
    expect(value(cellParser(plainColumn('d', 'datetimetz'))('2024-05-01T10:00:00+02:00'))).toBe(
      coerceValue(plainColumn('d', 'datetimetz'), '2024-05-01T10:00:00+02:00'),
    );
    rejects(plainColumn('d', 'datetimetz'), [
      ['2024-05-01 10:00', 'no time zone (add Z or an offset like +02:00)'],
    ]);
  });

  it('json answers the parsed value', () => {
    accepts(plainColumn('j', 'json', { nativeType: 'jsonb' }), [
      ['{"a":[1,2]}', { a: [1, 2] }],
      ['"x"', 'x'],
      ['3', 3],
    ]);
    rejects(plainColumn('j', 'json', { nativeType: 'jsonb' }), [['{a:1}', /^not valid JSON \(/]]);
  });

  it('uuid in any case, with or without dashes or braces', () => {
    const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
    accepts(plainColumn('u', 'uuid'), [
      [id.toUpperCase(), id],
      [`{${id}}`, id],
      [id.replace(/-/g, ''), id],
    ]);
    rejects(plainColumn('u', 'uuid'), [['0f8fad5b-d9cb-469f-a165', 'not a UUID']]);
  });

  it('enum: one of the values, case folded when unambiguous', () => {
    const e = plainColumn('e', 'enum', { enumValues: ['small', 'Large'] });
    accepts(e, [
      ['small', 'small'],
      ['large', 'Large'],
      [' SMALL ', 'small'],
    ]);
    rejects(e, [['medium', 'not one of small, Large']]);
  });

  it('binary from base64 or \\x hex', () => {
    accepts(plainColumn('b', 'binary'), [
      ['aGVsbG8=', 'aGVsbG8='],
      ['aGVsbG8', 'aGVsbG8='],
      ['\\x68656c6c6f', 'aGVsbG8='],
    ]);
    rejects(plainColumn('b', 'binary'), [
      ['\\x6', 'not valid hex after \\x'],
      ['not base64!', 'not base64 (or hex starting with \\x)'],
    ]);
  });
});
