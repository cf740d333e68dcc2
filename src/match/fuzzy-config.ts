import { BraidError, badRequest } from '../model/errors.js';
import { BLOCKING_KEY_NAMES } from './blocking.js';
import { COMPARATOR_NAMES } from './comparators.js';
import {
  DEFAULT_MAX_BLOCK_SIZE,
  DEFAULT_MIN_FIELDS,
  DEFAULT_WINDOW,
  type FuzzyConfig,
  type FuzzyField,
} from './dedupe.js';
import { parseNormalizeSteps, type NormalizeStep } from './normalize.js';

/** Validation of the `fuzzy` block of a consolidation job: every problem named by its path. */

function invalid(path: string, message: string, details: Record<string, unknown> = {}): BraidError {
  return badRequest('invalid_fuzzy', `${path}: ${message}`, { path, ...details });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(value: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value))
    if (!allowed.includes(key))
      throw invalid(`${path}.${key}`, `unknown setting; allowed: ${allowed.join(', ')}`, {
        allowed: [...allowed],
      });
}

function name(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid(path, 'must be a non-empty field name');
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string, what: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value))
    throw invalid(path, `unknown ${what} ${JSON.stringify(value)}; allowed: ${allowed.join(', ')}`, {
      allowed: [...allowed],
    });
  return value as T;
}

function wholeNumber(value: unknown, path: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw invalid(
      path,
      `must be a whole number from ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` to ${max}`}`,
    );
  return value;
}

function parseField(input: unknown, path: string): FuzzyField {
  if (!isObject(input)) throw invalid(path, 'must be an object with field, comparator and weight');
  checkKeys(input, ['field', 'comparator', 'weight', 'normalize'], path);
  const weight = input.weight ?? 1;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0)
    throw invalid(`${path}.weight`, 'must be a number > 0');
  let steps: NormalizeStep[] = [];
  try {
    steps = [...parseNormalizeSteps(input.normalize ?? [], `${path}.normalize`)];
  } catch (err) {
    // One error code for the whole configuration; the normalizer's message already names the step.
    if (err instanceof BraidError)
      throw new BraidError(400, 'invalid_fuzzy', err.message, err.details, { cause: err });
    throw err;
  }
  return {
    field: name(input.field, `${path}.field`),
    comparator: oneOf(input.comparator, COMPARATOR_NAMES, `${path}.comparator`, 'comparator'),
    weight,
    normalize: steps,
  };
}

/**
 * Checks a fuzzy matching configuration (from a consolidation job) and answers it typed, with every
 * default filled in (weight 1, no normalize steps, minFields, maxBlockSize, window). Anything else is
 * refused with `invalid_fuzzy`, naming the path of the offending setting.
 *
 * @example
 * ```ts
 * parseFuzzyConfig({ fields: [{ field: 'name', comparator: 'soundex' }], threshold: 0.9, blocking: [] }, 'job.fuzzy');
 * // throws invalid_fuzzy: "job.fuzzy.fields[0].comparator: unknown comparator "soundex"; allowed: ..."
 * ```
 */
export function parseFuzzyConfig(input: unknown, path = 'fuzzy'): FuzzyConfig {
  if (!isObject(input)) throw invalid(path, 'must be an object with fields, threshold and blocking');
  checkKeys(input, ['fields', 'threshold', 'minFields', 'blocking', 'maxBlockSize', 'window'], path);
  if (!Array.isArray(input.fields) || input.fields.length === 0)
    throw invalid(`${path}.fields`, 'must be a non-empty list of fields to compare');
  const fields = input.fields.map((f, i) => parseField(f, `${path}.fields[${i}]`));
  const threshold = input.threshold;
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1))
    throw invalid(`${path}.threshold`, 'must be a number above 0 and at most 1');
  const minFields =
    input.minFields === undefined
      ? Math.min(DEFAULT_MIN_FIELDS, fields.length)
      : wholeNumber(input.minFields, `${path}.minFields`, 1, fields.length);
  if (!Array.isArray(input.blocking) || input.blocking.length === 0)
    throw invalid(
      `${path}.blocking`,
      'must be a non-empty list of {field, key}: without blocking nothing is compared',
    );
  const blocking = input.blocking.map((entry: unknown, i) => {
    const at = `${path}.blocking[${i}]`;
    if (!isObject(entry)) throw invalid(at, 'must be an object with field and key');
    checkKeys(entry, ['field', 'key'], at);
    return {
      field: name(entry.field, `${at}.field`),
      key: oneOf(entry.key, BLOCKING_KEY_NAMES, `${at}.key`, 'blocking key'),
    };
  });
  return {
    fields,
    threshold,
    minFields,
    blocking,
    maxBlockSize:
      input.maxBlockSize === undefined
        ? DEFAULT_MAX_BLOCK_SIZE
        : wholeNumber(input.maxBlockSize, `${path}.maxBlockSize`, 2),
    window: input.window === undefined ? DEFAULT_WINDOW : wholeNumber(input.window, `${path}.window`, 2),
  };
}
