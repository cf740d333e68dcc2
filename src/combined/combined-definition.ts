import { parseNormalizeSteps, type NormalizeStep } from '../match/normalize.js';
import { badRequest, type BraidError } from '../model/errors.js';
import { RuleProblems, isObject, nonEmptyString as text, unknownKeys } from '../sync/sync-rule.js';

export const JOIN_KINDS = ['inner', 'left', 'full'] as const;
/**
 * Which entities a combined table shows: `inner` only those present in every member, `left` those
 * present in the first member (others joined when they match), `full` every entity of any member.
 * A row missing from a member shows NULL for the columns only that member owns, and `_members`
 * says which members hold it.
 */
export type JoinKind = (typeof JOIN_KINDS)[number];

export interface CombinedMember {
  /** How columns and policies name this member (default: the source id). */
  name: string;
  source: string;
  /** Table as people name it (`name`, or `schema.name` outside the default schema). */
  table: string;
  /** The match key; absent only when the definition takes its links from a sync rule. */
  match?: { column: string; normalize: NormalizeStep[] };
}

/** One member column behind an exposed column, with optional sandboxed transforms (as in syncs). */
export interface ColumnOwner {
  member: string;
  column: string;
  /** Expression over `value` (the member's wire value) and `row`, answering the exposed value. */
  read?: string;
  /** Expression over `value` (the exposed value) and `row`, answering the member column's value. */
  write?: string;
}

export interface CombinedColumn {
  name: string;
  /** Members owning the column, in reading priority: the first one holding the row is shown. */
  owners: ColumnOwner[];
}

export type DeletePolicy = 'all' | 'refuse' | { members: string[] };

/**
 * A combined table, as `POST /api/combined` takes it:
 *
 * ```json
 * {"name": "customers",
 *  "join": "full",
 *  "members": [
 *    {"name": "crm", "source": "crm", "table": "crm_business_information",
 *     "match": {"column": "business_name", "normalize": ["trim", "lower", "collapse_spaces"]}},
 *    {"name": "invoicing", "source": "invoicing", "table": "invoice_customers",
 *     "match": {"column": "business_name", "normalize": ["trim", "lower", "collapse_spaces"]}}],
 *  "columns": [
 *    {"name": "business_name", "owners": ["crm.business_name", "invoicing.business_name"]},
 *    {"name": "phone", "owners": ["crm.phone",
 *       {"member": "invoicing", "column": "phone", "read": "String(value)", "write": "Number(value)"}]},
 *    {"name": "category", "owners": ["crm.category"]}],
 *  "inserts": {"members": ["crm", "invoicing"]},
 *  "deletes": "all"}
 * ```
 *
 * `links: {"sync": "<sync id>"}` matches rows by the entity links of that sync rule instead (each
 * member must then be a member table of the rule; `match` may be left out). Defaults: `join`
 * `"full"`, member `name` the source id, `inserts` every member, `deletes` `"all"` (a combined
 * delete deletes the entity's row in every member; `"refuse"` forbids deletes; `{"members": [...]}`
 * deletes only there).
 */
export interface CombinedDefinition {
  name: string;
  join: JoinKind;
  members: CombinedMember[];
  columns: CombinedColumn[];
  links?: { sync: string };
  inserts: { members: string[] };
  deletes: DeletePolicy;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;
const MAX_NAME = 200;

function parseMatch(problems: RuleProblems, path: string, input: unknown): CombinedMember['match'] {
  if (input === undefined) return undefined;
  if (!isObject(input) || !text(input.column)) {
    problems.add(path, 'must be {"column": "<column>", "normalize": [steps]}');
    return undefined;
  }
  unknownKeys(problems, path, input, ['column', 'normalize']);
  try {
    return {
      column: input.column,
      normalize: parseNormalizeSteps(input.normalize ?? [], `${path}.normalize`),
    };
  } catch (err) {
    problems.add(`${path}.normalize`, (err as BraidError).message);
    return undefined;
  }
}

function parseMembers(problems: RuleProblems, input: unknown, linked: boolean): CombinedMember[] {
  if (!Array.isArray(input) || input.length < 2) {
    problems.add('members', 'must list at least two member tables');
    return [];
  }
  const members: CombinedMember[] = [];
  input.forEach((raw, i) => {
    const path = `members[${i}]`;
    if (!isObject(raw)) return problems.add(path, 'must be {name?, source, table, match}');
    unknownKeys(problems, path, raw, ['name', 'source', 'table', 'match']);
    if (!text(raw.source)) problems.add(`${path}.source`, 'must be a source id or name');
    if (!text(raw.table)) problems.add(`${path}.table`, 'must be a table name');
    const name = raw.name === undefined ? raw.source : raw.name;
    if (typeof name !== 'string' || !NAME.test(name))
      problems.add(
        `${path}.name`,
        'must be an identifier (letters, digits, _); give one when the source id is not',
      );
    const match = parseMatch(problems, `${path}.match`, raw.match);
    if (!match && !linked && raw.match === undefined)
      problems.add(
        `${path}.match`,
        'is required (or take the links of a sync rule with "links": {"sync": id})',
      );
    if (!text(raw.source) || !text(raw.table) || typeof name !== 'string') return;
    if (members.some((m) => m.name === name))
      problems.add(`${path}.name`, `"${name}" names two members: give each member its own name`);
    members.push({ name, source: raw.source, table: raw.table, ...(match ? { match } : {}) });
  });
  return members;
}

function parseOwner(
  problems: RuleProblems,
  path: string,
  raw: unknown,
  members: string[],
): ColumnOwner | null {
  if (typeof raw === 'string') {
    const dot = raw.indexOf('.');
    if (dot <= 0 || dot === raw.length - 1) {
      problems.add(path, `"${raw}" must be "member.column" or {member, column, read?, write?}`);
      return null;
    }
    raw = { member: raw.slice(0, dot), column: raw.slice(dot + 1) };
  }
  if (!isObject(raw) || !text(raw.member) || !text(raw.column)) {
    problems.add(path, 'must be "member.column" or {member, column, read?, write?}');
    return null;
  }
  unknownKeys(problems, path, raw, ['member', 'column', 'read', 'write']);
  if (!members.includes(raw.member)) {
    problems.add(`${path}.member`, `no member is named "${raw.member}" (members: ${members.join(', ')})`);
    return null;
  }
  const owner: ColumnOwner = { member: raw.member, column: raw.column };
  for (const side of ['read', 'write'] as const) {
    const code = raw[side];
    if (code === undefined || code === null) continue;
    if (!text(code)) problems.add(`${path}.${side}`, 'must be a JavaScript expression (text)');
    else owner[side] = code;
  }
  return owner;
}

function parseColumns(problems: RuleProblems, input: unknown, members: string[]): CombinedColumn[] {
  if (!Array.isArray(input) || input.length === 0) {
    problems.add('columns', 'must list at least one column');
    return [];
  }
  const columns: CombinedColumn[] = [];
  input.forEach((raw, i) => {
    const path = `columns[${i}]`;
    if (!isObject(raw)) return problems.add(path, 'must be {name, owners: [...]}');
    unknownKeys(problems, path, raw, ['name', 'owners']);
    // Names beginning with "_" are kept for row metadata (`_key`, `_members`).
    if (typeof raw.name !== 'string' || !NAME.test(raw.name) || raw.name.startsWith('_'))
      return problems.add(`${path}.name`, 'must be an identifier (letters, digits, _) not starting with "_"');
    if (columns.some((c) => c.name === raw.name))
      return problems.add(`${path}.name`, `column "${raw.name}" is listed twice`);
    if (!Array.isArray(raw.owners) || raw.owners.length === 0)
      return problems.add(`${path}.owners`, 'must list at least one owner ("member.column")');
    const owners = raw.owners
      .map((o, j) => parseOwner(problems, `${path}.owners[${j}]`, o, members))
      .filter((o): o is ColumnOwner => o !== null);
    owners.forEach((o, j) => {
      if (owners.findIndex((p) => p.member === o.member) !== j)
        problems.add(`${path}.owners[${j}]`, `member "${o.member}" owns column "${raw.name}" twice`);
    });
    columns.push({ name: raw.name, owners });
  });
  return columns;
}

function memberList(problems: RuleProblems, path: string, input: unknown, members: string[]): string[] {
  if (
    !isObject(input) ||
    !Array.isArray(input.members) ||
    !input.members.every((m) => typeof m === 'string')
  ) {
    problems.add(path, 'must be {"members": ["<member name>", ...]}');
    return [];
  }
  for (const name of input.members as string[])
    if (!members.includes(name)) problems.add(`${path}.members`, `no member is named "${name}"`);
  return input.members as string[];
}

/**
 * Parses a combined-table definition (its shape only; `resolveCombinedTable` checks it against the
 * live schemas). Throws `invalid_combined_table` (400) listing every problem with its path.
 */
export function parseCombinedDefinition(input: unknown): CombinedDefinition {
  const problems = new RuleProblems();
  if (!isObject(input)) {
    problems.add('body', 'must be a combined table definition object');
    throw asCombinedError(problems);
  }
  unknownKeys(problems, 'body', input, ['name', 'join', 'members', 'columns', 'links', 'inserts', 'deletes']);
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (name === '' || name.length > MAX_NAME) problems.add('name', `must be 1 to ${MAX_NAME} characters`);
  let links: CombinedDefinition['links'];
  if (input.links !== undefined) {
    if (!isObject(input.links) || !text(input.links.sync))
      problems.add('links', 'must be {"sync": "<sync id>"}');
    else links = { sync: input.links.sync };
  }
  const join = input.join ?? 'full';
  if (!(JOIN_KINDS as readonly unknown[]).includes(join))
    problems.add('join', `must be one of ${JOIN_KINDS.map((k) => `"${k}"`).join(', ')}`);
  const members = parseMembers(problems, input.members, links !== undefined);
  const names = members.map((m) => m.name);
  const columns = parseColumns(problems, input.columns, names);
  const inserts =
    input.inserts === undefined
      ? { members: names }
      : { members: memberList(problems, 'inserts', input.inserts, names) };
  let deletes: DeletePolicy = 'all';
  if (input.deletes === 'all' || input.deletes === 'refuse') deletes = input.deletes;
  else if (input.deletes !== undefined)
    deletes = { members: memberList(problems, 'deletes', input.deletes, names) };
  if (problems.list.length > 0) throw asCombinedError(problems);
  return { name, join: join as JoinKind, members, columns, ...(links ? { links } : {}), inserts, deletes };
}

/** The problems of a definition as one `invalid_combined_table` error naming the first. */
export function asCombinedError(problems: RuleProblems): BraidError {
  const error = problems.error();
  return badRequest('invalid_combined_table', error.message, error.details);
}
