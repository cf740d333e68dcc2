/** Entity matching shared by sync and consolidation: normalizers and match keys. */
export {
  NORMALIZE_STEPS,
  matchKey,
  normalize,
  parseNormalizeSteps,
  type NormalizeStep,
} from './normalize.js';
export {
  COMPARATOR_NAMES,
  compare,
  comparePrepared,
  jaro,
  jaroWinkler,
  levenshteinDistance,
  levenshteinSimilarity,
  prepareValue,
  tokenSetSimilarity,
  type ComparatorName,
  type PreparedValue,
} from './comparators.js';
export { BLOCKING_KEY_NAMES, blockingKey, soundex, type BlockingKeyName } from './blocking.js';
export { Clusters } from './clusters.js';
export {
  DEFAULT_MAX_BLOCK_SIZE,
  DEFAULT_WINDOW,
  findFuzzyPairs,
  fuzzyMatch,
  type FuzzyConfig,
  type FuzzyField,
  type FuzzyMatchStats,
  type MatchRecord,
  type PairEvidence,
} from './dedupe.js';
export { parseFuzzyConfig } from './fuzzy-config.js';
