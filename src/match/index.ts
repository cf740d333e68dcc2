/** Entity matching shared by sync and consolidation: normalizers and match keys. */
export {
  NORMALIZE_STEPS,
  matchKey,
  normalize,
  parseNormalizeSteps,
  type NormalizeStep,
} from './normalize.js';
