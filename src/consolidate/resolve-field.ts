import type { Decision, ResolvePolicy } from './consolidation-definition.js';

/** One merged record's value of a field, with what the policies look at. */
export interface Candidate {
  recordId: number;
  input: string;
  sourceKey: string;
  priority: number;
  updatedAt: string | null;
  value: unknown;
}

export interface FieldResolution {
  value: unknown;
  /** Set when the records disagree (distinct non-null values): how it was settled. */
  discrepancy: {
    policy: ResolvePolicy | 'decision';
    candidates: { value: unknown; records: string[] }[];
    /** manual policy without a decision: the value is provisional (by priority) until someone decides. */
    pending: boolean;
  } | null;
}

/** Preferred first: lower priority number, then the record read first. */
function byPriority(a: Candidate, b: Candidate): number {
  return a.priority - b.priority || a.recordId - b.recordId;
}

function instant(text: string | null): number {
  if (text === null) return Number.NEGATIVE_INFINITY;
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/**
 * Settles one field of one entity. NULL never wins over a value (a source that lacks the phone does
 * not erase the phone another source has); among values, the policy decides:
 * - priority: the value of the preferred input (lowest `priority`, then first read);
 * - newest: the value of the record changed last (`updatedAt`), ties by priority;
 * - most_common: the value most records hold, ties by the priority of its best holder;
 * - manual: a decision for this entity and field if the definition has one, else the priority value
 *   marked pending so the report lists it for review.
 * Values are compared by their JSON text, so "Ann" and "ann" disagree: normalizers decide identity,
 * never what is written.
 */
export function resolveField(
  policy: ResolvePolicy,
  candidates: Candidate[],
  decision?: Decision,
): FieldResolution {
  const present = candidates.filter((c) => c.value !== null && c.value !== undefined);
  const distinct = new Map<string, { value: unknown; holders: Candidate[] }>();
  for (const c of present) {
    const text = JSON.stringify(c.value);
    const entry = distinct.get(text);
    if (entry) entry.holders.push(c);
    else distinct.set(text, { value: c.value, holders: [c] });
  }
  if (distinct.size === 0) return { value: null, discrepancy: null };
  if (distinct.size === 1) return { value: present[0]!.value, discrepancy: null };
  const ranked = [...present].sort(byPriority);
  const listing = [...distinct.values()].map((d) => ({
    value: d.value,
    records: d.holders.map((h) => `${h.input}:${h.sourceKey}`),
  }));
  const settled = (value: unknown, used: ResolvePolicy | 'decision', pending = false): FieldResolution => ({
    value,
    discrepancy: { policy: used, candidates: listing, pending },
  });
  if (decision) {
    if (decision.input !== undefined) {
      const chosen = ranked.find((c) => c.input === decision.input);
      if (chosen) return settled(chosen.value, 'decision');
    } else return settled(decision.value ?? null, 'decision');
  }
  switch (policy) {
    case 'priority':
      return settled(ranked[0]!.value, 'priority');
    case 'newest': {
      const newest = [...ranked].sort(
        (a, b) => instant(b.updatedAt) - instant(a.updatedAt) || byPriority(a, b),
      );
      return settled(newest[0]!.value, 'newest');
    }
    case 'most_common': {
      const best = [...distinct.values()].sort(
        (a, b) =>
          b.holders.length - a.holders.length ||
          byPriority(a.holders.sort(byPriority)[0]!, b.holders.sort(byPriority)[0]!),
      );
      return settled(best[0]!.value, 'most_common');
    }
    case 'manual':
      return settled(ranked[0]!.value, 'manual', true);
  }
}
