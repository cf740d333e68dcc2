import { badRequest } from '../model/errors.js';
import type { Row } from '../model/values.js';

/** The normalization steps a match key (sync) or a comparison (consolidation) may use. */
export const NORMALIZE_STEPS = [
  'trim',
  'lower',
  'upper',
  'collapse_spaces',
  'strip_punctuation',
  'digits',
  'email',
  'unaccent',
] as const;

export type NormalizeStep = (typeof NORMALIZE_STEPS)[number];

// Locale-independent case mapping (`toLowerCase`, never `toLocaleLowerCase`): the same key on every
// machine, whatever its locale (a Turkish locale would otherwise map "I" to a dotless "ı").
const STEP_FUNCTIONS: Record<NormalizeStep, (text: string) => string> = {
  trim: (t) => t.trim(),
  lower: (t) => t.toLowerCase(),
  upper: (t) => t.toUpperCase(),
  // JavaScript's \s covers Unicode spaces (no-break space, ideographic space, line separators).
  collapse_spaces: (t) => t.replace(/\s+/gu, ' '),
  strip_punctuation: (t) => t.replace(/\p{P}/gu, ''),
  // NFKC first turns full-width and other compatibility digits into ASCII ones, so "５５５" counts.
  digits: (t) => t.normalize('NFKC').replace(/[^0-9]/g, ''),
  email: (t) => t.trim().toLowerCase(),
  // Decompose, drop the combining marks, recompose what remains: "Chloé" -> "Chloe", "Ø" stays.
  unaccent: (t) => t.normalize('NFKD').replace(/\p{M}/gu, '').normalize('NFC'),
};

function isStep(name: unknown): name is NormalizeStep {
  return typeof name === 'string' && (NORMALIZE_STEPS as readonly string[]).includes(name);
}

/**
 * Checks a list of step names (from a sync rule or a consolidation job) and answers it typed.
 * Refuses anything else with `invalid_normalizer`, naming `path` and listing the allowed steps.
 */
export function parseNormalizeSteps(input: unknown, path = 'normalize'): NormalizeStep[] {
  if (!Array.isArray(input)) {
    throw badRequest(
      'invalid_normalizer',
      `${path} must be a list of steps (${NORMALIZE_STEPS.join(', ')})`,
      {
        path,
      },
    );
  }
  input.forEach((name, i) => {
    if (!isStep(name)) {
      throw badRequest(
        'invalid_normalizer',
        `${path}[${i}]: unknown normalizer ${JSON.stringify(name)}; allowed: ${NORMALIZE_STEPS.join(', ')}`,
        { path: `${path}[${i}]`, step: name, allowed: [...NORMALIZE_STEPS] },
      );
    }
  });
  return input as NormalizeStep[];
}

/**
 * Normalizes a value for comparison, applying `steps` in order. Text is first brought to Unicode
 * NFC, so a composed "é" and an "e" + combining accent give the same result. Numbers, booleans and
 * bigint strings are compared through their text (`5551234567` and `'5551234567'` give the same
 * key); null and undefined stay null. Objects (JSON values) are compared through their JSON text.
 *
 * @example
 * ```ts
 * normalize('  Blue  Bakery LLC ', ['trim', 'lower', 'collapse_spaces']); // 'blue bakery llc'
 * normalize('+1 (555) 010-4477', ['digits']); // '15550104477'
 * normalize('Chloé', ['unaccent', 'lower']); // 'chloe'
 * normalize('x', ['shout']); // throws invalid_normalizer, listing the allowed steps
 * ```
 */
export function normalize(value: unknown, steps: readonly string[]): string | null {
  const checked = parseNormalizeSteps(steps);
  if (value === null || value === undefined) return null;
  let text =
    typeof value === 'string'
      ? value
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value as number | boolean | bigint);
  text = text.normalize('NFC');
  for (const step of checked) text = STEP_FUNCTIONS[step](text);
  return text;
}

/**
 * The match key of a row: its `column` normalized with `steps`. An empty key (a blank name, a phone
 * without digits) is null like a missing one, because blanks must never match each other.
 *
 * @example
 * ```ts
 * matchKey({ id: 7, business_name: ' BLUE Bakery  LLC' }, 'business_name', ['trim', 'lower', 'collapse_spaces']);
 * // 'blue bakery llc'
 * ```
 */
export function matchKey(row: Row, column: string, steps: readonly string[]): string | null {
  const key = normalize(row[column], steps);
  return key === null || key === '' ? null : key;
}
