import { describe, expect, it } from 'vitest';
import { comparePositions, formatPosition, parsePosition } from './binlog-position.js';

describe('binlog positions', () => {
  it('round-trip and sort as text in file, offset, index order', () => {
    const positions = [
      { file: 'mysql-bin.000002', offset: 4, index: 0 },
      { file: 'mysql-bin.000009', offset: 120, index: 2 },
      { file: 'mysql-bin.000009', offset: 120, index: 10 },
      { file: 'mysql-bin.000010', offset: 4, index: 0 },
      { file: 'mysql-bin.1000000', offset: 4, index: 0 },
    ];
    const texts = positions.map(formatPosition);
    expect(texts[0]).toBe('mysql-bin.0000000002:00000000000004:000000');
    expect([...texts].sort()).toEqual(texts);
    expect(texts.map(parsePosition)).toEqual(positions);
    for (let i = 1; i < positions.length; i++) {
      expect(comparePositions(positions[i - 1]!, positions[i]!)).toBeLessThan(0);
    }
  });

  it('refuses text that is not a binlog position', () => {
    expect(() => parsePosition('00000000/016B3748:0000000003')).toThrow(/not a binlog capture position/);
  });
});
