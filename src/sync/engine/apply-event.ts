import type { ChangeEvent } from '../../model/change-event.js';
import type { Row } from '../../model/values.js';
import { decideEntity, type MemberSide } from '../conflict-policy.js';
import { canonicalEquals, readCanonical, writeMember, type CanonicalValues } from '../field-mapping.js';
import { canonicalFields, priorityOrder, receivesDeletesFrom } from '../sync-rule.js';
import type { AppliedMark } from './entity-baselines.js';
import { entityFor } from './entity-resolution.js';
import { recordPolicyDecision } from './resolve-conflict.js';
import { keyOf, type MemberRuntime, type SyncContext } from './sync-context.js';

/** A member row of an entity as read now. */
export interface LinkedRow {
  runtime: MemberRuntime;
  key: Row;
  row: Row;
}

/**
 * Applies one change event of member `source` to the other members and answers how many rows it
 * wrote (0: the event needed no write). Every event is applied in order with its own values, so
 * 1,000 updates give 1,000 writes. Safe under at-least-once delivery, where a restart delivers
 * events already applied again:
 * - each entity records the position of the last event applied from each member (with its
 *   converged values), so an event at or before it is a redelivery and is skipped;
 * - every write is decided by comparing with the other members' rows as they are now, so an event
 *   applied just before a crash (position not recorded yet) finds them agreeing and writes nothing.
 * Throws on failure (the caller retries or dead-letters).
 */
export async function applyEvent(
  ctx: SyncContext,
  source: MemberRuntime,
  event: ChangeEvent,
): Promise<number> {
  if (event.op === 'delete') return applyDelete(ctx, source, event);
  const after = event.after;
  if (!after) return 0;
  const key = keyOf(source.table, { ...event.key, ...after });
  const mark: AppliedMark = { member: source.index, kind: source.selection.kind, position: event.position };
  const link = await ctx.store.entityLinks.linkFor(ctx.syncId, source.index, key);
  if (link && (await ctx.baselines.applied(link.entityId, mark))) return 0;
  // The other members' rows (a linked row, the usual case) and the sandbox run overlap: database
  // round trips are most of an event's cost.
  const [mine, prefetched] = await Promise.all([
    readCanonical(ctx.sandbox, source.member, after, { rowKey: key }),
    link ? linkedRows(ctx, link.entityId, source.index) : null,
  ]);
  const resolved = await entityFor(ctx, source, key, after, event.op === 'insert', link);
  if (!resolved) return 0;
  const { entityId } = resolved;
  if (source.selection.kind === 'polling' && (await ctx.baselines.takeEcho(entityId, source.index, mine))) {
    // Polling cannot tag Braid's writes: this poll saw one of them. Applying it back could
    // overwrite a newer change of the other members with the older value Braid had written.
    source.stats.echoesSkipped++;
    await ctx.baselines.set(entityId, (await ctx.baselines.get(entityId)) ?? {}, mark);
    return 0;
  }
  const fields = canonicalFields(ctx.rule).filter((field) => field in mine);
  // Rows created or linked just now are not in the prefetched list.
  const rows =
    prefetched && resolved.writes === 0 && resolved.linked === 0
      ? prefetched
      : await linkedRows(ctx, entityId, source.index);
  const sides: MemberSide[] = [{ member: source.index, values: mine, commitTime: event.commitTime }];
  for (const other of rows) {
    sides.push({
      member: other.runtime.index,
      values: await readCanonical(ctx.sandbox, other.runtime.member, other.row, { rowKey: other.key }),
    });
  }
  const before = event.before
    ? await readCanonical(ctx.sandbox, source.member, event.before, { rowKey: key })
    : undefined;
  const stored = await ctx.baselines.get(entityId);
  const decisions = decideEntity({
    policy: ctx.rule.conflict.policy,
    priority: priorityOrder(ctx.rule),
    fields,
    sides,
    trigger: { member: source.index, commitTime: event.commitTime, before },
    baseline: baselineFor(fields, stored, sides.slice(1)),
  });
  const changes = new Map<number, CanonicalValues>();
  // Fields this event does not decide (not mapped by the source) keep their last converged value.
  const converged: CanonicalValues = { ...stored };
  for (const decision of decisions) {
    if (decision.outcome === 'agree') {
      converged[decision.field] = decision.value;
    } else if (decision.outcome === 'decided') {
      converged[decision.field] = decision.value;
      await recordPolicyDecision(ctx, entityId, decision);
      for (const loser of decision.losers) {
        const values = changes.get(loser.member) ?? {};
        values[decision.field] = decision.value;
        changes.set(loser.member, values);
      }
    } else if (!(await ctx.store.syncConflicts.openFor(ctx.syncId, entityId, decision.field))) {
      // Manual policy: the field waits in the review queue; nothing is written for it.
      await ctx.store.syncConflicts.open({
        syncId: ctx.syncId,
        entityId,
        field: decision.field,
        sides: decision.sides,
      });
    }
  }
  const all: LinkedRow[] = [{ runtime: source, key, row: after }, ...rows];
  let writes = resolved.writes;
  for (const [member, values] of changes) {
    const target = all.find((r) => r.runtime.index === member)!;
    writes += await writeUpdate(ctx, target, values, entityId);
  }
  await ctx.baselines.set(entityId, converged, mark);
  return writes;
}

/**
 * The value each field held before the change, where the event's `before` lacks it: the entity's
 * stored converged values. An entity with nothing stored for a field (linked by a sync that ran
 * before converged values were stored) falls back to assuming that a field the other members agree
 * on is unchanged there, so a person's edit propagates instead of being reverted by the priority
 * policy; for those entities only, a real concurrent conflict ends as "last applied wins".
 */
function baselineFor(
  fields: readonly string[],
  stored: CanonicalValues | undefined,
  others: MemberSide[],
): CanonicalValues {
  const assumed: CanonicalValues = {};
  for (const field of fields) {
    const values = others.filter((o) => field in o.values).map((o) => o.values[field]!);
    if (values.length > 0 && values.every((v) => canonicalEquals(v, values[0]))) assumed[field] = values[0]!;
  }
  return { ...assumed, ...stored };
}

/**
 * Writes only the columns of `values` into one member row of entity `entityId`, tagged so it does
 * not come back (or, for a polling member, remembered so the poll that sees it is recognised).
 * Answers the number of rows written (1).
 */
export async function writeUpdate(
  ctx: SyncContext,
  target: LinkedRow,
  values: CanonicalValues,
  entityId: string,
): Promise<number> {
  const { runtime } = target;
  const columns = await writeMember(ctx.sandbox, runtime.member, values, {
    row: target.row,
    rowKey: target.key,
  });
  if (runtime.selection.kind === 'polling') await ctx.baselines.expectEcho(entityId, runtime.index, values);
  await runtime.strategy.withOrigin(runtime.connector, ctx.origin, (tx) =>
    tx.update(runtime.table, target.key, columns),
  );
  runtime.stats.writes++;
  return 1;
}

/** The other members' rows of an entity, read now by their linked keys (rows gone are left out). */
export async function linkedRows(ctx: SyncContext, entityId: string, except: number): Promise<LinkedRow[]> {
  const out: LinkedRow[] = [];
  for (const link of await ctx.store.entityLinks.membersOf(entityId)) {
    if (link.member === except) continue;
    const runtime = ctx.members[link.member];
    if (!runtime) continue;
    const row = await runtime.connector.getByKey(runtime.table, link.key);
    if (row) out.push({ runtime, key: link.key, row });
  }
  return out;
}

/**
 * A deleted row: unlink it, and with `deletes: "propagate"` delete the entity's rows in the members
 * that take deletes from this one (`receivesDeletes`), and forget its converged values once no row
 * is left. A `"last"` member's row goes with the entity's last row of the other members; while
 * others remain, the fields only the deleted member mapped are cleared there. A redelivered delete
 * finds no link and writes nothing.
 */
async function applyDelete(ctx: SyncContext, source: MemberRuntime, event: ChangeEvent): Promise<number> {
  const key = keyOf(source.table, { ...event.before, ...event.key });
  const link = await ctx.store.entityLinks.linkFor(ctx.syncId, source.index, key);
  if (!link) return 0;
  let writes = 0;
  if (ctx.rule.deletes === 'propagate') {
    const others = (await ctx.store.entityLinks.membersOf(link.entityId)).filter(
      (other) => other.member !== source.index && ctx.members[other.member],
    );
    const isLast = (member: number) => ctx.members[member]!.member.receivesDeletes === 'last';
    const doomed = others.filter((o) => receivesDeletesFrom(ctx.members[o.member]!.member, source.index));
    const survivors = others.filter((o) => !isLast(o.member) && !doomed.includes(o));
    const lasts = others.filter((o) => isLast(o.member));
    for (const other of survivors.length === 0 ? [...doomed, ...lasts] : doomed) {
      const target = ctx.members[other.member]!;
      const deleted = await target.strategy.withOrigin(target.connector, ctx.origin, (tx) =>
        tx.delete(target.table, other.key),
      );
      if (deleted) {
        target.stats.writes++;
        writes++;
      }
      await ctx.store.entityLinks.unlink(ctx.syncId, other.member, other.key);
    }
    if (survivors.length === 0) await ctx.baselines.delete(link.entityId);
    else writes += await clearOrphanedFields(ctx, source, survivors, lasts);
  }
  await ctx.store.entityLinks.unlink(ctx.syncId, source.index, key);
  return writes;
}

/** Sets to NULL, in `"last"` members, the fields that only the deleted row's member mapped. */
async function clearOrphanedFields(
  ctx: SyncContext,
  source: MemberRuntime,
  survivors: { member: number }[],
  lasts: { member: number; key: Row }[],
): Promise<number> {
  const kept = new Set(survivors.flatMap((s) => Object.keys(ctx.members[s.member]!.member.fields)));
  const orphaned = Object.keys(source.member.fields).filter((field) => !kept.has(field));
  if (orphaned.length === 0) return 0;
  let writes = 0;
  for (const last of lasts) {
    const target = ctx.members[last.member]!;
    const columns = await writeMember(
      ctx.sandbox,
      target.member,
      Object.fromEntries(orphaned.map((field) => [field, null])),
    );
    if (Object.keys(columns).length === 0) continue;
    await target.strategy.withOrigin(target.connector, ctx.origin, (tx) =>
      tx.update(target.table, last.key, columns),
    );
    target.stats.writes++;
    writes++;
  }
  return writes;
}
