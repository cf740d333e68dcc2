import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { BraidError } from '../model/errors.js';
import { isUniqueViolation, isoNow } from './db-errors.js';
import type { MetaDatabase } from './meta-schema.js';

/** Values per `in` query of the batched lookups. */
const IN_CHUNK = 1000;

/** A member row's primary key, `{column: wire value}`. */
export type MemberKey = Record<string, unknown>;

/** One member row of an entity. */
export interface EntityLink {
  syncId: string;
  entityId: string;
  member: number;
  key: MemberKey;
  matchKey: string | null;
}

/**
 * The stored form of a member key: JSON with the columns sorted, so the same key always gives the
 * same text (the unique index compares text). Values keep their wire type: `{"id":7}` and
 * `{"id":"7"}` differ, and connectors always answer the same wire type for a column.
 */
export function memberKeyText(key: MemberKey): string {
  return JSON.stringify(
    Object.fromEntries(
      Object.keys(key)
        .sort()
        .map((k) => [k, key[k]]),
    ),
  );
}

/**
 * Entity links: which row of each member is the same entity. They are what keeps a match after the
 * match key changes (a business renamed in one tool stays linked to its row in the other): a change
 * is routed by its member key first, and by match key only for rows never linked.
 *
 * @example
 * const entityId = await store.entityLinks.link({ syncId, member: 0, key: { id: 7 }, matchKey: 'blue bakery llc' });
 * await store.entityLinks.link({ syncId, entityId, member: 1, key: { id: 3 }, matchKey: 'blue bakery llc' });
 * await store.entityLinks.linkFor(syncId, 1, { id: 3 }); // { entityId, member: 1, ... }
 * await store.entityLinks.membersOf(entityId); // both rows
 */
export class EntityLinksRepository {
  constructor(private readonly db: Kysely<MetaDatabase>) {}

  /** The link of a member row, or null when the row is not linked. */
  async linkFor(syncId: string, member: number, key: MemberKey): Promise<EntityLink | null> {
    const row = await this.db
      .selectFrom('sync_entity_links')
      .selectAll()
      .where('sync_id', '=', syncId)
      .where('member', '=', member)
      .where('member_key', '=', memberKeyText(key))
      .executeTakeFirst();
    return row ? toLink(row) : null;
  }

  /**
   * Links a member row to `entityId` (a new entity when it is omitted) and answers the entity id.
   * Linking a row that is already linked keeps its entity and refreshes the match key: links are
   * never moved silently from one entity to another (use `unlink` first).
   */
  async link(input: {
    syncId: string;
    entityId?: string;
    member: number;
    key: MemberKey;
    matchKey: string | null;
  }): Promise<string> {
    const now = isoNow();
    const memberKey = memberKeyText(input.key);
    const entityId = input.entityId ?? randomUUID();
    try {
      await this.insertLink(input, entityId, memberKey, now);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      throw new BraidError(
        409,
        'entity_member_taken',
        `entity ${entityId} already has another row of members[${input.member}]`,
        { entityId, member: input.member },
      );
    }
    const stored = await this.linkFor(input.syncId, input.member, input.key);
    return stored!.entityId;
  }

  private async insertLink(
    input: { syncId: string; member: number; matchKey: string | null },
    entityId: string,
    memberKey: string,
    now: string,
  ): Promise<void> {
    await this.db
      .insertInto('sync_entity_links')
      .values({
        sync_id: input.syncId,
        entity_id: entityId,
        member: input.member,
        member_key: memberKey,
        match_key: input.matchKey,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc
          .columns(['sync_id', 'member', 'member_key'])
          .doUpdateSet({ match_key: input.matchKey, updated_at: now }),
      )
      .execute();
  }

  /** Every member row of an entity, in member order. */
  async membersOf(entityId: string): Promise<EntityLink[]> {
    const rows = await this.db
      .selectFrom('sync_entity_links')
      .selectAll()
      .where('entity_id', '=', entityId)
      .orderBy('member')
      .execute();
    return rows.map(toLink);
  }

  /** The links of one member whose stored match key is `matchKey` (for rows arriving unlinked). */
  async findByMatchKey(syncId: string, member: number, matchKey: string): Promise<EntityLink[]> {
    const rows = await this.db
      .selectFrom('sync_entity_links')
      .selectAll()
      .where('sync_id', '=', syncId)
      .where('member', '=', member)
      .where('match_key', '=', matchKey)
      .execute();
    return rows.map(toLink);
  }

  /** Every link of a sync, streamed in pages (for the reconciliation planner). */
  async *allOf(syncId: string, pageSize = 1000): AsyncIterable<EntityLink> {
    let after: { member: number; memberKey: string } | null = null;
    for (;;) {
      let query = this.db
        .selectFrom('sync_entity_links')
        .selectAll()
        .where('sync_id', '=', syncId)
        .orderBy('member')
        .orderBy('member_key')
        .limit(pageSize);
      if (after) {
        const { member, memberKey } = after;
        query = query.where((eb) =>
          eb.or([
            eb('member', '>', member),
            eb.and([eb('member', '=', member), eb('member_key', '>', memberKey)]),
          ]),
        );
      }
      const rows = await query.execute();
      for (const row of rows) yield toLink(row);
      if (rows.length < pageSize) return;
      const last = rows[rows.length - 1]!;
      after = { member: last.member, memberKey: last.member_key };
    }
  }

  /**
   * Links of many member rows of one member, by their stored member-key text (`memberKeyText`):
   * one `in` query per 1,000 keys, so a page of a combined table costs one round trip, not one per row.
   */
  async linksByMemberKeys(
    syncId: string,
    member: number,
    memberKeyTexts: string[],
  ): Promise<{ entityId: string; memberKey: string }[]> {
    return this.linksWhere(syncId, member, 'member_key', memberKeyTexts);
  }

  /** The rows of one member linked to these entities, batched like `linksByMemberKeys`. */
  async linksByEntities(
    syncId: string,
    member: number,
    entityIds: string[],
  ): Promise<{ entityId: string; memberKey: string }[]> {
    return this.linksWhere(syncId, member, 'entity_id', entityIds);
  }

  private async linksWhere(
    syncId: string,
    member: number,
    column: 'member_key' | 'entity_id',
    values: string[],
  ): Promise<{ entityId: string; memberKey: string }[]> {
    const distinct = [...new Set(values)];
    const found: { entityId: string; memberKey: string }[] = [];
    // Chunked: SQLite binds at most 32,766 parameters and PostgreSQL 65,535 per statement.
    for (let at = 0; at < distinct.length; at += IN_CHUNK) {
      const rows = await this.db
        .selectFrom('sync_entity_links')
        .select(['entity_id', 'member_key'])
        .where('sync_id', '=', syncId)
        .where('member', '=', member)
        .where(column, 'in', distinct.slice(at, at + IN_CHUNK))
        .execute();
      for (const row of rows) found.push({ entityId: row.entity_id, memberKey: row.member_key });
    }
    return found;
  }

  /** Removes a member row's link (the row was deleted); answers whether it was linked. */
  async unlink(syncId: string, member: number, key: MemberKey): Promise<boolean> {
    const result = await this.db
      .deleteFrom('sync_entity_links')
      .where('sync_id', '=', syncId)
      .where('member', '=', member)
      .where('member_key', '=', memberKeyText(key))
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

function toLink(row: {
  sync_id: string;
  entity_id: string;
  member: number;
  member_key: string;
  match_key: string | null;
}): EntityLink {
  return {
    syncId: row.sync_id,
    entityId: row.entity_id,
    member: Number(row.member),
    key: JSON.parse(row.member_key) as MemberKey,
    matchKey: row.match_key,
  };
}
