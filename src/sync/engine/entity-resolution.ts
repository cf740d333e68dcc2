import type { EntityLink } from '../../meta/entity-links-repository.js';
import { matchKey } from '../../match/normalize.js';
import type { Row } from '../../model/values.js';
import { readCanonical, writeMember } from '../field-mapping.js';
import { receivesInsertsFrom } from '../sync-rule.js';
import { keyOf, type MemberRuntime, type SyncContext } from './sync-context.js';

/** The entity of a member row, the rows Braid created for it and the other rows linked to it now. */
export interface ResolvedEntity {
  entityId: string;
  writes: number;
  linked: number;
}

/**
 * The entity of a member row: its stored link, else a row of another member with the same
 * normalized match key (linked now). A row matching nothing is linked alone, so a later row of
 * another member finds it by match key. With `inserts: "create"` an inserted row's entity is
 * completed in the members that lack it, also when the row was linked already: that is a
 * redelivered insert whose first application may have created a row and crashed before linking it.
 * `link` is the row's stored link as the caller looked it up (null: none).
 */
export async function entityFor(
  ctx: SyncContext,
  source: MemberRuntime,
  key: Row,
  row: Row,
  inserted: boolean,
  link: EntityLink | null,
): Promise<ResolvedEntity | null> {
  const mk = matchKey(row, source.member.match.column, source.member.match.normalize);
  let entityId = link?.entityId;
  let linked = 0;
  // Members whose table was searched by match key just now need no second scan in createMissing.
  const searched = new Set<number>();
  if (!entityId) {
    if (mk === null) return null;
    for (const other of ctx.members) {
      if (other.index === source.index) continue;
      searched.add(other.index);
      const found = await findByMatchKey(ctx, other, mk);
      if (!found) continue;
      linked++;
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
  }
  let writes = 0;
  if (inserted && ctx.rule.inserts === 'create' && mk !== null) {
    const completed = await createMissing(ctx, entityId, source, row, mk, searched);
    writes = completed.created;
    linked += completed.created + completed.linked;
  }
  return { entityId, writes, linked };
}

/**
 * A row of `member` with match key `mk`: a stored link first, else a scan of the table (match keys
 * are normalized in JavaScript, so SQL cannot search them). Only an unambiguous row is taken.
 */
export async function findByMatchKey(
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

/**
 * Creates the entity's row in every member that has none and takes rows inserted in `source`
 * (`receivesInserts`; mapped columns plus the match column), and answers how many rows it created
 * and how many existing rows it linked. A member not in `searched` is first searched by match key
 * and an unambiguous row found there is linked instead: the insert may be a redelivery whose first
 * application created the row but crashed before storing its link.
 */
export async function createMissing(
  ctx: SyncContext,
  entityId: string,
  source: MemberRuntime,
  row: Row,
  mk: string,
  searched: ReadonlySet<number> = new Set(),
): Promise<{ created: number; linked: number }> {
  const present = new Set((await ctx.store.entityLinks.membersOf(entityId)).map((l) => l.member));
  const missing = ctx.members.filter(
    (m) => !present.has(m.index) && m.index !== source.index && receivesInsertsFrom(m.member, source.index),
  );
  if (missing.length === 0) return { created: 0, linked: 0 };
  const values = await readCanonical(ctx.sandbox, source.member, row);
  let created = 0;
  let linked = 0;
  for (const target of missing) {
    const existing = searched.has(target.index) ? null : await findByMatchKey(ctx, target, mk);
    if (existing) {
      await ctx.store.entityLinks.link({ syncId: ctx.syncId, entityId, member: target.index, ...existing });
      linked++;
      continue;
    }
    const columns = await writeMember(ctx.sandbox, target.member, values);
    columns[target.member.match.column] = row[source.member.match.column] ?? null;
    // A polling member sees the new row as an insert of its own: recognised as Braid's by content.
    if (target.selection.kind === 'polling') await ctx.baselines.expectEcho(entityId, target.index, values);
    const [inserted] = await target.strategy.withOrigin(target.connector, ctx.origin, (tx) =>
      tx.insert(target.table, [columns]),
    );
    target.stats.writes++;
    created++;
    if (inserted) {
      await ctx.store.entityLinks.link({
        syncId: ctx.syncId,
        entityId,
        member: target.index,
        key: keyOf(target.table, inserted),
        matchKey: mk,
      });
    }
  }
  return { created, linked };
}
