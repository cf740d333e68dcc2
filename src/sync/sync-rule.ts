import { parseNormalizeSteps, type NormalizeStep } from '../match/normalize.js';
import { badRequest, type BraidError } from '../model/errors.js';

export const CONFLICT_POLICIES = ['priority', 'newest', 'manual'] as const;
export const CAPTURE_CHOICES = ['auto', 'logical', 'binlog', 'triggers', 'polling'] as const;
export const RECONCILE_MODES = ['apply', 'dry-run', 'none'] as const;
export const INSERT_MODES = ['create', 'ignore'] as const;
export const DELETE_MODES = ['ignore', 'propagate'] as const;

export type ConflictPolicy = (typeof CONFLICT_POLICIES)[number];
export type CaptureChoice = (typeof CAPTURE_CHOICES)[number];
export type ReconcileMode = (typeof RECONCILE_MODES)[number];
/** A row inserted in one member: create the entity in the other members, or leave it alone. */
export type InsertMode = (typeof INSERT_MODES)[number];
/** A row deleted in one member: delete the linked rows of the other members, or only unlink. */
export type DeleteMode = (typeof DELETE_MODES)[number];

/** One canonical field in one member: its column and the optional sandboxed transforms. */
export interface FieldMapping {
  column: string;
  /** Expression over `value` (the column's wire value) and `row`, answering the canonical value. */
  read?: string;
  /** Expression over `value` (the canonical value) and `row`, answering the column's value. */
  write?: string;
}

export interface SyncMember {
  /** Source id. */
  source: string;
  /** Table as people name it (`name`, or `schema.name` outside the default schema). */
  table: string;
  match: { column: string; normalize: NormalizeStep[] };
  /** Canonical field name -> mapping. */
  fields: Record<string, FieldMapping>;
  /** This member's capture, overriding the rule's `capture` (absent: the rule's applies). */
  capture?: CaptureChoice;
  /**
   * With `inserts: "create"`: whether rows inserted in other members are created here. Absent or
   * `true`: from every member; `false`: never; a list of member indexes: only rows inserted in
   * those members (a materialized combined table sends its inserts to some members, while rows
   * inserted in a member reach the materialized table only).
   */
  receivesInserts?: boolean | number[];
  /**
   * With `deletes: "propagate"`: whether this member's row goes when a linked row of another member
   * is deleted. Absent or `true`: always; `false`: never; a list of member indexes: only when the
   * deleted row is of those members; `"last"`: only once no member of another kind holds the entity
   * any more, and until then the fields only the deleted row's member mapped are set to NULL here
   * (a materialized combined table: it shows an entity while any member holds it).
   */
  receivesDeletes?: boolean | number[] | 'last';
}

/**
 * A sync rule, as parsed from `POST /api/syncs`. The body's shape is the issue's, unchanged:
 *
 * ```json
 * {"name": "customer contacts",
 *  "members": [
 *    {"source": "crm", "table": "crm_business_information",
 *     "match": {"column": "business_name", "normalize": ["trim", "lower", "collapse_spaces"]},
 *     "fields": {"email": "email",
 *                "phone": {"column": "phone", "read": "value.replace(/\\D/g, '')", "write": "value"}}},
 *    {"source": "invoicing", "table": "invoice_customers", "match": {...},
 *     "fields": {"email": "email", "phone": {"column": "phone", "read": "String(value)", "write": "Number(value)"}}}],
 *  "conflict": {"policy": "priority", "order": ["crm", "invoicing"]},
 *  "capture": "auto", "reconcile": "apply"}
 * ```
 *
 * Additions (all optional): `inserts` (`"ignore"` by default: a row inserted in one member is only
 * linked when a matching row exists; `"create"` creates it in the other members), `deletes`
 * (`"ignore"` by default: the other members keep their rows and only the link goes; `"propagate"`
 * deletes the linked rows too), and `conflict.order` entries may be a member index (a number) as well
 * as a source id, for rules with two tables of one source. A member may carry its own `capture`
 * (same values as the rule's; the member's wins), e.g. `"triggers"` for one table of a rule left on
 * `"auto"` whose server allows no log-based capture for it. With `inserts: "create"`, a member's
 * `receivesInserts` limits which members' inserted rows are created in it (`false`: none; a list of
 * member indexes: those members' only; default `true`: all); with `deletes: "propagate"`,
 * `receivesDeletes` does the same for deletes and may be `"last"` (see SyncMember). Defaults: `normalize` `[]`, `conflict`
 * `{"policy": "priority"}` in member order, `capture` `"auto"`, `reconcile` `"dry-run"`.
 */
export interface SyncRule {
  name: string;
  members: SyncMember[];
  conflict: {
    policy: ConflictPolicy;
    /** As given (source ids or member indexes), for showing the rule back. */
    order?: (string | number)[];
  };
  capture: CaptureChoice;
  reconcile: ReconcileMode;
  inserts: InsertMode;
  deletes: DeleteMode;
  /**
   * With `reconcile: "apply"`: the initial reconciliation also creates unmatched rows in the members
   * lacking them (as `receivesInserts` allows). Capture starts before it, so a row inserted while
   * the rule was being set up is created too (a materialized combined table relies on it).
   */
  createMissing?: boolean;
}

const MAX_NAME = 200;
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,99}$/;

/** Collects every problem of a body so one answer lists them all, each with its path. */
export class RuleProblems {
  readonly list: { path: string; message: string }[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  /** Throws `invalid_sync_rule` (400) when there is any problem: the message names the first. */
  throwIfAny(): void {
    if (this.list.length === 0) return;
    throw this.error();
  }

  error(): BraidError {
    const [first] = this.list;
    const more = this.list.length > 1 ? ` (and ${this.list.length - 1} more problems)` : '';
    return badRequest('invalid_sync_rule', `${first!.path}: ${first!.message}${more}`, {
      problems: this.list,
    });
  }
}

/** Shared by the parsers of rule-like bodies (sync rules, combined tables). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

function oneOf<T extends string>(
  problems: RuleProblems,
  path: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  problems.add(path, `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  return fallback;
}

export function unknownKeys(
  problems: RuleProblems,
  path: string,
  value: Record<string, unknown>,
  known: string[],
) {
  // A misspelt optional key ("delete" for "deletes") would otherwise be silently ignored.
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) problems.add(path, `unknown property "${key}" (known: ${known.join(', ')})`);
  }
}

function parseField(problems: RuleProblems, path: string, input: unknown): FieldMapping | undefined {
  if (nonEmptyString(input)) return { column: input };
  if (!isObject(input)) {
    problems.add(path, 'must be a column name or {"column", "read"?, "write"?}');
    return undefined;
  }
  unknownKeys(problems, path, input, ['column', 'read', 'write']);
  if (!nonEmptyString(input.column)) {
    problems.add(`${path}.column`, 'must be a column name');
    return undefined;
  }
  const field: FieldMapping = { column: input.column };
  for (const side of ['read', 'write'] as const) {
    const code = input[side];
    if (code === undefined || code === null) continue;
    if (!nonEmptyString(code)) problems.add(`${path}.${side}`, 'must be a JavaScript expression (text)');
    else field[side] = code;
  }
  return field;
}

function parseReceives(
  problems: RuleProblems,
  path: string,
  input: unknown,
  memberCount: number,
  last = false,
): SyncMember['receivesDeletes'] {
  if (typeof input === 'boolean') return input;
  if (last && input === 'last') return input;
  const index = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < memberCount;
  if (Array.isArray(input) && input.every(index)) return [...new Set(input as number[])];
  problems.add(path, `must be true, false${last ? ', "last"' : ''} or a list of member indexes`);
  return undefined;
}

function parseMember(
  problems: RuleProblems,
  path: string,
  input: unknown,
  memberCount: number,
): SyncMember | undefined {
  if (!isObject(input)) {
    problems.add(path, 'must be an object with source, table, match and fields');
    return undefined;
  }
  unknownKeys(problems, path, input, [
    'source',
    'table',
    'match',
    'fields',
    'capture',
    'receivesInserts',
    'receivesDeletes',
  ]);
  const capture =
    input.capture === undefined
      ? undefined
      : oneOf(problems, `${path}.capture`, input.capture, CAPTURE_CHOICES, 'auto');
  if (!nonEmptyString(input.source)) problems.add(`${path}.source`, 'must be a source id');
  if (!nonEmptyString(input.table)) problems.add(`${path}.table`, 'must be a table name');
  let match: SyncMember['match'] | undefined;
  if (!isObject(input.match) || !nonEmptyString(input.match.column)) {
    problems.add(`${path}.match`, 'must be {"column": "<column>", "normalize": [steps]}');
  } else {
    unknownKeys(problems, `${path}.match`, input.match, ['column', 'normalize']);
    let steps: NormalizeStep[] = [];
    try {
      steps = parseNormalizeSteps(input.match.normalize ?? [], `${path}.match.normalize`);
    } catch (err) {
      const where = String((err as BraidError).details?.['path'] ?? `${path}.match.normalize`);
      problems.add(where, (err as Error).message.slice(where.length).replace(/^:? /, ''));
    }
    match = { column: input.match.column, normalize: steps };
  }
  const fields: Record<string, FieldMapping> = {};
  if (!isObject(input.fields) || Object.keys(input.fields).length === 0) {
    problems.add(`${path}.fields`, 'must map at least one canonical field to a column');
  } else {
    for (const [name, mapping] of Object.entries(input.fields)) {
      // Names become object keys and paths in messages: plain identifiers only (never `__proto__`).
      if (!FIELD_NAME.test(name) || name === '__proto__') {
        problems.add(
          `${path}.fields`,
          `${JSON.stringify(name)} is not a valid field name (letters, digits, _)`,
        );
        continue;
      }
      const field = parseField(problems, `${path}.fields.${name}`, mapping);
      if (field) fields[name] = field;
    }
  }
  if (!match || !nonEmptyString(input.source) || !nonEmptyString(input.table)) return undefined;
  const member: SyncMember = { source: input.source, table: input.table, match, fields };
  if (capture !== undefined) member.capture = capture;
  if (input.receivesInserts !== undefined) {
    const where = `${path}.receivesInserts`;
    const receives = parseReceives(problems, where, input.receivesInserts, memberCount);
    if (receives !== undefined) member.receivesInserts = receives as SyncMember['receivesInserts'];
  }
  if (input.receivesDeletes !== undefined) {
    const where = `${path}.receivesDeletes`;
    const receives = parseReceives(problems, where, input.receivesDeletes, memberCount, true);
    if (receives !== undefined) member.receivesDeletes = receives;
  }
  return member;
}

function parseConflict(problems: RuleProblems, input: unknown, memberCount: number): SyncRule['conflict'] {
  if (input === undefined) return { policy: 'priority' };
  if (!isObject(input)) {
    problems.add('conflict', 'must be {"policy": "priority"|"newest"|"manual", "order"?: [...]}');
    return { policy: 'priority' };
  }
  unknownKeys(problems, 'conflict', input, ['policy', 'order']);
  const policy = oneOf(problems, 'conflict.policy', input.policy, CONFLICT_POLICIES, 'priority');
  if (input.policy === undefined) problems.add('conflict.policy', 'is required');
  if (input.order === undefined) return { policy };
  if (!Array.isArray(input.order)) {
    problems.add('conflict.order', 'must be a list of source ids (or member indexes)');
    return { policy };
  }
  input.order.forEach((entry, i) => {
    const ok =
      nonEmptyString(entry) ||
      (typeof entry === 'number' && Number.isInteger(entry) && entry >= 0 && entry < memberCount);
    if (!ok) problems.add(`conflict.order[${i}]`, 'must be a source id or a member index');
  });
  return { policy, order: input.order as (string | number)[] };
}

/**
 * Parses the body of `POST /api/syncs` into a `SyncRule`, checking its shape only (not the tables:
 * see `validateSyncRule`). Throws `invalid_sync_rule` (400) listing every problem with its path.
 */
export function parseSyncRule(input: unknown): SyncRule {
  const problems = new RuleProblems();
  if (!isObject(input)) {
    problems.add('body', 'must be a sync rule object');
    throw problems.error();
  }
  unknownKeys(problems, 'body', input, [
    'name',
    'members',
    'conflict',
    'capture',
    'reconcile',
    'inserts',
    'deletes',
    'createMissing',
  ]);
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (name === '' || name.length > MAX_NAME) problems.add('name', `must be 1 to ${MAX_NAME} characters`);
  const members: SyncMember[] = [];
  if (!Array.isArray(input.members)) {
    problems.add('members', 'must be a list of at least two members');
  } else {
    const list: unknown[] = input.members;
    list.forEach((m, i) => {
      const member = parseMember(problems, `members[${i}]`, m, list.length);
      if (member) members.push(member);
    });
    if (input.members.length < 2) problems.add('members', 'a sync needs at least two members');
  }
  const memberCount = Array.isArray(input.members) ? input.members.length : 0;
  const rule: SyncRule = {
    name,
    members,
    conflict: parseConflict(problems, input.conflict, memberCount),
    capture: oneOf(problems, 'capture', input.capture, CAPTURE_CHOICES, 'auto'),
    reconcile: oneOf(problems, 'reconcile', input.reconcile, RECONCILE_MODES, 'dry-run'),
    inserts: oneOf(problems, 'inserts', input.inserts, INSERT_MODES, 'ignore'),
    deletes: oneOf(problems, 'deletes', input.deletes, DELETE_MODES, 'ignore'),
  };
  if (input.createMissing !== undefined) {
    if (typeof input.createMissing !== 'boolean') problems.add('createMissing', 'must be true or false');
    else if (input.createMissing && rule.reconcile !== 'apply')
      problems.add(
        'createMissing',
        'needs "reconcile": "apply" (rows are created by the initial reconciliation)',
      );
    else rule.createMissing = input.createMissing;
  }
  problems.throwIfAny();
  return rule;
}

/** Whether a row inserted in member `from` is created in `member` (`inserts: "create"`). */
export function receivesInsertsFrom(member: Pick<SyncMember, 'receivesInserts'>, from: number): boolean {
  const receives = member.receivesInserts ?? true;
  return typeof receives === 'boolean' ? receives : receives.includes(from);
}

/**
 * Whether a linked row of `member` is deleted with a row of member `from` (`deletes: "propagate"`).
 * `"last"` members answer false here: they go only with the entity's last row (see applyDelete).
 */
export function receivesDeletesFrom(member: Pick<SyncMember, 'receivesDeletes'>, from: number): boolean {
  const receives = member.receivesDeletes ?? true;
  if (receives === 'last') return false;
  return typeof receives === 'boolean' ? receives : receives.includes(from);
}

/** Every canonical field name of the rule, in first-seen order. */
export function canonicalFields(rule: Pick<SyncRule, 'members'>): string[] {
  const seen = new Set<string>();
  for (const member of rule.members) for (const name of Object.keys(member.fields)) seen.add(name);
  return [...seen];
}

/**
 * Member indexes in priority order (first wins): the entries of `conflict.order` (a source id
 * stands for every member of that source, in member order), then the members it does not name, in
 * member order. Used by `priority`, and by `newest` to break ties.
 */
export function priorityOrder(rule: Pick<SyncRule, 'members' | 'conflict'>): number[] {
  const out: number[] = [];
  const add = (index: number) => {
    if (!out.includes(index)) out.push(index);
  };
  for (const entry of rule.conflict.order ?? []) {
    if (typeof entry === 'number') add(entry);
    else rule.members.forEach((m, i) => m.source === entry && add(i));
  }
  rule.members.forEach((_, i) => add(i));
  return out;
}
