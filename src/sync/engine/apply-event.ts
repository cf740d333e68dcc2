import { matchKey } from '../../match/normalize.js';
import type { ChangeEvent } from '../../model/change-event.js';
import type { Row } from '../../model/values.js';
import { decideEntity, type MemberSide } from '../conflict-policy.js';
import { canonicalEquals, readCanonical, writeMember, type CanonicalValues } from '../field-mapping.js';
import { canonicalFields, priorityOrder } from '../sync-rule.js';
import { keyOf, type MemberRuntime, type SyncContext } from './sync-context.js';

/** A member row of an entity as read now. */
interface LinkedRow {
  runtime: MemberRuntime;
  key: Row;
  row: Row;
}

/**
 * Applies one change event of member `source` to the other members. Idempotent: every write is
 * decided by comparing with the rows as they are now, so a redelivered event finds the members
 * agreeing and writes nothing. Throws on failure (the caller retries or dead-letters).
 */
export async function applyEvent(ctx: SyncContext, source: MemberRuntime, event: ChangeEvent): Promise<void> {
  if (event.op === 'delete') return applyDelete(ctx, source, event);
  const after = event.after;
  if (!after) return;
  const key = keyOf(source.table, { ...event.key, ...after });
  const entityId = await entityFor(ctx, source, key, after, event.op === 'insert');
  if (!entityId) return;
  const rows = await linkedRows(ctx, entityId, source.index);
  const fields = canonicalFields(ctx.rule);
  const mine = await readCanonical(ctx.sandbox, source.member, after, { rowKey: key });
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
  const decisions = decideEntity({
    policy: ctx.rule.conflict.policy,
    priority: priorityOrder(ctx.rule),
    fields,
    sides,
    trigger: { member: source.index, commitTime: event.commitTime, before },
    baseline: baselineFor(ctx, entityId, sides.slice(1)),
  });
  const changes = new Map<number, CanonicalValues>();
  const converged: CanonicalValues = { ...ctx.baselines.get(entityId) };
  for (const decision of decisions) {
    if (decision.outcome === 'agree') {
      converged[decision.field] = decision.value;
    } else if (decision.outcome === 'decided') {
      converged[decision.field] = decision.value;
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
  for (const [member, values] of changes) {
    const target = all.find((r) => r.runtime.index === member)!;
    await writeUpdate(ctx, target, values);
  }
  ctx.baselines.set(entityId, converged);
}

/**
 * The values the members last agreed on, for fields the event's `before` lacks. Baselines live in
 * memory only: after a restart, with a capture that sends no `before` (PostgreSQL logical without
 * REPLICA IDENTITY FULL), a field the other members still agree on is assumed unchanged there, so a
 * person's edit propagates instead of being reverted by the priority policy. The price: a real
 * concurrent conflict in that window is settled as "last applied wins" rather than by the policy.
 */
function baselineFor(ctx: SyncContext, entityId: string, others: MemberSide[]): CanonicalValues {
  const assumed: CanonicalValues = {};
  for (const field of canonicalFields(ctx.rule)) {
    const values = others.filter((o) => field in o.values).map((o) => o.values[field]!);
    if (values.length > 0 && values.every((v) => canonicalEquals(v, values[0]))) assumed[field] = values[0]!;
  }
  return { ...assumed, ...ctx.baselines.get(entityId) };
}

/** Writes only the columns of `values` into one member row, tagged so it does not come back. */
export async function writeUpdate(
  ctx: SyncContext,
  target: LinkedRow,
  values: CanonicalValues,
): Promise<void> {
  const { runtime } = target;
  const columns = await writeMember(ctx.sandbox, runtime.member, values, {
    row: target.row,
    rowKey: target.key,
  });
  await runtime.strategy.withOrigin(runtime.connector, ctx.origin, (tx) =>
    tx.update(runtime.table, target.key, columns),
  );
  runtime.stats.writes++;
}

/** The other members' rows of an entity, read now by their linked keys (rows gone are left out). */
async function linkedRows(ctx: SyncContext, entityId: string, except: number): Promise<LinkedRow[]> {
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
 * The entity of a member row: its stored link, else a row of another member with the same
 * normalized match key (linked now). A row matching nothing is linked alone, so a later row of
 * another member finds it by match key; with `inserts: "create"` an inserted row is created in the
 * other members first.
 */
async function entityFor(
  ctx: SyncContext,
  source: MemberRuntime,
  key: Row,
  row: Row,
  inserted: boolean,
): Promise<string | null> {
  const link = await ctx.store.entityLinks.linkFor(ctx.syncId, source.index, key);
  if (link) return link.entityId;
  const mk = matchKey(row, source.member.match.column, source.member.match.normalize);
  if (mk === null) return null;
  let entityId: string | undefined;
  for (const other of ctx.members) {
    if (other.index === source.index) continue;
    const found = await findByMatchKey(ctx, other, mk);
    if (!found) continue;
    entityId = await ctx.store.entityLinks.link({
      syncId: ctx.syncId,
      entityId,
      member: other.index,
      key: found.key,
      matchKey: found.matchKey,
    });
  }
  entityId = await ctx.store.entityLinks.link({
    syncId: ctx.syncId,
    entityId,
    member: source.index,
    key,
    matchKey: mk,
  });
  if (inserted && ctx.rule.inserts === 'create') await createMissing(ctx, entityId, source, row, mk);
  return entityId;
}

/**
 * A row of `member` with match key `mk`: a stored link first, else a scan of the table (match keys
 * are normalized in JavaScript, so SQL cannot search them). Only an unambiguous row is taken.
 */
async function findByMatchKey(
  ctx: SyncContext,
  member: MemberRuntime,
  mk: string,
): Promise<{ key: Row; matchKey: string } | null> {
  const links = await ctx.store.entityLinks.findByMatchKey(ctx.syncId, member.index, mk);
  if (links.length === 1) return { key: links[0]!.key, matchKey: mk };
  if (links.length > 1) return null;
  const found: Row[] = [];
  const { column, normalize } = member.member.match;
  for await (const batch of member.connector.stream(member.table, { batchSize: 1000 })) {
    for (const row of batch)
      if (matchKey(row, column, normalize) === mk) found.push(keyOf(member.table, row));
  }
  return found.length === 1 ? { key: found[0]!, matchKey: mk } : null;
}

/** Creates the entity's row in every member that has none: mapped columns plus the match column. */
export async function createMissing(
  ctx: SyncContext,
  entityId: string,
  source: MemberRuntime,
  row: Row,
  mk: string,
): Promise<void> {
  const values = await readCanonical(ctx.sandbox, source.member, row);
  const present = new Set((await ctx.store.entityLinks.membersOf(entityId)).map((l) => l.member));
  for (const target of ctx.members) {
    if (present.has(target.index)) continue;
    const columns = await writeMember(ctx.sandbox, target.member, values);
    columns[target.member.match.column] = row[source.member.match.column] ?? null;
    const [created] = await target.strategy.withOrigin(target.connector, ctx.origin, (tx) =>
      tx.insert(target.table, [columns]),
    );
    target.stats.writes++;
    if (created) {
      await ctx.store.entityLinks.link({
        syncId: ctx.syncId,
        entityId,
        member: target.index,
        key: keyOf(target.table, created),
        matchKey: mk,
      });
    }
  }
}

/** A deleted row: unlink it, and with `deletes: "propagate"` delete the entity's other rows too. */
async function applyDelete(ctx: SyncContext, source: MemberRuntime, event: ChangeEvent): Promise<void> {
  const key = keyOf(source.table, { ...event.before, ...event.key });
  const link = await ctx.store.entityLinks.linkFor(ctx.syncId, source.index, key);
  if (!link) return;
  if (ctx.rule.deletes === 'propagate') {
    for (const other of await ctx.store.entityLinks.membersOf(link.entityId)) {
      const target = ctx.members[other.member];
      if (!target || other.member === source.index) continue;
      const deleted = await target.strategy.withOrigin(target.connector, ctx.origin, (tx) =>
        tx.delete(target.table, other.key),
      );
      if (deleted) target.stats.writes++;
      await ctx.store.entityLinks.unlink(ctx.syncId, other.member, other.key);
    }
    ctx.baselines.delete(link.entityId);
  }
  await ctx.store.entityLinks.unlink(ctx.syncId, source.index, key);
}
