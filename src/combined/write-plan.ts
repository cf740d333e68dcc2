import { matchKey } from '../match/normalize.js';
import { BraidError, badRequest, isBraidError } from '../model/errors.js';
import { coerceRow, coerceValue, type Row } from '../model/values.js';
import { canonicalEquals } from '../sync/field-mapping.js';
import type { JsonValue } from '../sandbox/sandbox.js';
import { isObject } from '../sync/sync-rule.js';
import type { CombinedTable, ResolvedColumn, ResolvedOwner } from './combined-table.js';

/**
 * What a combined write puts where, computed before anything is written: every value of every
 * member goes through its owner's `write` transform and is coerced against the member's column
 * here, so a value one member cannot take fails the whole write while nothing has been touched.
 */

/** An exposed column and the value the caller gave it. */
export interface ColumnInput {
  column: ResolvedColumn;
  value: unknown;
}

/** One member's update: the changed columns and their values before (to put them back). */
export interface MemberUpdate {
  member: number;
  changes: Row;
  before: Row;
}

/** One member's new row, as it will be inserted. */
export interface MemberInsert {
  member: number;
  row: Row;
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

/**
 * Checks a body of exposed column values (`{column: value}`). Unknown names and `_` metadata are
 * refused by name. The value is coerced to the exposed column's type only when its first owner
 * has no `read` transform: otherwise that schema describes the member's wire type, not what
 * readers see, and the owners' `write` transforms take the value as it came.
 */
export function parseColumnValues(table: CombinedTable, input: unknown, what: string): ColumnInput[] {
  if (!isObject(input))
    throw badRequest('invalid_row', `${what} must be an object of column values ({"column": value})`);
  return Object.entries(input).map(([name, value]) => {
    if (name.startsWith('_'))
      throw badRequest('read_only_field', `${what}: "${name}" is row metadata and cannot be written`, {
        field: name,
      });
    const column = table.columns.find((c) => c.name === name);
    if (!column) {
      const known = table.columns.map((c) => c.name).join(', ');
      throw badRequest(
        'unknown_field',
        `${what}: unknown column "${name}" in combined table "${table.definition.name}" (columns: ${known})`,
        { field: name },
      );
    }
    const coerced = column.owners[0]?.read === undefined ? coerceValue(column.schema, value, name) : value;
    return { column, value: coerced ?? null };
  });
}

/** The member column value of one owner: through its `write` transform, then coerced. */
async function ownerValue(
  table: CombinedTable,
  owner: ResolvedOwner,
  input: ColumnInput,
  row: Row | null,
  key: string | undefined,
): Promise<unknown> {
  const member = table.members[owner.member]!;
  const subject = `Column "${input.column.name}" = ${shown(input.value)} cannot be written to member "${member.name}"`;
  const details = { field: input.column.name, member: member.name, column: owner.column.name };
  let value: unknown = input.value;
  // NULL passes through without running the transform, as in syncs (field-mapping.ts writeMember);
  // a transform answering NaN or Infinity is refused by the sandbox (sandbox_result, 422).
  if (value !== null && owner.write !== undefined)
    value = await table.sandbox.evaluate(
      owner.write,
      { value: value as JsonValue, row },
      { details: { ...(key === undefined ? {} : { rowKey: key }), ...details } },
    );
  try {
    const path = member.tableName;
    return coerceRow(member.table, { [owner.column.name]: value }, { partial: true, path })[
      owner.column.name
    ];
  } catch (err) {
    if (!isBraidError(err) || err.status !== 400) throw err;
    throw new BraidError(400, err.code, `${subject}: ${err.message}`, {
      ...err.details,
      ...details,
      value: input.value,
    });
  }
}

/** The column values member `member` gets from `inputs` (only the columns it owns). */
async function memberValues(
  table: CombinedTable,
  member: number,
  inputs: ColumnInput[],
  row: Row | null,
  key?: string,
): Promise<Row> {
  const out: Row = {};
  const from: Record<string, string> = {};
  for (const input of inputs) {
    const owner = input.column.owners.find((o) => o.member === member);
    if (!owner) continue;
    const value = await ownerValue(table, owner, input, row, key);
    const name = owner.column.name;
    // Two exposed columns may write the same member column; they must then agree.
    if (name in out && !canonicalEquals(out[name] as JsonValue, value as JsonValue)) {
      const memberName = table.members[member]!.name;
      throw badRequest(
        'conflicting_values',
        `Columns "${from[name]}" and "${input.column.name}" both write ${memberName}.${name}, with different values`,
        { member: memberName, column: name, fields: [from[name], input.column.name] },
      );
    }
    out[name] = value;
    from[name] = input.column.name;
  }
  return out;
}

/**
 * The updates of an entity's members: each member holding a row gets the changed columns it owns
 * whose new value differs from its current one. A non-null value for a column no member holding
 * the entity owns would be lost, so it is refused (409) rather than dropped.
 */
export async function planUpdate(
  table: CombinedTable,
  inputs: ColumnInput[],
  memberRows: (Row | null)[],
  key: string,
): Promise<MemberUpdate[]> {
  for (const input of inputs) {
    if (input.value === null || input.column.owners.some((o) => memberRows[o.member])) continue;
    const owners = input.column.owners.map((o) => table.members[o.member]!.name);
    throw new BraidError(
      409,
      'member_row_absent',
      `Column "${input.column.name}" is stored in ${owners.join(', ')}, which hold${owners.length === 1 ? 's' : ''} no row of entity "${key}": the value cannot be kept`,
      { field: input.column.name, members: owners },
    );
  }
  const updates: MemberUpdate[] = [];
  for (const member of table.members) {
    const current = memberRows[member.index];
    if (!current) continue;
    const values = await memberValues(table, member.index, inputs, current, key);
    const changes: Row = {};
    const before: Row = {};
    for (const [name, value] of Object.entries(values)) {
      if (canonicalEquals(value as JsonValue, (current[name] ?? null) as JsonValue)) continue;
      changes[name] = value;
      before[name] = current[name] ?? null;
    }
    if (Object.keys(changes).length > 0) updates.push({ member: member.index, changes, before });
  }
  return updates;
}

/**
 * The rows to insert into `members` (indexes): each gets the values of the columns it owns. A
 * value no inserted member owns, a missing match key or a required column left empty fails here.
 */
export async function planInsert(
  table: CombinedTable,
  inputs: ColumnInput[],
  members: number[],
): Promise<MemberInsert[]> {
  const names = members.map((i) => table.members[i]!.name);
  for (const input of inputs) {
    if (input.value === null || input.column.owners.some((o) => members.includes(o.member))) continue;
    const owners = input.column.owners.map((o) => table.members[o.member]!.name);
    throw badRequest(
      'unstored_field',
      `Column "${input.column.name}" is stored only in ${owners.join(', ')}, which inserts do not create rows in (inserts go to ${names.join(', ')})`,
      { field: input.column.name },
    );
  }
  const inserts: MemberInsert[] = [];
  for (const index of members) {
    const member = table.members[index]!;
    const row = await memberValues(table, index, inputs, null);
    // Which exposed columns the caller can fill to give this member column a value.
    const fill = (column: string) => {
      const list = table.columns
        .filter((c) => c.owners.some((o) => o.member === index && o.column.name === column))
        .map((c) => `"${c.name}"`);
      return list.length > 0
        ? `give ${list.join(' or ')} a value`
        : 'no column of this combined table writes it';
    };
    const match = member.match?.column;
    // A blank key matches nothing: the new rows would each be an entity of their own.
    if (match !== undefined && matchKey(row, match, member.match!.normalize) === null)
      throw badRequest(
        'missing_value',
        `Inserting into member "${member.name}" needs a non-blank value in its match column ${member.tableName}.${match}: ${fill(match)}`,
        { member: member.name, column: match },
      );
    try {
      inserts.push({
        member: index,
        row: coerceRow(member.table, row, { partial: false, path: member.tableName }),
      });
    } catch (err) {
      if (!isBraidError(err) || err.code !== 'missing_value') throw err;
      const column = String(err.details?.field);
      throw badRequest(
        'missing_value',
        `Inserting into member "${member.name}": ${err.message}: ${fill(column)}`,
        {
          member: member.name,
          column,
        },
      );
    }
  }
  return inserts;
}
