import { describe, it, expect } from 'vitest';
import { TypeInferrer, columnNameFromHeader } from './type-inference.js';

function infer(headers: string[], rows: (string | null)[][]) {
  const inferrer = new TypeInferrer(headers);
  for (const row of rows) inferrer.observe(row);
  return inferrer.result();
}

function single(values: (string | null)[]) {
  return infer(
    ['v'],
    values.map((v) => [v]),
  ).columns[0]!;
}

describe('columnNameFromHeader', () => {
  it('normalizes, prefixes names not starting with a letter and deduplicates', () => {
    const taken = new Set<string>();
    expect(columnNameFromHeader('E-Mail Address ', taken)).toBe('e_mail_address');
    expect(columnNameFromHeader('e-mail address', taken)).toBe('e_mail_address_2');
    expect(columnNameFromHeader('E.Mail Address', taken)).toBe('e_mail_address_3');
    expect(columnNameFromHeader('2024 total', taken)).toBe('_2024_total');
    expect(columnNameFromHeader('***', taken)).toBe('column');
    expect(taken.has('column')).toBe(true);
  });

  it('keeps names within 63 bytes, suffix included', () => {
    const taken = new Set<string>();
    const a = columnNameFromHeader('x'.repeat(100), taken);
    const b = columnNameFromHeader('x'.repeat(100), taken);
    expect(a).toBe('x'.repeat(63));
    expect(b).toBe('x'.repeat(61) + '_2');
    expect(
      Buffer.byteLength(columnNameFromHeader('é'.repeat(40) + 'ж'.repeat(40), new Set())),
    ).toBeLessThanOrEqual(63);
  });
});

describe('TypeInferrer', () => {
  it('infers each portable type', () => {
    expect(single(['true', 'No', 'T', null])).toMatchObject({ type: 'boolean', nullable: true });
    expect(single(['1', '0', '-42'])).toMatchObject({ type: 'integer', nullable: false });
    expect(single(['1', '3000000000'])).toMatchObject({ type: 'bigint' });
    expect(single(['1.5', '-20.25', '3'])).toMatchObject({ type: 'decimal', precision: 12, scale: 2 });
    expect(single(['1e5', '2.5'])).toMatchObject({ type: 'float' });
    expect(single(['2024-01-31', '1999-12-01'])).toMatchObject({ type: 'date' });
    expect(single(['2024-01-31 10:00', '2024-01-31'])).toMatchObject({ type: 'datetime' });
    expect(single(['2024-01-31T10:00:00Z', '2024-01-31 10:00+02:00'])).toMatchObject({ type: 'datetimetz' });
    expect(single(['0f8fad5b-d9cb-469f-a165-70867728950e'])).toMatchObject({ type: 'uuid' });
    expect(single(['hello', 'x'.repeat(40)])).toMatchObject({ type: 'string', maxLength: 64 });
    expect(single(['x'.repeat(255)])).toMatchObject({ type: 'string', maxLength: 255 });
    expect(single(['x'.repeat(1025)])).toMatchObject({ type: 'text' });
  });

  it('treats 0/1 as integers, not booleans', () => {
    expect(single(['0', '1', '1'])).toMatchObject({ type: 'integer' });
  });

  it('keeps leading zeros and phone-like values as strings, with a note', () => {
    const result = infer(
      ['zip', 'phone'],
      [
        ['75001', '+15551234'],
        ['007', '+1 555'],
      ],
    );
    expect(result.columns.map((c) => c.type)).toEqual(['string', 'string']);
    expect(result.notes[0]).toContain('"007" has a leading zero');
    expect(result.notes[1]).toContain('starts with "+"');
    expect(single(['0.5', '0', '-0.25'])).toMatchObject({ type: 'decimal', scale: 2 });
  });

  it('falls back to string beyond 38 decimal digits and for mixed values', () => {
    expect(single(['1'.repeat(39)])).toMatchObject({ type: 'string', maxLength: 64 });
    expect(single(['1'.repeat(25)])).toMatchObject({ type: 'decimal', precision: 25, scale: 0 });
    expect(single(['12', 'abc'])).toMatchObject({ type: 'string', maxLength: 32 });
    expect(single(['2024-01-01', '12'])).toMatchObject({ type: 'string' });
  });

  it('answers nullable strings for all-empty columns and counts empty strings as missing', () => {
    expect(single([null, '', '  '])).toMatchObject({ type: 'string', nullable: true });
    const r = infer(['a', 'b'], []);
    expect(r.columns.every((c) => c.type === 'string' && c.nullable)).toBe(true);
    expect(r.notes.at(-1)).toMatch(/no data rows/);
  });

  it('names columns from headers and explains each decision', () => {
    const r = infer(['Customer ID', '', 'Customer ID'], [['1', 'x', '2']]);
    expect(r.columns.map((c) => c.name)).toEqual(['customer_id', 'column_2', 'customer_id_2']);
    expect(r.notes[0]).toBe(
      'column "customer_id" (from header "Customer ID"): whole numbers within 32 bits: integer',
    );
  });

  it('handles short rows as missing values and many rows in constant state', () => {
    const inferrer = new TypeInferrer(['a', 'b']);
    for (let i = 0; i < 100_000; i++) inferrer.observe([String(i)]);
    expect(inferrer.result().columns).toMatchObject([
      { name: 'a', type: 'integer', nullable: false },
      { name: 'b', type: 'string', nullable: true },
    ]);
  });
});
