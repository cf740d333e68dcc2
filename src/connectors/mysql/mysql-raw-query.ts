import mysql from 'mysql2';
import { badRequest } from '../../model/errors.js';
import { skipQuoted } from '../shared/named-bindings.js';

/**
 * Inlines `?` parameters into user SQL, skipping string literals, quoted identifiers and comments.
 * mysql2's own formatter replaces every `?`, also one inside `'why?'`, which would shift all
 * values by one; this one only touches real placeholders. Values are escaped by mysql2
 * (the session never runs with NO_BACKSLASH_ESCAPES, see mysql-session.ts).
 */
export function inlineParams(text: string, params: readonly unknown[]): string {
  if (params.length === 0) return text;
  let out = '';
  let used = 0;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const next = text[i + 1];
    let end = i + 1;
    if (ch === "'" || ch === '"' || ch === '`') end = skipQuoted(text, i, ch, true);
    // MySQL needs whitespace after `--` for a comment (`5--1` is arithmetic).
    else if ((ch === '-' && next === '-' && /\s/.test(text[i + 2] ?? ' ')) || ch === '#')
      end = lineEnd(text, i);
    else if (ch === '/' && next === '*') end = commentEnd(text, i);
    else if (ch === '?') {
      if (used >= params.length) {
        throw badRequest(
          'missing_binding',
          `the SQL has more ? placeholders than the ${params.length} values given`,
        );
      }
      out += mysql.escape(toDriverValue(params[used++]) as Parameters<typeof mysql.escape>[0]);
      i++;
      continue;
    }
    out += text.slice(i, end);
    i = end;
  }
  if (used !== params.length) {
    throw badRequest('unused_binding', `${params.length} values were given for ${used} ? placeholders`);
  }
  return out;
}

/** JSON-able values become JSON text (mysql2 would expand objects into `key = value` lists). */
function toDriverValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value) && !(value instanceof Date)) {
    return JSON.stringify(value);
  }
  return value;
}

function lineEnd(text: string, start: number): number {
  const end = text.indexOf('\n', start);
  return end === -1 ? text.length : end;
}

function commentEnd(text: string, start: number): number {
  const end = text.indexOf('*/', start + 2);
  return end === -1 ? text.length : end + 2;
}
