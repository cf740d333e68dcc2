import { isBraidError } from '../model/errors.js';
import { findColumn, qualifiedName, type TableSchema } from '../model/schema.js';
import { RuleProblems } from '../sync/sync-rule.js';
import { TRANSFORM_INPUTS } from '../sync/sync-rule-validation.js';
import { asCombinedError, type CombinedDefinition } from './combined-definition.js';
import type {
  CombinedDeps,
  CombinedTable,
  ResolvedColumn,
  ResolvedMember,
  ResolvedOwner,
} from './combined-table.js';
import { linkKeying } from './link-keying.js';
import { matchKeying } from './match-keying.js';

/**
 * Checks a parsed definition against the members' live tables and answers the resolved table the
 * reader and writer work on. Throws `invalid_combined_table` (400) listing every problem with its
 * path: a missing table or column, a table without primary key (rows are addressed by it), a
 * column computed by the database behind a writable owner, a transform that does not compile, a
 * member that is not part of the linking sync rule.
 */
export async function resolveCombinedTable(
  id: string,
  definition: CombinedDefinition,
  deps: CombinedDeps,
): Promise<CombinedTable> {
  const problems = new RuleProblems();
  const members: ResolvedMember[] = [];
  for (const [index, member] of definition.members.entries()) {
    const path = `members[${index}]`;
    let resolved: { connector: ResolvedMember['connector']; table: TableSchema };
    let sourceId: string;
    try {
      sourceId = await deps.resolveSourceId(member.source);
      resolved = await deps.resolveTable(sourceId, member.table);
    } catch (err) {
      if (!isBraidError(err) || err.status !== 404) throw err;
      problems.add(`${path}.table`, err.message);
      continue;
    }
    const { connector, table } = resolved;
    if (table.primaryKey.length === 0)
      problems.add(
        `${path}.table`,
        `table "${table.name}" has no primary key, so its rows cannot be addressed`,
      );
    if (member.match && !findColumn(table, member.match.column))
      problems.add(`${path}.match.column`, `table "${table.name}" has no column "${member.match.column}"`);
    const tableName = qualifiedName(table, connector.defaultSchema);
    const twin = members.find((m) => m.sourceId === sourceId && m.tableName === tableName);
    if (twin) problems.add(path, `table "${tableName}" is already member "${twin.name}"`);
    members.push({
      index,
      name: member.name,
      sourceId,
      tableName,
      table,
      connector,
      match: member.match ?? null,
    });
  }
  const columns = resolveColumns(definition, members, problems);
  await checkTransforms(definition, deps, problems);
  const linked = definition.links ? await resolveLinks(definition, members, deps, problems) : null;
  if (problems.list.length > 0) throw asCombinedError(problems);
  const keying = linked ?? matchKeying(members);
  return { id, definition, members, columns, keying, sandbox: deps.sandbox };
}

function resolveColumns(
  definition: CombinedDefinition,
  members: ResolvedMember[],
  problems: RuleProblems,
): ResolvedColumn[] {
  const columns: ResolvedColumn[] = [];
  definition.columns.forEach((column, i) => {
    const owners: ResolvedOwner[] = [];
    column.owners.forEach((owner, j) => {
      const path = `columns[${i}].owners[${j}]`;
      const member = members.find((m) => m.name === owner.member);
      if (!member) return; // its table was not found: reported with the member
      const schema = findColumn(member.table, owner.column);
      if (!schema) {
        problems.add(`${path}.column`, `table "${member.tableName}" has no column "${owner.column}"`);
        return;
      }
      owners.push({
        member: member.index,
        column: schema,
        ...(owner.read ? { read: owner.read } : {}),
        ...(owner.write ? { write: owner.write } : {}),
      });
    });
    if (owners.length === 0) return;
    const first = owners[0]!;
    // A read transform can change the type (BIGINT -> text): the exposed type is then the
    // transformed one, which only running it tells; text is the honest portable answer.
    const schema = first.read
      ? { ...first.column, name: column.name, type: 'text' as const, nativeType: 'text' }
      : { ...first.column, name: column.name };
    columns.push({ name: column.name, schema, owners });
  });
  return columns;
}

async function checkTransforms(definition: CombinedDefinition, deps: CombinedDeps, problems: RuleProblems) {
  for (const [i, column] of definition.columns.entries()) {
    for (const [j, owner] of column.owners.entries()) {
      for (const side of ['read', 'write'] as const) {
        const code = owner[side];
        if (code === undefined) continue;
        try {
          await deps.sandbox.check('expression', code, TRANSFORM_INPUTS);
        } catch (err) {
          if (!isBraidError(err) || err.code !== 'sandbox_syntax') throw err;
          problems.add(`columns[${i}].owners[${j}].${side}`, err.message);
        }
      }
    }
  }
}

async function resolveLinks(
  definition: CombinedDefinition,
  members: ResolvedMember[],
  deps: CombinedDeps,
  problems: RuleProblems,
) {
  const syncId = definition.links!.sync;
  if (!deps.syncLinks) {
    problems.add('links', 'entity links are not available here');
    return null;
  }
  let syncMembers;
  try {
    syncMembers = await deps.syncLinks.members(syncId);
  } catch (err) {
    if (!isBraidError(err) || err.status !== 404) throw err;
    problems.add('links.sync', `no sync rule "${syncId}"`);
    return null;
  }
  const indexes: number[] = [];
  for (const member of members) {
    const found = syncMembers.findIndex(
      (s) => s.source === member.sourceId && (s.table === member.tableName || s.table === member.table.name),
    );
    if (found < 0) {
      problems.add(
        `members[${member.index}]`,
        `table "${member.tableName}" is not a member of sync rule "${syncId}", whose links match the rows`,
      );
      continue;
    }
    member.match ??= syncMembers[found]!.match;
    indexes.push(found);
  }
  return linkKeying(members, syncId, indexes, deps.syncLinks);
}
