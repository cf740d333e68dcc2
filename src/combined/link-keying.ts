import { memberKeyText } from '../meta/entity-links-repository.js';
import type { Filter } from '../model/filter.js';
import type { Row } from '../model/values.js';
import type { EntityKeying, ResolvedMember, SyncLinksAccess } from './combined-table.js';
import { MAX_IN_VALUES, chunks, fetchMatching, primaryKeyFilter } from './member-lookup.js';
import { ownKey, ownKeyRow } from './match-keying.js';

function keyText(member: ResolvedMember, row: Row): string {
  return memberKeyText(Object.fromEntries(member.table.primaryKey.map((c) => [c, row[c]])));
}

/**
 * Entity keys from a sync rule's entity links: the entity id of the link of a member row, so rows
 * stay combined after their match column changes (a business renamed in one tool), as the sync
 * keeps them linked. A row the sync has not linked (yet) is an entity of its own. `syncMembers[i]`
 * is the sync member index of combined member i. Each call is one batched query on the links.
 */
export function linkKeying(
  members: ResolvedMember[],
  syncId: string,
  syncMembers: number[],
  links: SyncLinksAccess,
): EntityKeying {
  const keysOf = async (index: number, rows: Row[]): Promise<string[]> => {
    const member = members[index]!;
    const texts = rows.map((row) => keyText(member, row));
    const found = new Map<string, string>();
    for (const part of chunks([...new Set(texts)], 1_000)) {
      for (const link of await links.linksByMemberKeys(syncId, syncMembers[index]!, part))
        found.set(link.memberKey, link.entityId);
    }
    return rows.map((row, i) => found.get(texts[i]!) ?? ownKey(member, row));
  };

  const lookupFilters = async (index: number, keys: string[]): Promise<Filter[]> => {
    const member = members[index]!;
    const pks: Row[] = keys.map((k) => ownKeyRow(member, k)).filter((k): k is Row => k !== null);
    const entityIds = keys.filter((k) => !k.startsWith('#'));
    for (const part of chunks(entityIds, 1_000)) {
      for (const link of await links.linksByEntities(syncId, syncMembers[index]!, part))
        pks.push(JSON.parse(link.memberKey) as Row);
    }
    return chunks(pks)
      .map((part) => primaryKeyFilter(member, part))
      .filter((f): f is Filter => f !== null);
  };

  return {
    keyColumns: (index) => members[index]!.table.primaryKey,
    keysOf,
    async rowsFor(index, keys, fields, extra) {
      const wanted = new Set(keys);
      const rows = await fetchMatching(members[index]!, await lookupFilters(index, keys), fields, extra);
      const rowKeys = await keysOf(index, rows);
      const out = new Map<string, Row[]>();
      rows.forEach((row, i) => {
        const key = rowKeys[i]!;
        if (!wanted.has(key)) return;
        const list = out.get(key);
        if (list) list.push(row);
        else out.set(key, [row]);
      });
      return out;
    },
    async filterFor(index, keys) {
      const filters = await lookupFilters(index, keys);
      if (filters.length === 0) return { or: [] };
      if (keys.length > MAX_IN_VALUES) return null;
      return filters.length === 1 ? filters[0]! : { or: filters };
    },
  };
}
