import type { Connector } from '../connectors/connector.js';
import { BraidError, badRequest, notFound } from '../model/errors.js';
import { keyOf } from '../model/row-key.js';
import type { Row } from '../model/values.js';
import { getCombinedRow } from './combined-reader.js';
import type { CombinedRow, CombinedTable, ResolvedMember } from './combined-table.js';
import { runMemberSteps, type MemberStep, type MemberWriteOutcome } from './compensation.js';
import { parseColumnValues, planInsert, planUpdate } from './write-plan.js';

export type { MemberWriteOutcome } from './compensation.js';

export interface CombinedWriteResult {
  row: CombinedRow | null;
  members: MemberWriteOutcome[];
}

function where(member: ResolvedMember, row: Row): string {
  return `${member.tableName} ${JSON.stringify(keyOf(member.table, row))}`;
}

function gone(member: ResolvedMember, row: Row): BraidError {
  return new BraidError(409, 'row_gone', `the row ${where(member, row)} was deleted meanwhile`);
}

async function findEntity(table: CombinedTable, key: string) {
  const found = await getCombinedRow(table, key);
  if (!found) throw notFound(`Row "${key}" of combined table "${table.definition.name}"`, { key });
  return found;
}

/** Each member as holding the entity or not, before any step's outcome replaces it. */
function baseOutcomes(table: CombinedTable, holds: (index: number) => boolean): MemberWriteOutcome[] {
  return table.members.map((m) => ({ member: m.name, action: holds(m.index) ? 'unchanged' : 'absent' }));
}

function memberIndexes(table: CombinedTable, names: string[]): number[] {
  return names.map((name) => {
    const member = table.members.find((m) => m.name === name);
    // The definition was checked against its members when it was parsed.
    if (!member) throw new BraidError(500, 'invalid_combined_table', `no member is named "${name}"`);
    return member.index;
  });
}

/**
 * Writes each changed column to the members owning it (through their `write` transforms), one
 * transaction per source; when a source fails, the members already written are put back and the
 * thrown `combined_write_failed` says what happened to each. Answers the entity as re-read.
 */
export async function updateCombinedRow(
  table: CombinedTable,
  key: string,
  changes: unknown,
): Promise<CombinedWriteResult> {
  const inputs = parseColumnValues(table, changes, 'changes');
  const { memberRows } = await findEntity(table, key);
  const updates = await planUpdate(table, inputs, memberRows, key);
  const stored = new Map<number, Row>();
  const steps = updates.map(({ member: index, changes: values, before }): MemberStep => {
    const member = table.members[index]!;
    const current = memberRows[index]!;
    // The row's key after the update (a change may touch a primary key column).
    const now = () => stored.get(index) ?? { ...current, ...values };
    return {
      member,
      action: 'updated',
      where: () => where(member, now()),
      async apply(tx: Connector) {
        const row = await tx.update(member.table, keyOf(member.table, current), values);
        if (!row) throw gone(member, current);
        stored.set(index, row);
      },
      async undo(tx: Connector) {
        if (!(await tx.update(member.table, keyOf(member.table, now()), before))) throw gone(member, now());
      },
    };
  });
  const outcomes = baseOutcomes(table, (i) => memberRows[i] !== null);
  await runMemberSteps('update', `combined row "${key}"`, steps, outcomes);
  return {
    row: (await getCombinedRow(table, await keyAfter(table, key, stored)))?.row ?? null,
    members: outcomes,
  };
}

/** The entity key after an update: it moves when a member's key columns (match column) changed. */
async function keyAfter(table: CombinedTable, key: string, stored: Map<number, Row>): Promise<string> {
  for (const [index, row] of stored) {
    const [after] = await table.keying.keysOf(index, [row]);
    if (after !== undefined && after !== key) return after;
  }
  return key;
}

/**
 * Creates the entity in the members `definition.inserts` names, each row made of the values of
 * the columns that member owns; a failure deletes the rows already inserted.
 */
export async function insertCombinedRow(table: CombinedTable, values: unknown): Promise<CombinedWriteResult> {
  const targets = memberIndexes(table, table.definition.inserts.members);
  if (targets.length === 0)
    throw new BraidError(
      409,
      'combined_insert_refused',
      `Combined table "${table.definition.name}" takes no inserts`,
    );
  const inputs = parseColumnValues(table, values, 'values');
  const inserts = await planInsert(table, inputs, targets);
  await refuseExisting(table, inserts);
  const stored = new Map<number, Row>();
  const steps = inserts.map(({ member: index, row }): MemberStep => {
    const member = table.members[index]!;
    return {
      member,
      action: 'inserted',
      where: () => where(member, stored.get(index) ?? row),
      async apply(tx: Connector) {
        const [created] = await tx.insert(member.table, [row]);
        stored.set(index, created ?? row);
      },
      async undo(tx: Connector) {
        await tx.delete(member.table, keyOf(member.table, stored.get(index)!));
      },
    };
  });
  const outcomes = baseOutcomes(table, () => false);
  await runMemberSteps('insert', `a row into combined table "${table.definition.name}"`, steps, outcomes);
  const first = inserts[0]!.member;
  const [key] = await table.keying.keysOf(first, [stored.get(first)!]);
  const found = key === undefined ? null : await getCombinedRow(table, key);
  for (const member of table.members)
    if (!targets.includes(member.index) && found?.memberRows[member.index])
      outcomes[member.index]!.action = 'unchanged';
  return { row: found?.row ?? null, members: outcomes };
}

/**
 * With match keys (not a sync's links, which only exist once rows are linked), the new rows must
 * make one entity that none of the inserted members holds yet: inserting again would duplicate it.
 */
async function refuseExisting(table: CombinedTable, inserts: { member: number; row: Row }[]): Promise<void> {
  if (table.definition.links) return;
  const keys = await Promise.all(inserts.map(async (i) => (await table.keying.keysOf(i.member, [i.row]))[0]));
  const names = inserts.map((i) => table.members[i.member]!.name);
  if (new Set(keys).size > 1)
    throw badRequest(
      'inconsistent_keys',
      `The values give different entity keys in ${names.map((n, i) => `${n} (${JSON.stringify(keys[i])})`).join(', ')}: the new rows would not be one entity`,
      { keys: Object.fromEntries(names.map((n, i) => [n, keys[i] ?? null])) },
    );
  const key = keys[0];
  const found = key === undefined ? null : await getCombinedRow(table, key);
  const holder = inserts.find((i) => found?.memberRows[i.member]);
  if (holder)
    throw new BraidError(
      409,
      'combined_row_exists',
      `Member "${table.members[holder.member]!.name}" already holds entity "${key}": edit that row instead`,
      { key, member: table.members[holder.member]!.name },
    );
}

/**
 * Deletes the entity as `definition.deletes` says: from every member holding it (`all`), from the
 * listed members, or not at all (`refuse`, 409). A failure re-inserts the rows already deleted
 * with their primary keys.
 */
export async function deleteCombinedRow(table: CombinedTable, key: string): Promise<CombinedWriteResult> {
  const policy = table.definition.deletes;
  if (policy === 'refuse')
    throw new BraidError(
      409,
      'combined_delete_refused',
      `Combined table "${table.definition.name}" refuses deletes: delete the rows in the member tables`,
      { key },
    );
  const targets = policy === 'all' ? table.members.map((m) => m.index) : memberIndexes(table, policy.members);
  const { memberRows } = await findEntity(table, key);
  const steps = targets
    .filter((index) => memberRows[index])
    .map((index): MemberStep => {
      const member = table.members[index]!;
      const row = memberRows[index]!;
      let deleted = false;
      return {
        member,
        action: 'deleted',
        where: () => where(member, row),
        async apply(tx: Connector) {
          deleted = await tx.delete(member.table, keyOf(member.table, row));
        },
        async undo(tx: Connector) {
          // Gone already when the step ran: nothing of ours to put back.
          if (deleted) await tx.insert(member.table, [writable(member, row)]);
        },
      };
    });
  const outcomes = baseOutcomes(table, (i) => memberRows[i] !== null);
  await runMemberSteps('delete', `combined row "${key}"`, steps, outcomes);
  return { row: (await getCombinedRow(table, key))?.row ?? null, members: outcomes };
}

/** A stored row without its computed columns, which the database fills itself on re-insert. */
function writable(member: ResolvedMember, row: Row): Row {
  const generated = new Set(member.table.columns.filter((c) => c.generated).map((c) => c.name));
  return Object.fromEntries(Object.entries(row).filter(([name]) => !generated.has(name)));
}
