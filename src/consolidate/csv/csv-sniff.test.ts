import { describe, it, expect } from 'vitest';
import { sniffCsv } from './csv-sniff.js';

describe('sniffCsv', () => {
  it('detects a comma file in UTF-8 without BOM', () => {
    const d = sniffCsv(Buffer.from('id,name,email\n1,Ann,a@x\n2,"Bob, Jr",b@x\n'));
    expect(d).toMatchObject({ encoding: 'utf-8', bomBytes: 0, delimiter: ',', quote: '"' });
    expect(d.detected).toContain("delimiter ',' (consistent count on 3 lines)");
  });

  it('detects BOMs', () => {
    expect(sniffCsv(Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0x0a]))).toMatchObject({
      encoding: 'utf-8',
      bomBytes: 3,
    });
    expect(
      sniffCsv(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a;b\n', 'utf16le')])),
    ).toMatchObject({ encoding: 'utf-16le', bomBytes: 2, delimiter: ';' });
    const d = sniffCsv(Buffer.from([0xfe, 0xff, 0x00, 0x61, 0x00, 0x7c, 0x00, 0x62, 0x00, 0x0a]));
    expect(d).toMatchObject({ encoding: 'utf-16be', bomBytes: 2, delimiter: '|' });
    expect(d.detected[0]).toBe('BOM utf-16be');
  });

  it('accepts a sample that ends in the middle of a multi-byte character', () => {
    const full = Buffer.from('a,b\né,😀');
    expect(sniffCsv(full.subarray(0, full.length - 2)).encoding).toBe('utf-8');
  });

  it('falls back to windows-1252 for invalid UTF-8', () => {
    const d = sniffCsv(Buffer.from([0x61, 0x3b, 0xe9, 0x0a, 0x62, 0x3b, 0x63, 0x0a]));
    expect(d.encoding).toBe('windows-1252');
    expect(d.delimiter).toBe(';');
  });

  it('recognizes UTF-16LE without BOM by its zero bytes', () => {
    expect(sniffCsv(Buffer.from('a\tb\n1\t2\n', 'utf16le'))).toMatchObject({
      encoding: 'utf-16le',
      bomBytes: 0,
      delimiter: '\t',
    });
  });

  it('prefers the delimiter with a consistent count over one inside values', () => {
    const d = sniffCsv(Buffer.from('name;price\nfoo;1,5\nbar;2\nbaz;3,25\n'));
    expect(d.delimiter).toBe(';');
  });

  it('ignores delimiters inside quotes, also across lines', () => {
    const d = sniffCsv(Buffer.from('a|b\n"x,y,z"|"1;\n2;3"\nc|d\n'));
    expect(d.delimiter).toBe('|');
  });

  it('answers comma on ties and for one-column files', () => {
    expect(sniffCsv(Buffer.from('a;b,c\n1;2,3\n')).delimiter).toBe(',');
    const d = sniffCsv(Buffer.from('email\na@x\nb@x\n'));
    expect(d.delimiter).toBe(',');
    expect(d.detected.at(-1)).toMatch(/one column/);
  });

  it('drops a last line cut by the end of the sample', () => {
    expect(sniffCsv(Buffer.from('a;b\n1;2\n3;4\n5;6,7,8,9')).delimiter).toBe(';');
  });

  it('lets hints win', () => {
    const d = sniffCsv(Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0x2c, 0x62, 0x0a]), {
      delimiter: ';',
      quote: "'",
      encoding: 'utf-8',
    });
    expect(d).toMatchObject({ encoding: 'utf-8', bomBytes: 3, delimiter: ';', quote: "'" });
    expect(d.detected).toEqual(['encoding utf-8 (given)', "delimiter ';' (given)"]);
    expect(sniffCsv(Buffer.from('a,b\n'), { encoding: 'windows-1252' }).encoding).toBe('windows-1252');
  });
});
