import type { JsonValue } from '../sandbox/sandbox.js';
import { canonicalEquals, type CanonicalValues } from './field-mapping.js';
import type { ConflictPolicy } from './sync-rule.js';

/** What one member holds for an entity right now. */
export interface MemberSide {
  member: number;
  /** Canonical values of the member's row; a field left out is not known for this member. */
  values: CanonicalValues;
  /** Commit time (ISO 8601 UTC) of the member's last change, when known. */
  commitTime?: string | null;
}

/** The change being applied: which member changed, when, and its values before the change. */
export interface EntityTrigger {
  member: number;
  commitTime?: string | null;
  /** Canonical values before the change (from the event's `before`), when the capture knows them. */
  before?: CanonicalValues;
}

export interface DecideInput {
  policy: ConflictPolicy;
  /** Member indexes, first wins (see `priorityOrder`). */
  priority: readonly number[];
  fields: readonly string[];
  sides: readonly MemberSide[];
  trigger?: EntityTrigger;
  /** The values the members last converged to, when the engine keeps them. */
  baseline?: CanonicalValues;
}

export interface SideValue {
  member: number;
  value: JsonValue;
  commitTime: string | null;
}

/**
 * The outcome for one field of one entity:
 * - `agree`: every member holds the same value, nothing to write;
 * - `decided`: `value` from `winner` is written to `losers` (each with the value it loses). `reason`
 *   is `change` when a member changed and the others still held the previous value (plain
 *   propagation, no conflict), else the policy that broke a real conflict (`priority`, `newest`);
 * - `conflict` (manual policy): every side's value, for the review queue; nothing is written.
 */
export type FieldDecision =
  | { field: string; outcome: 'agree'; value: JsonValue }
  | {
      field: string;
      outcome: 'decided';
      reason: 'change' | 'priority' | 'newest';
      value: JsonValue;
      winner: number;
      losers: SideValue[];
    }
  | { field: string; outcome: 'conflict'; sides: SideValue[] };

/**
 * Decides, field by field, what every member of one entity should hold. Pure: no I/O.
 *
 * A change only conflicts when the other members no longer hold the value it replaced: if member A
 * changed `phone` from x to y and every other member still has x (known from the event's `before`,
 * else from `baseline`), y simply wins. Otherwise the policy decides: `priority` takes the first
 * member of `priority` that knows the field; `newest` the latest `commitTime` (unknown times are
 * oldest; ties go by priority); `manual` decides nothing and answers a `conflict` with every side.
 *
 * @example
 * ```ts
 * decideEntity({ policy: 'priority', priority: [0, 1], fields: ['phone'],
 *   sides: [{ member: 0, values: { phone: '1' } }, { member: 1, values: { phone: '2' } }] });
 * // [{ field: 'phone', outcome: 'decided', reason: 'priority', value: '1', winner: 0,
 * //    losers: [{ member: 1, value: '2', commitTime: null }] }]
 * ```
 */
export function decideEntity(input: DecideInput): FieldDecision[] {
  const decisions: FieldDecision[] = [];
  for (const field of input.fields) {
    const sides: SideValue[] = input.sides
      .filter((side) => field in side.values)
      .map((side) => ({
        member: side.member,
        value: side.values[field]!,
        commitTime: side.commitTime ?? null,
      }));
    if (sides.length === 0) continue;
    if (sides.every((side) => canonicalEquals(side.value, sides[0]!.value))) {
      decisions.push({ field, outcome: 'agree', value: sides[0]!.value });
      continue;
    }
    const changed = propagatedChange(input, field, sides);
    if (changed) {
      decisions.push(decided(field, 'change', changed, sides));
      continue;
    }
    if (input.policy === 'manual') {
      decisions.push({ field, outcome: 'conflict', sides });
      continue;
    }
    const winner =
      input.policy === 'priority' ? byPriority(input.priority, sides) : newest(input.priority, sides);
    decisions.push(decided(field, input.policy, winner, sides));
  }
  return decisions;
}

function decided(
  field: string,
  reason: 'change' | 'priority' | 'newest',
  winner: SideValue,
  sides: SideValue[],
): FieldDecision {
  const losers = sides.filter((side) => !canonicalEquals(side.value, winner.value));
  return { field, outcome: 'decided', reason, value: winner.value, winner: winner.member, losers };
}

/** The trigger's side when every member that disagrees with it still holds the replaced value. */
function propagatedChange(input: DecideInput, field: string, sides: SideValue[]): SideValue | undefined {
  const trigger = input.trigger;
  if (!trigger) return undefined;
  const mine = sides.find((side) => side.member === trigger.member);
  if (!mine) return undefined;
  const previous =
    trigger.before && field in trigger.before
      ? trigger.before[field]
      : input.baseline && field in input.baseline
        ? input.baseline[field]
        : undefined;
  if (previous === undefined) return undefined;
  const others = sides.filter((side) => !canonicalEquals(side.value, mine.value));
  return others.every((side) => canonicalEquals(side.value, previous)) ? mine : undefined;
}

function rankOf(priority: readonly number[], member: number): number {
  const rank = priority.indexOf(member);
  return rank === -1 ? priority.length + member : rank;
}

function byPriority(priority: readonly number[], sides: SideValue[]): SideValue {
  return [...sides].sort((a, b) => rankOf(priority, a.member) - rankOf(priority, b.member))[0]!;
}

function newest(priority: readonly number[], sides: SideValue[]): SideValue {
  return [...sides].sort((a, b) => {
    // Parsed rather than compared as text: sources write different fraction widths ("...:05Z" and
    // "...:05.250Z"). An unknown or unparsable time counts as the oldest.
    const at = timeOf(a.commitTime);
    const bt = timeOf(b.commitTime);
    if (at !== bt) return bt - at;
    return rankOf(priority, a.member) - rankOf(priority, b.member);
  })[0]!;
}

function timeOf(iso: string | null): number {
  const ms = iso === null ? Number.NaN : Date.parse(iso);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}
