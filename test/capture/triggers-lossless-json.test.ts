import { describe, expect, it } from 'vitest';
import { JsonNumber, parseImage } from '../../src/capture/triggers/lossless-json.js';

describe('parseImage', () => {
  it('keeps the exact text of top-level numbers and parses nested values normally', () => {
    const row = parseImage(
      '{"big": 9007199254740993, "dec":12.50, "neg":-1e3, "s":"a:1, \\"b\\": 2", "j":{"n": 1.5, "x":[1,{"y":2}]}, "t":true, "z":null, "k":"}"}',
    );
    expect(row.big).toEqual(new JsonNumber('9007199254740993'));
    expect(row.dec).toEqual(new JsonNumber('12.50'));
    expect(row.neg).toEqual(new JsonNumber('-1e3'));
    expect(row.s).toBe('a:1, "b": 2');
    expect(row.j).toEqual({ n: 1.5, x: [1, { y: 2 }] });
    expect(row.t).toBe(true);
    expect(row.z).toBeNull();
    expect(row.k).toBe('}');
  });

  it('refuses anything but an object', () => {
    expect(() => parseImage('[1]')).toThrow('JSON object');
  });
});
