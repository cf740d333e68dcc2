import { describe, it, expect } from 'vitest';
import { readCsv } from './csv-reader.js';
import { csvHeaderLine, csvLines, jsonLines } from './csv-writer.js';
import { sniffCsv } from './csv-sniff.js';

async function readBack(text: string, chunkSize = 1 << 16, delimiter = ',') {
  const bytes = Buffer.from(text);
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
  }
  const dialect = { ...sniffCsv(bytes), delimiter };
  const out: (string | null)[][] = [];
  for await (const batch of readCsv(chunks(), dialect)) out.push(...batch.map((r) => r.fields));
  return out;
}

describe('csvHeaderLine', () => {
  it('quotes headers when needed and adds the BOM when asked', () => {
    expect(csvHeaderLine(['id', 'a,b', 'say "x"'])).toBe('id,"a,b","say ""x"""\n');
    expect(csvHeaderLine(['a', 'b'], { bom: true, newline: '\r\n', delimiter: ';' })).toBe('\uFEFFa;b\r\n');
  });
});

describe('csvLines', () => {
  it('formats nulls, empty strings, booleans, numbers, JSON and binary', () => {
    const rows = [
      { id: 1, s: null, e: '', b: true, j: { a: [1, 'x'] }, bin: Buffer.from('hi'), big: 12n },
      { id: 2.5, s: ' lead', e: 'trail ', b: false, j: [1], bin: null, big: '9007199254740993' },
    ];
    const columns = ['id', 's', 'e', 'b', 'j', 'bin', 'big'];
    expect(csvLines(columns, rows)).toBe(
      'id,s,e,b,j,bin,big\n' +
        '1,,"",true,"{""a"":[1,""x""]}",aGk=,12\n' +
        '2.5," lead","trail ",false,[1],,9007199254740993\n',
    );
    expect(csvLines(['id'], [{ id: 1 }], { header: false, newline: '\r\n' })).toBe('1\r\n');
  });

  it('quotes fields holding the chosen delimiter only', () => {
    expect(csvLines(['a', 'b'], [{ a: 'x;y', b: 'p,q' }], { delimiter: ';', header: false })).toBe(
      '"x;y";p,q\n',
    );
  });

  it('round-trips nasty values through readCsv, in any chunk size', async () => {
    const nasty = [
      'plain',
      'comma, inside',
      'quote " inside',
      '""',
      '"',
      'line\nbreak',
      'crlf\r\nbreak',
      'cr\ronly',
      '',
      null,
      '  leading',
      'trailing  ',
      'unicode é ß 中文',
      'emoji 😀👍🏽',
      '\t tab',
      'a,b\n"c"',
    ];
    const rows = nasty.map((v, i) => ({ id: String(i), v, w: i % 2 === 0 ? null : v }));
    const text = csvLines(['id', 'v', 'w'], rows);
    const expected = [['id', 'v', 'w'], ...rows.map((r) => [r.id, r.v, r.w])];
    expect(await readBack(text)).toEqual(expected);
    expect(await readBack(text, 1)).toEqual(expected);
    expect(await readBack(text, 7)).toEqual(expected);
    const semi = csvLines(['id', 'v', 'w'], rows, { delimiter: ';', newline: '\r\n', bom: true });
    expect(await readBack(semi, 5, ';')).toEqual(expected);
  });
});

describe('jsonLines', () => {
  it('writes one JSON object per line', () => {
    expect(
      jsonLines([
        { a: 1, b: null },
        { a: 'x"y', n: 5n },
      ]),
    ).toBe('{"a":1,"b":null}\n{"a":"x\\"y","n":"5"}\n');
    expect(jsonLines([])).toBe('');
  });
});
