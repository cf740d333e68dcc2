/**
 * Row images arrive as JSON text built by the database. `JSON.parse` would turn a bigint beyond
 * 2^53 or a decimal like 12.50 into a rounded JS number, so the numbers directly under the top-level
 * object are kept as their exact text (the column codecs take text); nested values (inside a json
 * column) parse normally, as the connectors parse json columns.
 */
export class JsonNumber {
  constructor(readonly text: string) {}
}

/** Parses a JSON object; top-level number members become JsonNumber with their exact spelling. */
export function parseImage(text: string): Record<string, unknown> {
  const parsed = JSON.parse(text) as unknown;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('a row image must be a JSON object');
  }
  const row = parsed as Record<string, unknown>;
  for (const [key, raw] of topLevelNumbers(text)) row[key] = new JsonNumber(raw);
  return row;
}

/** The members of the top-level object whose value is a number, with the number's source text. */
function topLevelNumbers(text: string): [string, string][] {
  const found: [string, string][] = [];
  let depth = 0;
  let key: string | null = null;
  let expectValue = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"') {
      const end = stringEnd(text, i);
      if (depth === 1 && !expectValue) key = JSON.parse(text.slice(i, end)) as string;
      else if (depth === 1) expectValue = false;
      i = end;
      continue;
    }
    if (ch === '{' || ch === '[') {
      if (depth === 1) expectValue = false;
      depth++;
    } else if (ch === '}' || ch === ']') depth--;
    else if (ch === ':' && depth === 1) expectValue = true;
    else if (depth === 1 && expectValue && (ch === '-' || (ch >= '0' && ch <= '9'))) {
      let end = i + 1;
      while (end < text.length && /[0-9eE.+-]/.test(text[end]!)) end++;
      found.push([key!, text.slice(i, end)]);
      expectValue = false;
      i = end;
      continue;
    } else if (depth === 1 && expectValue && /[tfn]/.test(ch)) expectValue = false;
    i++;
  }
  return found;
}

function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i + 1;
}
