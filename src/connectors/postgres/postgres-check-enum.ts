/**
 * Recognizes a CHECK constraint that restricts one text column to a list of values, as written by
 * Braid's DDL for `enum` columns (`text check (col in ('a', 'b'))`) or by hand, and returns the
 * values. PostgreSQL stores the expression, so this reads its deparsed form, e.g.
 *   CHECK ((status = ANY (ARRAY['new'::text, 'done'::text])))
 *   CHECK (((status)::text = ANY ((ARRAY['new'::character varying])::text[])))
 *   CHECK ((status = 'new'::text))
 * Anything else (other operators, functions, AND/OR) is not an enum and yields null.
 */

const LITERAL_RE = /'((?:[^']|'')*)'(?:::[a-z ]+(?:\[\])?)?/gi;
const COLUMN_RE = /^\(?("(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)\)?(?:::[a-z ]+)? = (.*)$/is;
const LIST_SKELETON_RE = /^ANY \(\(?ARRAY\[L(?:, L)*\]\)?(?:::[a-z ]+\[\])?\)$/i;

function stripParens(text: string): string {
  let out = text.trim();
  while (out.startsWith('(') && out.endsWith(')') && balanced(out.slice(1, -1)))
    out = out.slice(1, -1).trim();
  return out;
}

/** Parentheses balance outside string literals. */
function balanced(text: string): boolean {
  let depth = 0;
  let quoted = false;
  for (const ch of text) {
    if (ch === "'") quoted = !quoted;
    else if (!quoted && ch === '(') depth++;
    else if (!quoted && ch === ')' && --depth < 0) return false;
  }
  return depth === 0 && !quoted;
}

function unquoteIdentifier(ref: string): string {
  return ref.startsWith('"') ? ref.slice(1, -1).replace(/""/g, '"') : ref;
}

export function enumValuesFromCheck(definition: string, column: string): string[] | null {
  const m = /^CHECK \((.*)\)(?: NOT VALID)?$/is.exec(definition.trim());
  if (!m) return null;
  const comparison = COLUMN_RE.exec(stripParens(m[1]!));
  if (!comparison || unquoteIdentifier(comparison[1]!) !== column) return null;
  const values: string[] = [];
  const skeleton = comparison[2]!.replace(LITERAL_RE, (_all, body: string) => {
    values.push(body.replace(/''/g, "'"));
    return 'L';
  });
  if (values.length === 0) return null;
  if (skeleton.trim() === 'L' || LIST_SKELETON_RE.test(skeleton.trim())) return values;
  return null;
}
