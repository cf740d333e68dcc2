import { badRequest } from '../../model/errors.js';

/**
 * Rewrites `:name` bindings of user SQL to the engine's positional placeholders and returns the
 * values in order, so user values are always sent as bound parameters. String literals, quoted
 * identifiers, comments, PostgreSQL `::casts` and dollar-quoted bodies are left alone.
 * Positional SQL (`?` / `$1`) with an array of values passes through unchanged.
 */
export function bindNamed(
  text: string,
  bindings: Record<string, unknown> | unknown[] | undefined,
  placeholder: (index: number) => string,
  backslashEscapes = false,
): { sql: string; params: unknown[] } {
  if (bindings === undefined || Array.isArray(bindings)) return { sql: text, params: bindings ?? [] };
  const params: unknown[] = [];
  const used = new Set<string>();
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const next = text[i + 1];
    if (ch === "'" || ch === '"' || ch === '`') {
      const end = skipQuoted(text, i, ch, backslashEscapes);
      out += text.slice(i, end);
      i = end;
    } else if (ch === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      out += text.slice(i, stop);
      i = stop;
    } else if (ch === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out += text.slice(i, stop);
      i = stop;
    } else if (ch === '$' && /[A-Za-z_$]/.test(next ?? '')) {
      const tag = /^\$[A-Za-z_]*\$/.exec(text.slice(i));
      if (tag) {
        const end = text.indexOf(tag[0], i + tag[0].length);
        const stop = end === -1 ? text.length : end + tag[0].length;
        out += text.slice(i, stop);
        i = stop;
      } else {
        out += ch;
        i++;
      }
    } else if (ch === ':' && next === ':') {
      out += '::';
      i += 2;
    } else if (ch === ':' && /[A-Za-z_]/.test(next ?? '')) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1))![0];
      if (!(name in bindings)) {
        throw badRequest('missing_binding', `SQL uses :${name} but bindings has no "${name}"`, {
          binding: name,
        });
      }
      used.add(name);
      params.push(bindings[name]);
      out += placeholder(params.length);
      i += name.length + 1;
    } else {
      out += ch;
      i++;
    }
  }
  const unused = Object.keys(bindings).filter((k) => !used.has(k));
  if (unused.length > 0) {
    throw badRequest(
      'unused_binding',
      `bindings ${unused.map((u) => `"${u}"`).join(', ')} not used in the SQL`,
      {
        bindings: unused,
      },
    );
  }
  return { sql: out, params };
}

/**
 * The end of a quoted literal or identifier starting at `start`. A doubled quote stays inside;
 * a backslash escapes the next character only in MySQL string literals (`backslashEscapes`), not
 * in identifiers nor on engines with standard strings.
 */
export function skipQuoted(text: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < text.length) {
    if (backslashEscapes && text[i] === '\\' && quote !== '`') {
      i += 2;
      continue;
    }
    if (text[i] === quote) {
      if (text[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return text.length;
}
