import { describe, expect, it } from 'vitest';
import { compareCodePoints, compareDecimalText, compareSortValue, compareValues } from './value-order.js';

describe('value order', () => {
  it('orders decimal and bigint wire strings by value', () => {
    expect(compareDecimalText('10', '9')).toBeGreaterThan(0);
    expect(compareDecimalText('-10.5', '-9')).toBeLessThan(0);
    expect(compareDecimalText('1.50', '1.5')).toBe(0);
    expect(compareDecimalText('-0.0', '0')).toBe(0);
    expect(compareDecimalText('0.001', '0.01')).toBeLessThan(0);
    expect(compareValues('bigint', '9007199254740993', '9007199254740992')).toBeGreaterThan(0);
  });

  it('orders strings by code point, characters beyond the BMP after U+FFFD', () => {
    expect(compareCodePoints('Z', 'a')).toBeLessThan(0);
    expect(compareCodePoints('\u{1F600}', '\uFFFD')).toBeGreaterThan(0);
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0);
  });

  it('orders datetimes with and without fractions by instant', () => {
    expect(compareValues('datetimetz', '2024-01-01T12:00:00.5Z', '2024-01-01T12:00:00Z')).toBeGreaterThan(0);
    expect(compareValues('time', '10:00:00', '09:59:59.999')).toBeGreaterThan(0);
  });

  it('puts NULL first ascending and last descending', () => {
    expect(compareSortValue('integer', 'asc', null, 1)).toBeLessThan(0);
    expect(compareSortValue('integer', 'desc', null, 1)).toBeGreaterThan(0);
    expect(compareSortValue('integer', 'desc', 2, 1)).toBeLessThan(0);
    expect(compareSortValue('integer', 'asc', null, null)).toBe(0);
  });
});
