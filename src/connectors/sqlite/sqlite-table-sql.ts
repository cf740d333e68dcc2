/**
 * What the pragmas do not tell: enum-like CHECK constraints and the names of UNIQUE constraints live
 * only in the CREATE TABLE text SQLite keeps in sqlite_schema. A small tokenizer reads them
 * (quoted identifiers and string literals included) instead of regular expressions that a `)` inside
 * a literal would fool.
 */
interface Token {
  kind: 'word' | 'quoted' | 'string' | 'other';
  /** Identifier or unescaped literal text; the character itself for `other`. */
  text: string;
}

const QUOTES: Record<string, string> = { '"': '"', '`': '`', '[': ']' };

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '-' && text[i + 1] === '-') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end + 1;
    } else if (ch === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 2;
    } else if (ch === "'" || ch in QUOTES) {
      const close = ch === "'" ? "'" : QUOTES[ch]!;
      let value = '';
      let j = i + 1;
      while (j < text.length) {
        if (text[j] === close && close !== ']' && text[j + 1] === close) {
          value += close;
          j += 2;
        } else if (text[j] === close) {
          break;
        } else {
          value += text[j];
          j++;
        }
      }
      tokens.push({ kind: ch === "'" ? 'string' : 'quoted', text: value });
      i = j + 1;
    } else if (/[\p{L}_\d$]/u.test(ch)) {
      const m = /^[\p{L}\p{N}_$]+/u.exec(text.slice(i))!;
      tokens.push({ kind: 'word', text: m[0] });
      i += m[0].length;
    } else {
      tokens.push({ kind: 'other', text: ch });
      i++;
    }
  }
  return tokens;
}

function isWord(token: Token | undefined, word: string): boolean {
  return token?.kind === 'word' && token.text.toUpperCase() === word;
}

function isIdentifier(token: Token | undefined): token is Token {
  return token !== undefined && (token.kind === 'word' || token.kind === 'quoted');
}

function isChar(token: Token | undefined, ch: string): boolean {
  return token?.kind === 'other' && token.text === ch;
}

/**
 * `CHECK (col IN ('a', 'b'))`, the form Braid writes for enums and the one most tools write:
 * column name (as written) -> allowed values in order. Any other CHECK shape is ignored.
 */
export function enumChecks(createSql: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const tokens = tokenize(createSql);
  for (let i = 0; i < tokens.length; i++) {
    if (!isWord(tokens[i], 'CHECK') || !isChar(tokens[i + 1], '(')) continue;
    const column = tokens[i + 2];
    if (!isIdentifier(column) || !isWord(tokens[i + 3], 'IN') || !isChar(tokens[i + 4], '(')) continue;
    const values: string[] = [];
    let j = i + 5;
    while (tokens[j]?.kind === 'string') {
      values.push(tokens[j]!.text);
      if (isChar(tokens[j + 1], ',')) j += 2;
      else {
        j += 1;
        break;
      }
    }
    if (values.length > 0 && isChar(tokens[j], ')') && isChar(tokens[j + 1], ')'))
      found.set(column.text, values);
  }
  return found;
}

/** `CONSTRAINT name UNIQUE (a, b)` -> name, keyed by the column list joined with NUL. */
export function namedUniqueConstraints(createSql: string): Map<string, string> {
  const found = new Map<string, string>();
  const tokens = tokenize(createSql);
  for (let i = 0; i < tokens.length; i++) {
    const name = tokens[i + 1];
    if (!isWord(tokens[i], 'CONSTRAINT') || !isIdentifier(name) || !isWord(tokens[i + 2], 'UNIQUE')) continue;
    if (!isChar(tokens[i + 3], '(')) continue;
    const columns: string[] = [];
    let j = i + 4;
    let depth = 0;
    let expectColumn = true;
    for (; j < tokens.length; j++) {
      const token = tokens[j]!;
      if (isChar(token, '(')) depth++;
      else if (isChar(token, ')') && depth-- === 0) break;
      else if (depth === 0 && isChar(token, ',')) expectColumn = true;
      else if (expectColumn && isIdentifier(token)) {
        columns.push(token.text);
        expectColumn = false;
      }
    }
    if (columns.length > 0) found.set(columns.map((c) => c.toLowerCase()).join('\u0000'), name.text);
  }
  return found;
}
