/**
 * String comparators for fuzzy matching. Each answers a similarity in [0, 1] (1 = identical) and is
 * pure. They run millions of times in one de-duplication, so they work on UTF-16 code units with
 * scratch typed arrays reused between calls instead of allocating per comparison. They compare what
 * they are given: case, accents and spacing are the business of the normalize steps that run first.
 */

export const COMPARATOR_NAMES = [
  'exact',
  'jaro_winkler',
  'levenshtein',
  'token_set',
  'digits',
  'numeric',
] as const;

export type ComparatorName = (typeof COMPARATOR_NAMES)[number];

/** A value made ready for its comparator once per record: digits extracted, numbers parsed. */
export type PreparedValue = string | number | null;

// Winkler's prefix bonus stops at four characters; a scale above 0.25 could push a score past 1.
const MAX_PREFIX = 4;
const MAX_PREFIX_SCALE = 0.25;
// A phone with a country code in front still ends with the national number; seven digits is the
// shortest subscriber number that makes "ends with" meaningful rather than a coincidence.
const MIN_SUFFIX_DIGITS = 7;

let matchedA = new Uint8Array(64);
let matchedB = new Uint8Array(64);
let row = new Int32Array(64);

function scratchFor(length: number): void {
  if (matchedA.length >= length) return;
  const size = Math.max(length, matchedA.length * 2);
  matchedA = new Uint8Array(size);
  matchedB = new Uint8Array(size);
}

/** The Jaro similarity: shared characters within a sliding window, penalised by transpositions. */
export function jaro(a: string, b: string): number {
  const la = a.length;
  const lb = b.length;
  if (la === 0 && lb === 0) return 1;
  if (la === 0 || lb === 0) return 0;
  if (a === b) return 1;
  const range = Math.max(0, Math.floor(Math.max(la, lb) / 2) - 1);
  scratchFor(Math.max(la, lb));
  matchedA.fill(0, 0, la);
  matchedB.fill(0, 0, lb);
  let matches = 0;
  for (let i = 0; i < la; i++) {
    const code = a.charCodeAt(i);
    const end = Math.min(lb - 1, i + range);
    for (let j = Math.max(0, i - range); j <= end; j++) {
      if (matchedB[j] === 0 && b.charCodeAt(j) === code) {
        matchedA[i] = 1;
        matchedB[j] = 1;
        matches++;
        break;
      }
    }
  }
  if (matches === 0) return 0;
  let outOfOrder = 0;
  for (let i = 0, k = 0; i < la; i++) {
    if (matchedA[i] === 0) continue;
    while (matchedB[k] === 0) k++;
    if (a.charCodeAt(i) !== b.charCodeAt(k)) outOfOrder++;
    k++;
  }
  const transpositions = outOfOrder / 2;
  return (matches / la + matches / lb + (matches - transpositions) / matches) / 3;
}

/**
 * Jaro-Winkler similarity: Jaro, raised for strings sharing a prefix (up to four characters), which
 * suits names, where typos are rarer at the start. The raise applies at any Jaro score (no boost
 * threshold), and `prefixScale` is clamped to 0..0.25 so the result stays within [0, 1].
 *
 * @example
 * ```ts
 * jaroWinkler('MARTHA', 'MARHTA'); // 0.961
 * jaroWinkler('DIXON', 'DICKSONX'); // 0.813
 * ```
 */
export function jaroWinkler(a: string, b: string, prefixScale = 0.1): number {
  const similarity = jaro(a, b);
  if (similarity === 1 || similarity === 0) return similarity;
  const scale = Math.min(MAX_PREFIX_SCALE, Math.max(0, prefixScale));
  const limit = Math.min(MAX_PREFIX, a.length, b.length);
  let prefix = 0;
  while (prefix < limit && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
  return similarity + prefix * scale * (1 - similarity);
}

/** The Levenshtein edit distance (insertions, deletions, substitutions), in one reused row. */
export function levenshteinDistance(a: string, b: string): number {
  let start = 0;
  let endA = a.length;
  let endB = b.length;
  // A shared prefix or suffix never changes the distance; most compared pairs share a lot of both.
  while (start < endA && start < endB && a.charCodeAt(start) === b.charCodeAt(start)) start++;
  while (endA > start && endB > start && a.charCodeAt(endA - 1) === b.charCodeAt(endB - 1)) {
    endA--;
    endB--;
  }
  const la = endA - start;
  const lb = endB - start;
  if (la === 0) return lb;
  if (lb === 0) return la;
  if (row.length < lb + 1) row = new Int32Array(Math.max(lb + 1, row.length * 2));
  for (let j = 0; j <= lb; j++) row[j] = j;
  for (let i = 1; i <= la; i++) {
    const code = a.charCodeAt(start + i - 1);
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= lb; j++) {
      const above = row[j]!;
      const substitution = diagonal + (code === b.charCodeAt(start + j - 1) ? 0 : 1);
      row[j] = Math.min(above + 1, row[j - 1]! + 1, substitution);
      diagonal = above;
    }
  }
  return row[lb]!;
}

/** 1 - distance / length of the longer string; two empty strings are identical. */
export function levenshteinSimilarity(a: string, b: string): number {
  const longest = Math.max(a.length, b.length);
  if (longest === 0) return 1;
  return 1 - levenshteinDistance(a, b) / longest;
}

const WORD = /[\p{L}\p{N}]+/gu;

function wordSet(text: string): Set<string> {
  return new Set(text.match(WORD) ?? []);
}

/**
 * Jaccard similarity of the sets of words (letters and digits; punctuation and spacing separate
 * them), so word order and repeated words do not matter: "Smith, John" and "John Smith" give 1.
 * Two texts without any word are identical.
 */
export function tokenSetSimilarity(a: string, b: string): number {
  const left = wordSet(a);
  const right = wordSet(b);
  if (left.size === 0 && right.size === 0) return 1;
  let shared = 0;
  for (const word of left) if (right.has(word)) shared++;
  return shared / (left.size + right.size - shared);
}

function digitSimilarity(a: string, b: string): number {
  if (a === b) return 1;
  const [shorter, longer] = a.length <= b.length ? [a, b] : [b, a];
  if (shorter.length >= MIN_SUFFIX_DIGITS && longer.endsWith(shorter)) return 1;
  return levenshteinSimilarity(a, b);
}

function numericSimilarity(a: number, b: number): number {
  if (a === b) return 1;
  const scale = Math.max(Math.abs(a), Math.abs(b));
  // Opposite signs differ by more than the larger magnitude: no similarity, not a negative one.
  return Math.max(0, 1 - Math.abs(a - b) / scale);
}

/**
 * Brings a value into the form its comparator works on, so a de-duplication does it once per record
 * rather than once per compared pair. Null means "no evidence": a null or empty value, a `digits`
 * value without any digit, a `numeric` value that is not a finite number.
 */
export function prepareValue(name: ComparatorName, value: string | null): PreparedValue {
  if (value === null || value === '') return null;
  if (name === 'digits') {
    const digits = value.normalize('NFKC').replace(/[^0-9]/g, '');
    return digits === '' ? null : digits;
  }
  if (name === 'numeric') {
    const text = value.trim();
    const number = text === '' ? Number.NaN : Number(text);
    return Number.isFinite(number) ? number : null;
  }
  return value;
}

/** Compares two values already passed through {@link prepareValue} with the same comparator. */
export function comparePrepared(name: ComparatorName, a: PreparedValue, b: PreparedValue): number | null {
  if (a === null || b === null) return null;
  if (name === 'numeric') return numericSimilarity(Number(a), Number(b));
  const left = String(a);
  const right = String(b);
  switch (name) {
    case 'exact':
      return left === right ? 1 : 0;
    case 'jaro_winkler':
      return jaroWinkler(left, right);
    case 'levenshtein':
      return levenshteinSimilarity(left, right);
    case 'token_set':
      return tokenSetSimilarity(left, right);
    case 'digits':
      return digitSimilarity(left, right);
  }
}

/**
 * Similarity of two values with the named comparator, or null when either side gives no evidence
 * (null or empty; for `digits` no digit at all; for `numeric` not a number).
 *
 * - `exact`: 1 when equal, else 0.
 * - `jaro_winkler`, `levenshtein`, `token_set`: see the functions of the same names.
 * - `digits`: compares only the digits: 1 when equal, 1 when one ends with the other and the
 *   shorter has at least 7 digits (a country code in front), else their Levenshtein similarity.
 * - `numeric`: 1 - |a - b| / max(|a|, |b|), never below 0.
 *
 * @example
 * ```ts
 * compare('digits', '+1 (555) 010-4477', '555.010.4477'); // 1
 * compare('token_set', 'Smith John', 'John Smith'); // 1
 * compare('exact', 'a@example.com', null); // null
 * ```
 */
export function compare(name: ComparatorName, a: string | null, b: string | null): number | null {
  return comparePrepared(name, prepareValue(name, a), prepareValue(name, b));
}
