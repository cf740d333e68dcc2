import { describe, expect, it } from 'vitest';
import { wireTimestamptz } from './postgres-temporal.js';

describe('wireTimestamptz', () => {
  it('converts server text to UTC wire values', () => {
    expect(wireTimestamptz('2025-01-01 00:00:31+00')).toBe('2025-01-01T00:00:31Z');
    expect(wireTimestamptz('2025-01-01 05:30:00.123456+05:30')).toBe('2025-01-01T00:00:00.123456Z');
    expect(wireTimestamptz('2025-01-01 00:00:31Z')).toBe('2025-01-01T00:00:31Z');
  });

  // The codec decodes values the type parser already converted: that second pass must be a no-op.
  it('answers wire values unchanged', () => {
    for (const wire of [
      '2025-01-01T00:00:31Z',
      '0001-01-01T00:00:00.5Z',
      '12345-01-01T00:00:00Z',
      'infinity',
    ]) {
      expect(wireTimestamptz(wire)).toBe(wire);
      expect(wireTimestamptz(wireTimestamptz(wire))).toBe(wire);
    }
  });
});
