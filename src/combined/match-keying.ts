import { matchKey } from '../match/normalize.js';
import type { Filter } from '../model/filter.js';
import type { Row } from '../model/values.js';
import type { EntityKeying, ResolvedMember } from './combined-table.js';
import {
  MAX_IN_VALUES,
  chunks,
  fetchMatching,
  primaryKeyFilter,
  primaryKeyText,
  valuesFor,
} from './member-lookup.js';

/**
 * Entity keys from match keys: the member's match column, normalized with its steps. A row whose
 * key is blank is an entity of its own (`#<member>:<primary key>`), never matched with another;
 * a real key starting with `#` or `\` is escaped with `\` so the two spaces never meet.
 */
export function entityKeyOf(member: ResolvedMember, row: Row): string {
  const key = matchKey(row, member.match!.column, member.match!.normalize);
  if (key === null) return ownKey(member, row);
  return key.startsWith('#') || key.startsWith('\\') ? `\\${key}` : key;
}

export function ownKey(member: ResolvedMember, row: Row): string {
  return `#${member.index}:${primaryKeyText(member, row)}`;
}

/** The member primary key inside an own key of `member`, or null for another member's or a match key. */
export function ownKeyRow(member: ResolvedMember, key: string): Row | null {
  const prefix = `#${member.index}:`;
  if (!key.startsWith(prefix)) return null;
  try {
    return JSON.parse(key.slice(prefix.length)) as Row;
  } catch {
    return null;
  }
}

function unescape(key: string): string {
  return key.startsWith('\\') ? key.slice(1) : key;
}

/**
 * How a member's rows are found by match key. Keys normalized with no step (or only `lower`) are
 * pushed to the source as an `in` list (case-insensitive for `lower`); any other normalization
 * (trim, spaces, digits...) cannot be expressed as a filter, so the member's keys are read once per
 * read session (primary key and match column only) into an index, and rows are fetched by key.
 */
type Lookup = 'exact' | 'lower' | 'index';

function lookupOf(member: ResolvedMember): Lookup {
  const steps = member.match!.normalize;
  const column = member.table.columns.find((c) => c.name === member.match!.column)!;
  const textual = column.type === 'string' || column.type === 'text' || column.type === 'enum';
  if (steps.length === 0) return 'exact';
  if (textual && steps.every((s) => s === 'lower')) return 'lower';
  return 'index';
}

/**
 * Match-key entity keying. One instance is one read session: the key indexes of members that need
 * one are built on first use and kept for the session only, so a page never sees an index older
 * than its own request.
 */
export function matchKeying(members: ResolvedMember[]): EntityKeying {
  const indexes = new Map<number, Promise<Map<string, Row[]>>>();
  const lookups = members.map(lookupOf);

  const indexOf = (member: ResolvedMember) => {
    let index = indexes.get(member.index);
    if (!index) {
      index = buildIndex(member);
      indexes.set(member.index, index);
    }
    return index;
  };

  /** Filters selecting a superset of the rows of `keys` (chunked), or primary keys via the index. */
  const lookupFilters = async (member: ResolvedMember, keys: string[]): Promise<Filter[]> => {
    const own = keys.map((k) => ownKeyRow(member, k)).filter((k): k is Row => k !== null);
    const matchKeys = keys.filter((k) => !k.startsWith('#')).map(unescape);
    const filters: Filter[] = [];
    for (const part of chunks(own)) {
      const filter = primaryKeyFilter(member, part);
      if (filter) filters.push(filter);
    }
    if (matchKeys.length === 0) return filters;
    const lookup = lookups[member.index]!;
    if (lookup === 'index') {
      const index = await indexOf(member);
      const pks = matchKeys.flatMap((k) => index.get(k) ?? []);
      for (const part of chunks(pks)) {
        const filter = primaryKeyFilter(member, part);
        if (filter) filters.push(filter);
      }
      return filters;
    }
    const column = member.table.columns.find((c) => c.name === member.match!.column)!;
    for (const part of chunks(valuesFor(column, matchKeys))) {
      filters.push({
        field: column.name,
        op: 'in',
        value: part,
        ...(lookup === 'lower' ? { caseInsensitive: true } : {}),
      });
    }
    return filters;
  };

  const keying: EntityKeying = {
    keyColumns: (member) => [...members[member]!.table.primaryKey, members[member]!.match!.column],
    keysOf: (member, rows) => Promise.resolve(rows.map((row) => entityKeyOf(members[member]!, row))),
    async rowsFor(index, keys, fields, extra) {
      const member = members[index]!;
      const wanted = new Set(keys);
      const filters = await lookupFilters(member, [...wanted]);
      const rows = await fetchMatching(member, filters, [...fields, member.match!.column], extra);
      const out = new Map<string, Row[]>();
      for (const row of rows) {
        const key = entityKeyOf(member, row);
        // The pushed filter is a superset (case folding, the index of this session): check the key.
        if (!wanted.has(key)) continue;
        const list = out.get(key);
        if (list) list.push(row);
        else out.set(key, [row]);
      }
      return out;
    },
    async filterFor(index, keys) {
      const filters = await lookupFilters(members[index]!, keys);
      if (filters.length === 0) return { or: [] };
      const values = filters.reduce(
        (n, f) => n + ('value' in f && Array.isArray(f.value) ? f.value.length : 1),
        0,
      );
      if (values > MAX_IN_VALUES) return null;
      return filters.length === 1 ? filters[0]! : { or: filters };
    },
    session: () => matchKeying(members),
  };
  return keying;
}

/** Match key -> primary keys of a member, from one paged read of its key columns only. */
async function buildIndex(member: ResolvedMember): Promise<Map<string, Row[]>> {
  const index = new Map<string, Row[]>();
  const fields = [...new Set([...member.table.primaryKey, member.match!.column])];
  let cursor: string | undefined;
  do {
    const page = await member.connector.select(member.table, {
      fields,
      limit: 10_000,
      ...(cursor ? { cursor } : {}),
    });
    for (const row of page.rows) {
      const key = matchKey(row, member.match!.column, member.match!.normalize);
      if (key === null) continue;
      const pk = Object.fromEntries(member.table.primaryKey.map((c) => [c, row[c]]));
      const list = index.get(key);
      if (list) list.push(pk);
      else index.set(key, [pk]);
    }
    cursor = page.next ?? undefined;
  } while (cursor);
  return index;
}
