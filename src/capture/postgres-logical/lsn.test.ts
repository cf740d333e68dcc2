import { describe, expect, it } from 'vitest';
import {
  comparePositions,
  formatLsn,
  formatPosition,
  parseLsn,
  parsePosition,
  pgTimestampToIso,
} from './lsn.js';
import { parsePgOutput } from './pgoutput-parser.js';

describe('LSNs and positions', () => {
  it('round-trips LSNs beyond 2^53 exactly', () => {
    const lsn = parseLsn('FFFFFFFF/FFFFFFFF');
    expect(lsn).toBe(2n ** 64n - 1n);
    expect(formatLsn(lsn)).toBe('FFFFFFFF/FFFFFFFF');
    expect(formatLsn(parseLsn('0/16b3748'))).toBe('0/16B3748');
    expect(() => parseLsn('16B3748')).toThrow(/not a PostgreSQL LSN/);
  });

  it('formats positions that sort as text in stream order', () => {
    const positions = [
      { lsn: parseLsn('0/9'), index: 2 },
      { lsn: parseLsn('0/9'), index: 10 },
      { lsn: parseLsn('0/10'), index: 0 },
      { lsn: parseLsn('1/0'), index: 0 },
    ];
    const texts = positions.map(formatPosition);
    expect(texts[0]).toBe('00000000/00000009:0000000002');
    expect([...texts].sort()).toEqual(texts);
    for (let i = 1; i < positions.length; i++)
      expect(comparePositions(positions[i - 1]!, positions[i]!)).toBeLessThan(0);
    expect(parsePosition(texts[3]!)).toEqual(positions[3]);
    expect(() => parsePosition('0/9:2')).toThrow(/not a position/);
  });

  it('converts protocol timestamps (microseconds since 2000) to ISO with microseconds', () => {
    expect(pgTimestampToIso(0n)).toBe('2000-01-01T00:00:00.000000Z');
    const micros = BigInt(Date.UTC(2024, 4, 1, 8, 0, 0, 123) - Date.UTC(2000, 0, 1)) * 1000n + 456n;
    expect(pgTimestampToIso(micros)).toBe('2024-05-01T08:00:00.123456Z');
  });
});

describe('pgoutput messages', () => {
  const tuple = (...values: (string | null | 'u')[]) => {
    const parts: Buffer[] = [int16(values.length)];
    for (const v of values) {
      if (v === null) parts.push(Buffer.from('n'));
      else if (v === 'u') parts.push(Buffer.from('u'));
      else parts.push(Buffer.from('t'), int32(Buffer.byteLength(v)), Buffer.from(v));
    }
    return Buffer.concat(parts);
  };

  it('decodes an update with the old key, a null and an unchanged TOASTed value', () => {
    const msg = Buffer.concat([
      Buffer.from('U'),
      int32(16384),
      Buffer.from('K'),
      tuple('7', null, null),
      Buffer.from('N'),
      tuple('8', null, 'u'),
    ]);
    expect(parsePgOutput(msg)).toEqual({
      type: 'update',
      relationId: 16384,
      old: { kind: 'key', values: [{ kind: 'text', text: '7' }, { kind: 'null' }, { kind: 'null' }] },
      after: [{ kind: 'text', text: '8' }, { kind: 'null' }, { kind: 'unchanged' }],
    });
  });

  it('decodes a truncate and refuses a truncated message', () => {
    const msg = Buffer.concat([Buffer.from('T'), int32(2), Buffer.from([3]), int32(1), int32(2)]);
    expect(parsePgOutput(msg)).toEqual({
      type: 'truncate',
      relationIds: [1, 2],
      cascade: true,
      restartIdentity: true,
    });
    expect(() => parsePgOutput(msg.subarray(0, 8))).toThrow(/truncated/);
    expect(parsePgOutput(Buffer.from('Y'))).toEqual({ type: 'unknown', tag: 'Y' });
  });
});

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}
