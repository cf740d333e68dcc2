/**
 * Blocking keys: cheap keys that put records likely to match in the same block, so a
 * de-duplication compares the records of each block instead of every pair of records. A key is
 * computed on the value after the field's normalize steps; null keeps the record out of the pass.
 */

export const BLOCKING_KEY_NAMES = [
  'prefix3',
  'prefix5',
  'soundex',
  'digits_last7',
  'email_local',
  'exact',
] as const;

export type BlockingKeyName = (typeof BLOCKING_KEY_NAMES)[number];

const SOUNDEX_LENGTH = 4;
const PHONE_SUFFIX_DIGITS = 7;

// American Soundex digit of each letter A..Z; 0 for vowels (and Y), which separate equal digits,
// -1 for H and W, which do not.
const SOUNDEX_CODES = [
  0, 1, 2, 3, 0, 1, 2, -1, 0, 2, 2, 4, 5, 5, 0, 1, 2, 6, 2, 3, 0, 1, -1, 2, 0, 2,
] as const;
const CODE_A = 65;

function asciiLetters(word: string): string {
  // Decomposing first keeps the base letter of an accented one: "Müller" codes as "MULLER".
  return word
    .normalize('NFKD')
    .toUpperCase()
    .replace(/[^A-Z]/g, '');
}

/**
 * American Soundex of the first word of `word` (words are separated by spaces): its first letter
 * and the digits of the next consonant sounds, padded with zeros to four characters. Letters
 * outside A-Z (after removing accents) are ignored; a word without any gives ''.
 *
 * @example
 * ```ts
 * soundex('Robert'); // 'R163'
 * soundex('Tymczak'); // 'T522'
 * soundex('Ashcraft'); // 'A261' (H and W do not separate equal codes)
 * ```
 */
export function soundex(word: string): string {
  const first = word.trim().split(/\s+/u, 1)[0] ?? '';
  const letters = asciiLetters(first);
  if (letters === '') return '';
  let key = letters[0]!;
  let previous: number = SOUNDEX_CODES[letters.charCodeAt(0) - CODE_A]!;
  for (let i = 1; i < letters.length && key.length < SOUNDEX_LENGTH; i++) {
    const code: number = SOUNDEX_CODES[letters.charCodeAt(i) - CODE_A]!;
    if (code === -1) continue;
    if (code !== 0 && code !== previous) key += String(code);
    previous = code;
  }
  return key.padEnd(SOUNDEX_LENGTH, '0');
}

/**
 * The blocking key of a (normalized) value, or null when the value gives none:
 *
 * - `prefix3`, `prefix5`: its first 3 or 5 characters (shorter values are their own key);
 * - `soundex`: {@link soundex} of its first word;
 * - `digits_last7`: its last 7 digits (all of them when fewer), so "+1 555 010 4477" and
 *   "(555) 010-4477" share a block;
 * - `email_local`: the part before the last "@", without a "+tag", lower-cased;
 * - `exact`: the value itself.
 *
 * @example
 * ```ts
 * blockingKey('soundex', 'Smith'); // 'S530'
 * blockingKey('email_local', 'Ada+news@Example.com'); // 'ada'
 * blockingKey('digits_last7', 'n/a'); // null
 * ```
 */
export function blockingKey(name: BlockingKeyName, value: string | null): string | null {
  if (value === null || value === '') return null;
  let key: string;
  switch (name) {
    case 'prefix3':
      key = Array.from(value).slice(0, 3).join('');
      break;
    case 'prefix5':
      key = Array.from(value).slice(0, 5).join('');
      break;
    case 'soundex':
      key = soundex(value);
      break;
    case 'digits_last7':
      key = value
        .normalize('NFKC')
        .replace(/[^0-9]/g, '')
        .slice(-PHONE_SUFFIX_DIGITS);
      break;
    case 'email_local': {
      const at = value.lastIndexOf('@');
      key = at < 0 ? '' : (value.slice(0, at).split('+', 1)[0] ?? '').trim().toLowerCase();
      break;
    }
    case 'exact':
      key = value;
      break;
  }
  return key === '' ? null : key;
}
