/**
 * PostgreSQL array literals (`{1,2,NULL}`, `{"a b","c\"d"}`, `[0:1]={x,y}`) in both directions.
 * pg-types has a parser, but it is a transitive dependency and decodes elements lossily (numeric
 * elements become JS floats, timestamps become Dates); owning this small grammar lets array columns
 * reuse the exact element codecs of scalar columns.
 */

export type ArrayElement = string | null | ArrayElement[];

/** Parses an array literal into nested arrays of element texts (NULL -> null), then maps elements. */
export function parseArrayLiteral<T>(text: string, element: (raw: string) => T, delimiter = ','): unknown[] {
  let i = 0;
  // Explicit bounds (`[1:2]={...}`) only shift indexes, which a JSON array cannot express.
  if (text[0] === '[') {
    const eq = text.indexOf('=');
    if (eq > 0) i = eq + 1;
  }
  const parseLevel = (): unknown[] => {
    if (text[i] !== '{') throw new Error(`malformed array literal at ${i}`);
    i++;
    const out: unknown[] = [];
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      if (text[i] === '{') {
        out.push(parseLevel());
      } else if (text[i] === '"') {
        i++;
        let value = '';
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\\') i++;
          value += text[i] ?? '';
          i++;
        }
        i++; // closing quote
        out.push(element(value));
      } else {
        let end = i;
        while (end < text.length && text[end] !== delimiter && text[end] !== '}') end++;
        const raw = text.slice(i, end).trim();
        i = end;
        out.push(raw.toUpperCase() === 'NULL' ? null : element(raw));
      }
      if (text[i] === delimiter) {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return out;
      }
      throw new Error(`malformed array literal at ${i}`);
    }
  };
  return parseLevel();
}

/**
 * Serializes nested arrays to an array literal. Every element is quoted, so no element text can be
 * mistaken for NULL, a delimiter or a nested array. With `nested` false (json[] columns), an inner
 * JS array is one JSON element, not another dimension.
 */
export function serializeArrayLiteral(
  value: unknown[],
  element: (item: unknown) => string,
  nested = true,
): string {
  const parts = value.map((item) => {
    if (item === null || item === undefined) return 'NULL';
    if (nested && Array.isArray(item)) return serializeArrayLiteral(item, element);
    return `"${element(item).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  });
  return `{${parts.join(',')}}`;
}
