import { blockingKey, type BlockingKeyName } from './blocking.js';
import { comparePrepared, prepareValue, type ComparatorName, type PreparedValue } from './comparators.js';
import { normalize, type NormalizeStep } from './normalize.js';

/** One field compared between two records: its comparator, its weight in the score, its normalization. */
export interface FuzzyField {
  field: string;
  comparator: ComparatorName;
  /** > 0 */
  weight: number;
  /** Applied to the raw value before comparing and before computing blocking keys. */
  normalize?: NormalizeStep[];
}

/**
 * How records are found to be duplicates.
 *
 * @example
 * ```ts
 * const config = parseFuzzyConfig({
 *   fields: [
 *     { field: 'first_name', comparator: 'jaro_winkler', weight: 1, normalize: ['trim', 'lower'] },
 *     { field: 'last_name', comparator: 'jaro_winkler', weight: 1, normalize: ['trim', 'lower'] },
 *     { field: 'email', comparator: 'exact', weight: 2, normalize: ['email'] },
 *     { field: 'phone', comparator: 'digits', weight: 2 },
 *   ],
 *   threshold: 0.85,
 *   blocking: [
 *     { field: 'last_name', key: 'soundex' },
 *     { field: 'phone', key: 'digits_last7' },
 *     { field: 'email', key: 'exact' },
 *   ],
 * });
 * const pairs = findFuzzyPairs(records, config);
 * ```
 */
export interface FuzzyConfig {
  fields: FuzzyField[];
  /** A pair matches when the weighted mean of the available field scores (fields null on either side are left out) is >= threshold; at least minFields fields must have evidence (default 2, or fields.length if fewer). */
  threshold: number;
  minFields?: number;
  /**
   * Each entry is one blocking pass: records sharing the key of that field are compared. Pairs found
   * by any pass count (union). The field's value is normalized with the steps of the first entry of
   * `fields` that names it (none when no entry does).
   */
  blocking: { field: string; key: BlockingKeyName }[];
  /** A block bigger than this is compared with a sorted-neighbourhood window instead of all pairs (default 500, window 50). */
  maxBlockSize?: number;
  window?: number;
}

export interface MatchRecord {
  /** Dense: the ids of n records are 0..n-1. */
  id: number;
  values: Record<string, string | null>;
}

/** Why two records matched: the score of every field (null: no evidence) on the normalized values compared. */
export interface PairEvidence {
  a: number;
  b: number;
  score: number;
  fields: {
    field: string;
    comparator: ComparatorName;
    score: number | null;
    a: string | null;
    b: string | null;
  }[];
  /** The first blocking pass that compared the pair, e.g. 'last_name:soundex=S530'. */
  blockedBy: string;
}

/** What a de-duplication did, for logs and benchmarks. */
export interface FuzzyMatchStats {
  records: number;
  /** Pairs scored, each counted once however many passes put them in a block. */
  comparedPairs: number;
  matchedPairs: number;
  /** Blocks of two or more records, over all passes. */
  blocks: number;
  /** Of those, the blocks over maxBlockSize, compared with a sliding window. */
  windowedBlocks: number;
}

export const DEFAULT_MAX_BLOCK_SIZE = 500;
export const DEFAULT_WINDOW = 50;
export const DEFAULT_MIN_FIELDS = 2;
// Weighted means are sums of floating-point products: a pair exactly at the threshold must not
// miss it by a rounding error.
const SCORE_TOLERANCE = 1e-12;
// Separates the parts of a sort key; below any character a normalized value contains.
const KEY_SEPARATOR = '\u0000';

interface PreparedField {
  field: string;
  comparator: ComparatorName;
  weight: number;
  /** Per record id: the normalized value (shown as evidence) and the comparator's form of it. */
  shown: (string | null)[];
  prepared: PreparedValue[];
}

/** One blocking pass, kept so later passes can tell whether it already compared a pair. */
interface Pass {
  label: string;
  /** Per record id: its block, or -1 without a key. */
  blockOf: Int32Array;
  /** Per record id: its rank in its block's comparison order. */
  rank: Int32Array;
  blockKeys: string[];
  /** Per block: 1 when compared with a window rather than all pairs. */
  windowed: Uint8Array;
}

function normalizedColumn(
  records: MatchRecord[],
  field: string,
  steps: readonly NormalizeStep[],
): (string | null)[] {
  const column = new Array<string | null>(records.length);
  for (const record of records) {
    const value = normalize(record.values[field] ?? null, steps);
    column[record.id] = value === '' ? null : value;
  }
  return column;
}

function checkIds(records: MatchRecord[]): void {
  const seen = new Uint8Array(records.length);
  for (const { id } of records) {
    if (!Number.isInteger(id) || id < 0 || id >= records.length || seen[id] === 1)
      throw new RangeError(`record ids must be 0..${records.length - 1}, each once; got ${id}`);
    seen[id] = 1;
  }
}

/** Scores pairs; answers null below the threshold or without enough evidence. */
function pairScorer(fields: PreparedField[], threshold: number, minFields: number) {
  const totalWeight = fields.reduce((sum, f) => sum + f.weight, 0);
  return (a: number, b: number): number | null => {
    let weighted = 0;
    let weights = 0;
    let evidence = 0;
    let unseen = totalWeight;
    for (const field of fields) {
      unseen -= field.weight;
      const score = comparePrepared(field.comparator, field.prepared[a]!, field.prepared[b]!);
      if (score !== null) {
        weighted += score * field.weight;
        weights += field.weight;
        evidence++;
      }
      // Even perfect scores on every field left cannot lift the mean to the threshold: stop early.
      if (weights > 0 && (weighted + unseen) / (weights + unseen) < threshold - SCORE_TOLERANCE) return null;
    }
    if (evidence < minFields || weights === 0) return null;
    const mean = weighted / weights;
    return mean >= threshold - SCORE_TOLERANCE ? Math.min(1, mean) : null;
  };
}

function explain(
  fields: PreparedField[],
  a: number,
  b: number,
  score: number,
  blockedBy: string,
): PairEvidence {
  return {
    a,
    b,
    score,
    fields: fields.map((f) => ({
      field: f.field,
      comparator: f.comparator,
      score: comparePrepared(f.comparator, f.prepared[a]!, f.prepared[b]!),
      a: f.shown[a]!,
      b: f.shown[b]!,
    })),
    blockedBy,
  };
}

/** Groups record ids by key (null: no block); answers each block's members and each record's block. */
function buildBlocks(keys: (string | null)[]): {
  blockOf: Int32Array;
  blockKeys: string[];
  members: number[][];
} {
  const blockOf = new Int32Array(keys.length).fill(-1);
  const indexOfKey = new Map<string, number>();
  const blockKeys: string[] = [];
  const members: number[][] = [];
  keys.forEach((key, id) => {
    if (key === null) return;
    let index = indexOfKey.get(key);
    if (index === undefined) {
      index = members.length;
      indexOfKey.set(key, index);
      blockKeys.push(key);
      members.push([]);
    }
    members[index]!.push(id);
    blockOf[id] = index;
  });
  return { blockOf, blockKeys, members };
}

/**
 * Finds every pair of records whose score reaches the threshold, each pair once (a < b) and in
 * ascending (a, b) order, with the evidence that explains it, and says how much work that took.
 * Blocks up to `maxBlockSize` records compare all their pairs; a bigger block is sorted (by the
 * blocking field's value, then the compared fields in order) and each record is compared with the
 * next `window - 1` records, so neighbours in that order are always compared.
 */
export function fuzzyMatch(
  records: MatchRecord[],
  config: FuzzyConfig,
): { pairs: PairEvidence[]; stats: FuzzyMatchStats } {
  checkIds(records);
  const finder = new PairFinder(records, config);
  for (const { field, key } of config.blocking) finder.runPass(field, key);
  return finder.result();
}

/** The state of one de-duplication: prepared fields, the passes run so far, what they found. */
class PairFinder {
  private readonly fields: PreparedField[];
  private readonly score: (a: number, b: number) => number | null;
  private readonly maxBlockSize: number;
  private readonly window: number;
  private readonly passes: Pass[] = [];
  private readonly pairs: PairEvidence[] = [];
  private readonly stats: FuzzyMatchStats;

  constructor(
    private readonly records: MatchRecord[],
    config: FuzzyConfig,
  ) {
    this.maxBlockSize = config.maxBlockSize ?? DEFAULT_MAX_BLOCK_SIZE;
    this.window = config.window ?? DEFAULT_WINDOW;
    const minFields = config.minFields ?? Math.min(DEFAULT_MIN_FIELDS, config.fields.length);
    this.fields = config.fields.map((f) => {
      const shown = normalizedColumn(records, f.field, f.normalize ?? []);
      return { ...f, shown, prepared: shown.map((value) => prepareValue(f.comparator, value)) };
    });
    this.score = pairScorer(this.fields, config.threshold, minFields);
    this.stats = { records: records.length, comparedPairs: 0, matchedPairs: 0, blocks: 0, windowedBlocks: 0 };
  }

  /** Compares the pairs of every block of one blocking key that no earlier pass compared. */
  runPass(field: string, key: BlockingKeyName): void {
    const shown =
      this.fields.find((f) => f.field === field)?.shown ?? normalizedColumn(this.records, field, []);
    const { blockOf, blockKeys, members } = buildBlocks(shown.map((value) => blockingKey(key, value)));
    const pass: Pass = {
      label: `${field}:${key}`,
      blockOf,
      rank: new Int32Array(this.records.length),
      blockKeys,
      windowed: new Uint8Array(members.length),
    };
    members.forEach((ids, block) => {
      if (ids.length < 2) return;
      this.stats.blocks++;
      if (ids.length > this.maxBlockSize) {
        this.stats.windowedBlocks++;
        pass.windowed[block] = 1;
        sortForWindow(ids, shown, this.fields);
      }
      ids.forEach((id, rank) => (pass.rank[id] = rank));
      const reach = pass.windowed[block] === 1 ? this.window - 1 : ids.length;
      for (let i = 0; i < ids.length; i++) {
        const end = Math.min(ids.length, i + 1 + reach);
        for (let j = i + 1; j < end; j++) this.visit(pass, block, ids[i]!, ids[j]!);
      }
    });
    this.passes.push(pass);
  }

  result(): { pairs: PairEvidence[]; stats: FuzzyMatchStats } {
    this.pairs.sort((p, q) => p.a - q.a || p.b - q.b);
    return { pairs: this.pairs, stats: { ...this.stats, matchedPairs: this.pairs.length } };
  }

  private visit(pass: Pass, block: number, x: number, y: number): void {
    const a = Math.min(x, y);
    const b = Math.max(x, y);
    if (this.comparedBefore(a, b)) return;
    this.stats.comparedPairs++;
    const score = this.score(a, b);
    if (score !== null)
      this.pairs.push(explain(this.fields, a, b, score, `${pass.label}=${pass.blockKeys[block]!}`));
  }

  /**
   * Whether an earlier pass already compared the pair: it shared a block there, and that block
   * compared all its pairs or had the two within one window. Asking the passes costs no memory,
   * where a set of compared pairs could hold millions of entries.
   */
  private comparedBefore(a: number, b: number): boolean {
    for (const pass of this.passes) {
      const block = pass.blockOf[a]!;
      if (block === -1 || block !== pass.blockOf[b]) continue;
      if (pass.windowed[block] === 0 || Math.abs(pass.rank[a]! - pass.rank[b]!) < this.window) return true;
    }
    return false;
  }
}

/** Sorted-neighbourhood order: likely duplicates end up close to each other. */
function sortForWindow(ids: number[], blockingValues: (string | null)[], fields: PreparedField[]): void {
  const sortKey = new Map<number, string>();
  for (const id of ids)
    sortKey.set(id, [blockingValues[id] ?? '', ...fields.map((f) => f.shown[id] ?? '')].join(KEY_SEPARATOR));
  ids.sort((x, y) => {
    const kx = sortKey.get(x)!;
    const ky = sortKey.get(y)!;
    return kx < ky ? -1 : kx > ky ? 1 : x - y;
  });
}

/**
 * Every pair of records whose score reaches the threshold, each pair once (a < b), with the evidence
 * that explains it. See {@link fuzzyMatch} for how blocks are compared.
 */
export function findFuzzyPairs(records: MatchRecord[], config: FuzzyConfig): PairEvidence[] {
  return fuzzyMatch(records, config).pairs;
}

// ---- configuration ----------------------------------------------------------------------------
