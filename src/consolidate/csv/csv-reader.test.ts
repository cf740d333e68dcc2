import { describe, it, expect } from 'vitest';
import { BraidError } from '../../model/errors.js';
import { readCsv, type CsvReadOptions } from './csv-reader.js';
import { sniffCsv } from './csv-sniff.js';

const UTF8: CsvReadOptions = { encoding: 'utf-8', bomBytes: 0, delimiter: ',', quote: '"' };

async function* chunked(data: Buffer, sizes: (i: number) => number): AsyncGenerator<Buffer> {
  let pos = 0;
  for (let i = 0; pos < data.length; i++) {
    const n = Math.max(1, sizes(i));
    yield data.subarray(pos, pos + n);
    pos += n;
  }
}

async function read(
  data: Buffer | string,
  options: Partial<CsvReadOptions> = {},
  sizes: (i: number) => number = () => 1 << 16,
): Promise<{ line: number; fields: (string | null)[] }[]> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const out: { line: number; fields: (string | null)[] }[] = [];
  for await (const batch of readCsv(chunked(bytes, sizes), { ...UTF8, ...options })) out.push(...batch);
  return out;
}

async function fields(data: Buffer | string, options: Partial<CsvReadOptions> = {}) {
  return (await read(data, options)).map((r) => r.fields);
}

async function failure(
  data: Buffer | string,
  options: Partial<CsvReadOptions> = {},
  sizes?: (i: number) => number,
): Promise<BraidError> {
  try {
    await read(data, options, sizes);
  } catch (err) {
    expect(err).toBeInstanceOf(BraidError);
    return err as BraidError;
  }
  throw new Error('expected the read to fail');
}

/** Deterministic pseudo-random chunk sizes, so a failure reproduces. */
function randomSizes(seed: number, max: number): (i: number) => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return 1 + (state % max);
  };
}

const NASTY =
  'id,text,note\r\n' +
  '1,"he said ""hi""",plain\r\n' +
  '2,"a,b\r\nc\nd\re",\r\n' +
  '3,,""\r\n' +
  '4,  spaced  ,"é ✓ 😀"\r\n' +
  '5,x"y,"a""""b"\r\n' +
  '6,last,"no newline"';

describe('readCsv', () => {
  it('reads plain records with 1-based line numbers', async () => {
    expect(await read('a,b\n1,2\n3,4\n')).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['1', '2'] },
      { line: 3, fields: ['3', '4'] },
    ]);
  });

  it('handles quotes, escapes, newlines inside quotes, empty vs null and a last line without newline', async () => {
    const records = await read(NASTY);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 7, 8, 9, 10]);
    expect(records.map((r) => r.fields)).toEqual([
      ['id', 'text', 'note'],
      ['1', 'he said "hi"', 'plain'],
      ['2', 'a,b\r\nc\nd\re', null],
      ['3', null, ''],
      ['4', '  spaced  ', 'é ✓ 😀'],
      ['5', 'x"y', 'a""b'],
      ['6', 'last', 'no newline'],
    ]);
  });

  it('gives the same records for one byte per chunk and for random chunk sizes', async () => {
    const expected = await read(NASTY);
    expect(await read(NASTY, {}, () => 1)).toEqual(expected);
    for (let seed = 1; seed <= 30; seed++) {
      expect(await read(NASTY, {}, randomSizes(seed, 7))).toEqual(expected);
    }
  });

  it('reads LF, CRLF and CR line ends alike', async () => {
    const want = [
      ['a', 'b'],
      ['1', '2'],
    ];
    expect(await fields('a,b\n1,2\n')).toEqual(want);
    expect(await fields('a,b\r\n1,2\r\n')).toEqual(want);
    expect(await fields('a,b\r1,2\r')).toEqual(want);
    expect(await fields('a,b\r\n1,2')).toEqual(want);
  });

  it('counts a CRLF split across chunks once', async () => {
    const records = await read('a\r\nb\r\n"c\r\nd"\r\ne', {}, () => 2);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 5]);
  });

  it('keeps trailing empty fields and skips empty lines by default', async () => {
    expect(await fields('a,b,\n\n1,,\n,\n')).toEqual([
      ['a', 'b', null],
      ['1', null, null],
      [null, null],
    ]);
    expect(await fields('a\n\nb\n', { skipEmptyLines: false })).toEqual([['a'], [null], ['b']]);
  });

  it('answers empty strings for unquoted empty fields when asked', async () => {
    expect(await fields('a,,""\n', { nullIfEmptyUnquoted: false })).toEqual([['a', '', '']]);
  });

  it('accepts a quote inside an unquoted field literally', async () => {
    expect(await fields('5" screen,a"b"c\n')).toEqual([['5" screen', 'a"b"c']]);
  });

  it('yields batches of batchSize records', async () => {
    const text = Array.from({ length: 10 }, (_, i) => `r${i}`).join('\n');
    const sizes: number[] = [];
    for await (const batch of readCsv(
      chunked(Buffer.from(text), () => 3),
      { ...UTF8, batchSize: 4 },
    )) {
      sizes.push(batch.length);
    }
    expect(sizes).toEqual([4, 4, 2]);
  });

  it('reads semicolon and tab files', async () => {
    const semi = Buffer.from('name;price\n"a;b";1,5\n');
    expect(await fields(semi, sniffCsv(semi))).toEqual([
      ['name', 'price'],
      ['a;b', '1,5'],
    ]);
    const tab = Buffer.from('name\tnote\nx\ta, b\n');
    expect(await fields(tab, sniffCsv(tab))).toEqual([
      ['name', 'note'],
      ['x', 'a, b'],
    ]);
  });

  it('skips a UTF-8 BOM', async () => {
    const data = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('id,név\n1,é\n')]);
    const dialect = sniffCsv(data);
    expect(await fields(data, dialect)).toEqual([
      ['id', 'név'],
      ['1', 'é'],
    ]);
    expect(await read(data, dialect, () => 1)).toEqual(await read(data, dialect));
  });

  it('reads a UTF-16LE file with BOM, one byte per chunk too', async () => {
    const data = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('id,name\r\n1,"Zoë 😀"\r\n', 'utf16le'),
    ]);
    const dialect = sniffCsv(data);
    expect(dialect.encoding).toBe('utf-16le');
    const want = [
      ['id', 'name'],
      ['1', 'Zoë 😀'],
    ];
    expect(await fields(data, dialect)).toEqual(want);
    expect((await read(data, dialect, () => 1)).map((r) => r.fields)).toEqual(want);
  });

  it('reads a UTF-16BE file with BOM', async () => {
    const le = Buffer.from('a,b\n1,ü\n', 'utf16le');
    const be = Buffer.alloc(le.length);
    for (let i = 0; i < le.length; i += 2) {
      be[i] = le[i + 1]!;
      be[i + 1] = le[i]!;
    }
    const data = Buffer.concat([Buffer.from([0xfe, 0xff]), be]);
    expect(await fields(data, sniffCsv(data))).toEqual([
      ['a', 'b'],
      ['1', 'ü'],
    ]);
  });

  it('reads a windows-1252 file with é', async () => {
    const data = Buffer.from([
      ...Buffer.from('nom;ville\nRen'),
      0xe9,
      ...Buffer.from(';Besan'),
      0xe7,
      0x6f,
      0x6e,
      0x0a,
    ]);
    const dialect = sniffCsv(data);
    expect(dialect.encoding).toBe('windows-1252');
    expect(await fields(data, dialect)).toEqual([
      ['nom', 'ville'],
      ['René', 'Besançon'],
    ]);
  });

  it('refuses a dialect whose delimiter is the quote', async () => {
    const err = await failure('a\n', { delimiter: '"' });
    expect(err.code).toBe('csv_invalid_dialect');
  });
});

describe('readCsv errors', () => {
  it('csv_unbalanced_quote names the line where the field started', async () => {
    const text = 'a,b\n1,2\n3,"open\n4,5\n6,7\n';
    for (const sizes of [undefined, () => 1, randomSizes(7, 5)]) {
      const err = await failure(text, {}, sizes);
      expect(err.status).toBe(400);
      expect(err.code).toBe('csv_unbalanced_quote');
      expect(err.details).toEqual({ line: 3 });
      expect(err.message).toContain('line 3');
    }
  });

  it('csv_invalid_quote names the line and column', async () => {
    const text = 'a,b\n1,2\n"ok","bad"x,3\n';
    for (const sizes of [undefined, () => 1]) {
      const err = await failure(text, {}, sizes);
      expect(err.code).toBe('csv_invalid_quote');
      expect(err.details).toEqual({ line: 3, column: 11 });
    }
  });

  it('csv_invalid_quote counts lines inside quoted fields', async () => {
    const err = await failure('a\n"x\ny"z\n');
    expect(err.details).toEqual({ line: 3, column: 3 });
  });

  it('csv_invalid_encoding names the line and the byte offset', async () => {
    const head = Buffer.from('a,b\n1,2\n"x\ny",3\nok,');
    const data = Buffer.concat([head, Buffer.from([0xff, 0x41]), Buffer.from('\n5,6\n')]);
    for (const sizes of [undefined, () => 1, randomSizes(3, 6)]) {
      const err = await failure(data, {}, sizes);
      expect(err.code).toBe('csv_invalid_encoding');
      expect(err.details).toMatchObject({ line: 5, byteOffset: head.length, encoding: 'utf-8' });
    }
  });

  it('csv_invalid_encoding on a character split by the end of the file', async () => {
    const data = Buffer.concat([Buffer.from('a\nb\n'), Buffer.from([0xe2, 0x82])]);
    const err = await failure(data, {}, () => 1);
    expect(err.code).toBe('csv_invalid_encoding');
    expect(err.details).toMatchObject({ line: 3, byteOffset: 4 });
  });

  it('csv_invalid_encoding on a truncated character followed by ASCII, offset of its first byte', async () => {
    const data = Buffer.concat([Buffer.from('a\nbb'), Buffer.from([0xe2, 0x82]), Buffer.from('c\n')]);
    for (const sizes of [undefined, () => 1, () => 5]) {
      const err = await failure(data, {}, sizes);
      expect(err.details).toMatchObject({ line: 2, byteOffset: 4 });
    }
  });

  it('csv_invalid_encoding for a lone surrogate in UTF-16LE', async () => {
    const data = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('a\nb', 'utf16le'),
      Buffer.from([0x00, 0xdc]),
    ]);
    for (const sizes of [undefined, () => 1, () => 3]) {
      const err = await failure(data, sniffCsv(data), sizes);
      expect(err.code).toBe('csv_invalid_encoding');
      expect(err.details).toMatchObject({ line: 2, byteOffset: 8 });
    }
  });

  it('csv_field_too_large names the line where the field started', async () => {
    const text = 'a,b\n1,2\n3,"' + 'x\n'.repeat(50) + '"\n';
    for (const sizes of [undefined, () => 1, randomSizes(5, 9)]) {
      const err = await failure(text, { maxFieldBytes: 40 }, sizes);
      expect(err.code).toBe('csv_field_too_large');
      expect(err.details).toEqual({ line: 3, maxFieldBytes: 40 });
      expect(err.message).toContain('never closed');
    }
  });

  it('csv_field_too_large for unquoted fields, counted in UTF-8 bytes', async () => {
    expect((await failure('a,' + 'b'.repeat(11) + '\n', { maxFieldBytes: 10 })).code).toBe(
      'csv_field_too_large',
    );
    expect((await failure('a,' + 'é'.repeat(6) + '\n', { maxFieldBytes: 10 })).code).toBe(
      'csv_field_too_large',
    );
    expect(await fields('a,' + 'é'.repeat(5) + '\n', { maxFieldBytes: 10 })).toEqual([['a', 'ééééé']]);
  });

  it('yields the batches before an error', async () => {
    const text = 'a\nb\nc\n"d\n';
    const seen: string[] = [];
    await expect(async () => {
      for await (const batch of readCsv(
        chunked(Buffer.from(text), () => 2),
        { ...UTF8, batchSize: 1 },
      )) {
        seen.push(...batch.map((r) => r.fields[0]!));
      }
    }).rejects.toThrow(/line 4/);
    expect(seen).toEqual(['a', 'b', 'c']);
  });
});

describe('readCsv streaming', () => {
  it('streams many records with constant batches', async () => {
    async function* generate(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 200; i++) {
        yield Buffer.from(
          Array.from({ length: 100 }, (_, j) => `${i * 100 + j},"q,${j}",x`).join('\n') + '\n',
        );
      }
    }
    let count = 0;
    let last: (string | null)[] = [];
    for await (const batch of readCsv(generate(), UTF8)) {
      expect(batch.length).toBeLessThanOrEqual(2000);
      count += batch.length;
      last = batch[batch.length - 1]!.fields;
    }
    expect(count).toBe(20000);
    expect(last).toEqual(['19999', 'q,99', 'x']);
  });
});
