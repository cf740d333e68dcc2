import { describe, it, expect } from 'vitest';
import { BraidError } from '../../model/errors.js';
import { readCsv } from './csv-reader.js';

/**
 * The reader against a character-by-character reference of the same rules, on random small inputs
 * made of the characters that matter, read whole, one byte at a time and in random chunks.
 */

type Outcome =
  { records: { line: number; fields: (string | null)[] }[] } | { error: string; details: unknown };

function reference(text: string): Outcome {
  const records: { line: number; fields: (string | null)[] }[] = [];
  let fields: (string | null)[] = [];
  let field = '';
  let state: 'start' | 'unquoted' | 'quoted' | 'closed' = 'start';
  let line = 1;
  let recordLine = 1;
  let fieldLine = 1;
  let lineStart = 0;
  const endField = (value: string | null) => {
    fields.push(value);
    field = '';
  };
  const endLine = (i: number) => {
    if (fields.length > 0) records.push({ line: recordLine, fields });
    fields = [];
    line++;
    if (text[i] === '\r' && text[i + 1] === '\n') i++;
    lineStart = i + 1;
    recordLine = line;
    return i;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const nl = c === '\n' || c === '\r';
    if (state === 'quoted') {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else state = 'closed';
      } else {
        field += c;
        if (nl) {
          line++;
          if (c === '\r' && text[i + 1] === '\n') field += text[++i];
          lineStart = i + 1;
        }
      }
      continue;
    }
    if (state === 'closed' && c !== ',' && !nl) {
      return { error: 'csv_invalid_quote', details: { line, column: i - lineStart + 1 } };
    }
    if (state === 'start' && c === '"') {
      state = 'quoted';
      fieldLine = line;
      continue;
    }
    if (c === ',') {
      endField(state === 'closed' ? field : field === '' ? null : field);
      state = 'start';
    } else if (nl) {
      if (!(state === 'start' && fields.length === 0)) {
        endField(state === 'closed' ? field : field === '' ? null : field);
      }
      state = 'start';
      i = endLine(i);
    } else {
      field += c;
      state = 'unquoted';
    }
  }
  if (state === 'quoted') return { error: 'csv_unbalanced_quote', details: { line: fieldLine } };
  if (state !== 'start' || fields.length > 0) {
    endField(state === 'closed' ? field : field === '' ? null : field);
    records.push({ line: recordLine, fields });
  }
  return { records };
}

async function actual(text: string, sizes: () => number): Promise<Outcome> {
  const bytes = Buffer.from(text);
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let i = 0; i < bytes.length;) {
      const n = sizes();
      yield bytes.subarray(i, i + n);
      i += n;
    }
  }
  const records: { line: number; fields: (string | null)[] }[] = [];
  try {
    const options = { encoding: 'utf-8' as const, bomBytes: 0, delimiter: ',', quote: '"', batchSize: 3 };
    for await (const batch of readCsv(chunks(), options)) records.push(...batch);
  } catch (err) {
    if (!(err instanceof BraidError)) throw err;
    return { error: err.code, details: err.details };
  }
  return { records };
}

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

describe('readCsv against a reference parser', () => {
  it('agrees on 3000 random inputs, whatever the chunking', async () => {
    const alphabet = ['a', 'b', ',', '"', '"', '\n', '\r', '\r\n', 'é', ' ', '😀'];
    const rnd = random(42);
    for (let n = 0; n < 3000; n++) {
      const length = Math.floor(rnd() * 24);
      let text = '';
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(rnd() * alphabet.length)];
      const expected = reference(text);
      expect(await actual(text, () => 1 << 16), JSON.stringify(text)).toEqual(expected);
      expect(await actual(text, () => 1), JSON.stringify(text)).toEqual(expected);
      expect(await actual(text, () => 1 + Math.floor(rnd() * 6)), JSON.stringify(text)).toEqual(expected);
    }
  });
});
