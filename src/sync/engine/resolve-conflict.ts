import type { SyncConflict } from '../../meta/sync-conflicts-repository.js';
import { badRequest } from '../../model/errors.js';
import type { JsonValue } from '../../sandbox/sandbox.js';
import type { FieldDecision } from '../conflict-policy.js';
import { canonicalEquals, readCanonical } from '../field-mapping.js';
import { writeUpdate } from './apply-event.js';
import type { SyncContext } from './sync-context.js';

/** How a conflict is settled: the value one side held (`member` index), or a value given outright. */
export type ConflictChoice = { member: number } | { value: JsonValue };

/** What a resolved conflict records as its `resolution`. */
export interface ConflictResolution {
  value: JsonValue;
  /** The side whose value won, or `custom` for a value given outright. */
  winner: number | 'custom';
  /** Members that held another value when it was resolved, each with the value it lost. */
  losers: { member: number; value: JsonValue }[];
  by: string | null;
}

/**
 * Records a conflict the rule's policy settled (`priority`, `newest`) with its winner and losers;
 * plain propagation (one member changed, the others held the value it replaced) is no conflict.
 */
export async function recordPolicyDecision(
  ctx: SyncContext,
  entityId: string,
  decision: Extract<FieldDecision, { outcome: 'decided' }>,
): Promise<void> {
  if (decision.reason === 'change') return;
  const winner = { member: decision.winner, value: decision.value, commitTime: null };
  const resolution: ConflictResolution = {
    value: decision.value,
    winner: decision.winner,
    losers: decision.losers.map((l) => ({ member: l.member, value: l.value })),
    by: `policy:${decision.reason}`,
  };
  await ctx.store.syncConflicts.record({
    syncId: ctx.syncId,
    entityId,
    field: decision.field,
    sides: [winner, ...decision.losers],
    resolution,
  });
}

/** The chosen canonical value, or 400 `invalid_choice` when the choice names no side of the conflict. */
function chosenValue(
  conflict: SyncConflict,
  choice: ConflictChoice,
): { value: JsonValue; winner: number | 'custom' } {
  if ('member' in choice) {
    const side = conflict.sides.find((s) => s.member === choice.member);
    if (!side) {
      throw badRequest(
        'invalid_choice',
        `member ${String(choice.member)} is not a side of conflict "${conflict.id}" (sides: ${conflict.sides
          .map((s) => s.member)
          .join(', ')})`,
        { field: 'member', sides: conflict.sides.map((s) => s.member) },
      );
    }
    return { value: side.value as JsonValue, winner: side.member };
  }
  if (!('value' in choice) || choice.value === undefined) {
    throw badRequest('invalid_choice', 'give either "member" (the side whose value wins) or "value"', {
      field: 'value',
    });
  }
  return { value: choice.value, winner: 'custom' };
}

/**
 * Settles an open conflict in a sync context (see SyncEngine.resolveConflict): writes the chosen
 * value of the conflict's field to each member row of the entity that holds another one, records
 * it in the entity's converged values, and marks the conflict resolved. The caller serializes this
 * with the sync's handlers, so no event of the entity is decided halfway through.
 */
export async function resolveConflictIn(
  ctx: SyncContext,
  conflict: SyncConflict,
  choice: ConflictChoice,
  by?: string,
): Promise<SyncConflict> {
  const { value, winner } = chosenValue(conflict, choice);
  const losers: ConflictResolution['losers'] = [];
  for (const link of await ctx.store.entityLinks.membersOf(conflict.entityId)) {
    const runtime = ctx.members[link.member];
    if (!runtime || !(conflict.field in runtime.member.fields)) continue;
    const row = await runtime.connector.getByKey(runtime.table, link.key);
    if (!row) continue;
    const held = (await readCanonical(ctx.sandbox, runtime.member, row, { rowKey: link.key }))[
      conflict.field
    ];
    if (canonicalEquals(held, value)) continue;
    await writeUpdate(ctx, { runtime, key: link.key, row }, { [conflict.field]: value }, conflict.entityId);
    losers.push({ member: link.member, value: held ?? null });
  }
  const converged = await ctx.baselines.get(conflict.entityId);
  await ctx.baselines.set(conflict.entityId, { ...converged, [conflict.field]: value });
  const resolution: ConflictResolution = { value, winner, losers, by: by ?? null };
  // The repository answers 409 if another request resolved it meanwhile.
  return ctx.store.syncConflicts.resolve(conflict.id, resolution);
}
