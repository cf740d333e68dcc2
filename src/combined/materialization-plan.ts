import type { NormalizeStep } from '../match/normalize.js';
import { badRequest, type BraidError } from '../model/errors.js';
import type { ColumnDefinition, TableDefinition } from '../model/schema.js';
import type { Row } from '../model/values.js';
import { RuleProblems, type FieldMapping, type SyncMember, type SyncRule } from '../sync/sync-rule.js';
import type { CombinedRow, CombinedTable, ResolvedColumn } from './combined-table.js';

/** The materialized table's own key: rows inserted there get one from the database. */
export const MATERIALIZED_KEY = 'id';

/** Where the materialized table lives: a source id and the table as people name it there. */
export interface MaterializedTarget {
  sourceId: string;
  tableName: string;
}

/**
 * The exposed column the sync matches the materialized table by: the one whose owners are exactly
 * the members' match columns, read as they are. Its value in the materialized table is then a
 * member's raw match value, so the members' normalize steps (equal for all) match it too.
 */
function keyColumn(
  table: CombinedTable,
  problems: RuleProblems,
): { column: ResolvedColumn; normalize: NormalizeStep[] } | null {
  const { members } = table;
  const steps = members.map((m) => JSON.stringify(m.match?.normalize ?? []));
  if (steps.some((s) => s !== steps[0])) {
    problems.add(
      'members',
      `the members match with different normalize steps (${members.map((m, i) => `${m.name}: ${steps[i]}`).join(', ')}); ` +
        'a materialized table needs the same steps for every member',
    );
    return null;
  }
  const column = table.columns.find(
    (c) =>
      c.owners.length === members.length &&
      members.every((m) =>
        c.owners.some((o) => o.member === m.index && o.column.name === m.match?.column && !o.read),
      ),
  );
  if (!column) {
    const wanted = members.map((m) => `${m.name}.${m.match?.column}`).join(', ');
    problems.add(
      'columns',
      `no exposed column is the members' match key: add one owned by ${wanted} (without read transforms), ` +
        'by which the materialized table is matched to the members',
    );
    return null;
  }
  return { column, normalize: members[0]!.match?.normalize ?? [] };
}

/** What a sync cannot write (a key, a computed column, one column behind two fields), by path. */
function checkWritable(table: CombinedTable, problems: RuleProblems): void {
  table.columns.forEach((column, i) => {
    if (column.name === MATERIALIZED_KEY)
      problems.add(
        `columns[${i}].name`,
        `"${MATERIALIZED_KEY}" is the materialized table's own key: give the exposed column another name`,
      );
    for (const owner of column.owners) {
      const member = table.members[owner.member]!;
      const where = `column "${member.name}.${owner.column.name}" (exposed as "${column.name}")`;
      if (member.table.primaryKey.includes(owner.column.name))
        problems.add(
          `columns[${i}]`,
          `${where} is part of its table's primary key, which a sync never writes`,
        );
      else if (owner.column.generated)
        problems.add(`columns[${i}]`, `${where} is computed by the database, which a sync cannot write`);
      const twin = table.columns.find(
        (c) =>
          c !== column &&
          c.owners.some((o) => o.member === owner.member && o.column.name === owner.column.name),
      );
      if (twin && table.columns.indexOf(twin) < i)
        problems.add(
          `columns[${i}]`,
          `${where} is exposed as "${twin.name}" too; a sync maps a column to one field`,
        );
    }
  });
}

/**
 * The sync rule keeping a materialized table current, as `POST /api/syncs` takes it. Members: the
 * combined members (canonical field = exposed column, with the owners' transforms), then the
 * materialized table (every exposed column, matched by the key column). Refuses with
 * `cannot_materialize` (400) a definition that cannot be kept by a sync: one matched by a sync's
 * links, without a key column, with unequal normalize steps, or exposing unwritable columns.
 *
 * Rows inserted in a member are created only in the materialized table, rows inserted there only
 * in the members of the definition's `inserts`. Deletes propagate the same way: a row deleted in the
 * table is deleted in the members the definition's `deletes` names; the table's row goes with the
 * entity's last member row (`receivesDeletes: "last"`), and meanwhile loses the columns only the
 * deleted member owned. Shared columns become fields of several members, so the sync keeps
 * them equal across the combined members too, the first member winning conflicts.
 */
export function materializationRule(
  table: CombinedTable,
  target: MaterializedTarget,
  name: string,
): SyncRule {
  const problems = new RuleProblems();
  if (table.definition.links) {
    problems.add(
      'links',
      'the definition matches rows by the links of a sync rule; a materialized table needs match keys: ' +
        'give each member a match {column, normalize} instead of links',
    );
    throw asMaterializeError(problems);
  }
  const key = keyColumn(table, problems);
  checkWritable(table, problems);
  if (problems.list.length > 0 || !key) throw asMaterializeError(problems);
  const matIndex = table.members.length;
  const members: SyncMember[] = table.members.map((member) => {
    const fields: Record<string, FieldMapping> = {};
    for (const column of table.columns) {
      const owner = column.owners.find((o) => o.member === member.index);
      if (!owner) continue;
      fields[column.name] = {
        column: owner.column.name,
        ...(owner.read ? { read: owner.read } : {}),
        ...(owner.write ? { write: owner.write } : {}),
      };
    }
    const receives = table.definition.inserts.members.includes(member.name);
    const { deletes } = table.definition;
    const deleted = deletes === 'all' || (deletes !== 'refuse' && deletes.members.includes(member.name));
    return {
      source: member.sourceId,
      table: member.tableName,
      match: { column: member.match!.column, normalize: member.match!.normalize },
      fields,
      receivesInserts: receives ? [matIndex] : false,
      // A row deleted in the materialized table is deleted where the definition's policy says.
      receivesDeletes: deleted ? [matIndex] : false,
    };
  });
  members.push({
    source: target.sourceId,
    table: target.tableName,
    match: { column: key.column.name, normalize: key.normalize },
    fields: Object.fromEntries(table.columns.map((c) => [c.name, { column: c.name }])),
    receivesInserts: true,
    // The materialized row shows the entity while any member holds it (a full join).
    receivesDeletes: 'last',
  });
  return {
    name,
    members,
    conflict: { policy: 'priority', order: members.map((_, i) => i) },
    capture: 'auto',
    reconcile: 'apply',
    inserts: 'create',
    deletes: 'propagate',
    // Rows inserted in a member after the fill, before capture started, are created by it.
    createMissing: true,
  };
}

/** The materialized table: its own key, then one nullable column per exposed column, typed as it. */
export function materializedTableDefinition(
  table: CombinedTable,
  location: { schema: string | null; name: string },
): TableDefinition {
  const columns: ColumnDefinition[] = table.columns.map(({ name, schema }) => ({
    name,
    type: schema.type,
    // Nullable whatever the owners say: a member lacking the entity shows NULL there.
    nullable: true,
    ...(schema.maxLength !== undefined ? { maxLength: schema.maxLength } : {}),
    ...(schema.precision !== undefined ? { precision: schema.precision } : {}),
    ...(schema.scale !== undefined ? { scale: schema.scale } : {}),
    ...(schema.enumValues ? { enumValues: schema.enumValues } : {}),
  }));
  return {
    schema: location.schema,
    name: location.name,
    columns: [{ name: MATERIALIZED_KEY, type: 'bigint', autoIncrement: true, nullable: false }, ...columns],
    primaryKey: [MATERIALIZED_KEY],
  };
}

/** Combined rows as rows of the materialized table (exposed columns; the key comes from the database). */
export async function* materializedRows(
  table: CombinedTable,
  batches: AsyncIterable<CombinedRow[]>,
): AsyncIterable<Row[]> {
  for await (const batch of batches) {
    yield batch.map((row) => Object.fromEntries(table.columns.map((c) => [c.name, row[c.name] ?? null])));
  }
}

function asMaterializeError(problems: RuleProblems): BraidError {
  const error = problems.error();
  return badRequest('cannot_materialize', `cannot materialize: ${error.message}`, error.details);
}
