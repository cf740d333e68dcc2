import type { Row } from '../model/values.js';
import type { CombinedRow, CombinedTable } from './combined-table.js';
import { compareValues } from './value-order.js';

/** The columns a member's rows must carry for a read: owned columns, key columns, primary key. */
export function memberFields(table: CombinedTable, member: number): string[] {
  const fields = new Set<string>([
    ...table.members[member]!.table.primaryKey,
    ...table.keying.keyColumns(member),
  ]);
  for (const column of table.columns)
    for (const owner of column.owners) if (owner.member === member) fields.add(owner.column.name);
  return [...fields];
}

/** Orders a member's rows by primary key, so "the first row of an entity" means the same everywhere. */
export function byPrimaryKey(table: CombinedTable, member: number) {
  const { primaryKey, columns } = table.members[member]!.table;
  const types = primaryKey.map((name) => columns.find((c) => c.name === name)!.type);
  return (a: Row, b: Row): number => {
    for (const [i, name] of primaryKey.entries()) {
      const c = compareValues(types[i]!, a[name], b[name]);
      if (c !== 0) return c;
    }
    return 0;
  };
}

/**
 * Builds the combined row of one entity from its member rows (null where a member lacks it): each
 * column from its first owner holding the row, through the owner's `read` transform (NULL passes
 * untransformed, as in syncs). `_members` names each member's primary key or null.
 */
export async function combineRow(
  table: CombinedTable,
  key: string,
  memberRows: (Row | null)[],
): Promise<CombinedRow> {
  const row: Row = {};
  for (const column of table.columns) {
    const owner = column.owners.find((o) => memberRows[o.member]);
    if (!owner) {
      row[column.name] = null;
      continue;
    }
    const source = memberRows[owner.member]!;
    const value = source[owner.column.name] ?? null;
    row[column.name] =
      value === null || !owner.read
        ? value
        : await table.sandbox.evaluate(
            owner.read,
            { value, row: source },
            { details: { column: column.name, member: table.members[owner.member]!.name } },
          );
  }
  const members: Record<string, Row | null> = {};
  table.members.forEach((member, i) => {
    const source = memberRows[i];
    members[member.name] = source
      ? Object.fromEntries(member.table.primaryKey.map((c) => [c, source[c]]))
      : null;
  });
  return Object.assign(row, { _key: key, _members: members });
}
