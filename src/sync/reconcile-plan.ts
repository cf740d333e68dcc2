import { matchKey as matchKeyOf } from '../match/normalize.js';
import { memberKeyText, type EntityLink } from '../meta/entity-links-repository.js';
import { isBraidError } from '../model/errors.js';
import { keyOf, type RowKey } from '../model/row-key.js';
import type { TableSchema } from '../model/schema.js';
import type { Row } from '../model/values.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { decideEntity, type FieldDecision } from './conflict-policy.js';
import { readCanonical, type CanonicalValues } from './field-mapping.js';
import { canonicalFields, priorityOrder, type SyncRule } from './sync-rule.js';

export interface ReconcileInput {
  rule: SyncRule;
  /** `tables[i]`: member i's introspected table (for its primary key). */
  tables: readonly TableSchema[];
  /** `rows[i]`: member i's rows, one at a time or in batches (a connector's `stream`). */
  rows: readonly (AsyncIterable<Row | Row[]> | Iterable<Row | Row[]>)[];
  /** The sync's stored links (`entityLinks.allOf(syncId)`); none for a new sync. */
  links?: AsyncIterable<EntityLink> | Iterable<EntityLink>;
  sandbox: Sandbox;
  /** Longest list kept for each part of the report (counts are always complete). Default 1000. */
  maxListed?: number;
}

/** One member row of a planned entity. */
export interface PlannedRow {
  member: number;
  key: RowKey;
  /** True when a stored link already ties this row to the entity. */
  linked: boolean;
}

/** Rows of two or more members that are the same entity, and what to do about their fields. */
export interface PlannedEntity {
  /** The linked entity, or null for a match found now (linked when the plan is applied). */
  entityId: string | null;
  matchKey: string | null;
  rows: PlannedRow[];
  /** Only the fields where members differ: the policy's decision or a manual conflict. */
  discrepancies: FieldDecision[];
}

export interface UnmatchedRow {
  member: number;
  key: RowKey;
  matchKey: string | null;
  /** Set when the row is linked but none of its partner rows exists any more. */
  entityId?: string;
}

/** Rows sharing one match key where a member has more than one: reported, never merged silently. */
export interface DuplicateGroup {
  matchKey: string;
  rows: { member: number; key: RowKey }[];
}

export interface RowError {
  member: number;
  key: RowKey;
  code: string;
  message: string;
}

/**
 * What an initial reconciliation would do; the dry-run report, and the input of applying it later.
 * `entities` is complete (applying needs it); the other lists stop at `maxListed` (`truncated`).
 */
export interface ReconcilePlan {
  summary: {
    rows: number[];
    matched: number;
    matchedByLink: number;
    matchedByKey: number;
    unmatched: number[];
    duplicateGroups: number;
    discrepancies: number;
    conflicts: number;
    rowErrors: number;
  };
  entities: PlannedEntity[];
  unmatched: UnmatchedRow[];
  duplicates: DuplicateGroup[];
  rowErrors: RowError[];
  truncated: boolean;
}

interface RowInfo {
  member: number;
  key: RowKey;
  keyText: string;
  matchKey: string | null;
  values: CanonicalValues;
  /** Tied to its entity by a stored link (rather than matched now). */
  linked: boolean;
}

/**
 * Plans the initial reconciliation of a sync, without writing anything. Rows are streamed; only
 * each row's key, match key and canonical values are kept. A row is matched by its stored link
 * first, else by its normalized match key. When one member has several rows with the same match key,
 * the whole group is reported as duplicates and left unmatched. Each matched entity's fields are
 * compared (after `read` transforms, see `canonicalEquals`) and every difference gets the policy's
 * decision; with no commit times known at this point, `newest` falls back to priority order.
 *
 * @example
 * ```ts
 * const plan = await planReconciliation({ rule, tables: [crmTable, invoicingTable], sandbox,
 *   rows: [crmConnector.stream(crmTable), invoicingConnector.stream(invoicingTable)],
 *   links: store.entityLinks.allOf(syncId) });
 * plan.summary; // { matched: 150, unmatched: [30, 12], discrepancies: 17, ... }
 * ```
 */
export async function planReconciliation(input: ReconcileInput): Promise<ReconcilePlan> {
  const { rule } = input;
  const maxListed = input.maxListed ?? 1000;
  const plan = emptyPlan(rule.members.length);
  const listed = <T>(list: T[], item: T) => {
    if (list.length < maxListed) list.push(item);
    else plan.truncated = true;
  };
  const unmatched = (r: RowInfo, entityId?: string) => {
    plan.summary.unmatched[r.member]!++;
    const item: UnmatchedRow = { member: r.member, key: r.key, matchKey: r.matchKey };
    listed(plan.unmatched, entityId === undefined ? item : { ...item, entityId });
  };

  const linkOf = new Map<string, string>();
  for await (const link of input.links ?? [])
    linkOf.set(`${link.member}:${memberKeyText(link.key)}`, link.entityId);

  const linked = new Map<string, (RowInfo | undefined)[]>();
  const pools = rule.members.map(() => new Map<string, RowInfo[]>());
  const noKey: RowInfo[] = [];
  for (const [member, source] of input.rows.entries()) {
    for await (const info of readMember(input, member, source, plan, listed)) {
      const entityId = linkOf.get(`${member}:${info.keyText}`);
      if (entityId !== undefined) {
        info.linked = true;
        const rows = linked.get(entityId) ?? rule.members.map(() => undefined);
        rows[member] = info;
        linked.set(entityId, rows);
      } else if (info.matchKey === null) {
        noKey.push(info);
      } else {
        const group = pools[member]!.get(info.matchKey);
        if (group) group.push(info);
        else pools[member]!.set(info.matchKey, [info]);
      }
    }
  }

  const decide = entityDecider(rule);
  for (const [entityId, rows] of linked) {
    completeFromPools(rows, pools);
    const present = rows.filter((r): r is RowInfo => r !== undefined);
    if (present.length < 2) {
      for (const r of present) unmatched(r, entityId);
      continue;
    }
    addEntity(plan, decide, entityId, present);
  }

  for (const info of noKey) unmatched(info);
  for (const key of unionKeys(pools)) {
    const groups = pools.map((pool) => pool.get(key) ?? []);
    const rows = groups.flat();
    if (groups.some((g) => g.length > 1)) {
      plan.summary.duplicateGroups++;
      listed(plan.duplicates, { matchKey: key, rows: rows.map((r) => ({ member: r.member, key: r.key })) });
      continue;
    }
    if (rows.length < 2) {
      for (const r of rows) unmatched(r);
      continue;
    }
    addEntity(plan, decide, null, rows);
  }
  return plan;
}

function emptyPlan(memberCount: number): ReconcilePlan {
  return {
    summary: {
      rows: new Array<number>(memberCount).fill(0),
      matched: 0,
      matchedByLink: 0,
      matchedByKey: 0,
      unmatched: new Array<number>(memberCount).fill(0),
      duplicateGroups: 0,
      discrepancies: 0,
      conflicts: 0,
      rowErrors: 0,
    },
    entities: [],
    unmatched: [],
    duplicates: [],
    rowErrors: [],
    truncated: false,
  };
}

async function* readMember(
  input: ReconcileInput,
  member: number,
  source: AsyncIterable<Row | Row[]> | Iterable<Row | Row[]>,
  plan: ReconcilePlan,
  listed: <T>(list: T[], item: T) => void,
): AsyncIterable<RowInfo> {
  const spec = input.rule.members[member]!;
  const table = input.tables[member]!;
  const read = async (row: Row): Promise<RowInfo | RowError> => {
    const key = keyOf(table, row);
    try {
      const values = await readCanonical(input.sandbox, spec, row, { rowKey: key });
      const matchKey = matchKeyOf(row, spec.match.column, spec.match.normalize);
      return { member, key, keyText: memberKeyText(key), matchKey, values, linked: false };
    } catch (err) {
      // One bad row (a transform that throws on it) is reported; it must not stop the plan.
      if (!isBraidError(err)) throw err;
      return { member, key, code: err.code, message: err.message };
    }
  };
  for await (const chunk of source) {
    const rows = Array.isArray(chunk) ? chunk : [chunk];
    plan.summary.rows[member]! += rows.length;
    // A whole batch at once: the isolate queues the evaluations, several times faster than one
    // awaited after the other (docs/architecture.md, Sandbox). Batches bound the memory.
    for (const result of await Promise.all(rows.map(read))) {
      if ('values' in result) {
        yield result;
      } else {
        plan.summary.rowErrors++;
        listed(plan.rowErrors, result);
      }
    }
  }
}

/** A linked entity missing a member takes that member's one unlinked row with the same match key. */
function completeFromPools(rows: (RowInfo | undefined)[], pools: Map<string, RowInfo[]>[]): void {
  const key = rows.find((r) => r?.matchKey)?.matchKey;
  if (!key) return;
  rows.forEach((row, member) => {
    const candidates = pools[member]!.get(key);
    if (row !== undefined || candidates?.length !== 1) return;
    rows[member] = candidates[0];
    pools[member]!.delete(key);
  });
}

function entityDecider(rule: SyncRule): (rows: RowInfo[]) => FieldDecision[] {
  const priority = priorityOrder(rule);
  const fields = canonicalFields(rule);
  return (rows) =>
    decideEntity({
      policy: rule.conflict.policy,
      priority,
      fields,
      sides: rows.map((r) => ({ member: r.member, values: r.values })),
    }).filter((d) => d.outcome !== 'agree');
}

function addEntity(
  plan: ReconcilePlan,
  decide: (rows: RowInfo[]) => FieldDecision[],
  entityId: string | null,
  rows: RowInfo[],
): void {
  const discrepancies = decide(rows);
  plan.summary.matched++;
  if (entityId === null) plan.summary.matchedByKey++;
  else plan.summary.matchedByLink++;
  plan.summary.discrepancies += discrepancies.length;
  plan.summary.conflicts += discrepancies.filter((d) => d.outcome === 'conflict').length;
  plan.entities.push({
    entityId,
    matchKey: rows.find((r) => r.matchKey !== null)?.matchKey ?? null,
    rows: rows.map((r) => ({ member: r.member, key: r.key, linked: r.linked })),
    discrepancies,
  });
}

function unionKeys(pools: Map<string, RowInfo[]>[]): Set<string> {
  const keys = new Set<string>();
  for (const pool of pools) for (const key of pool.keys()) keys.add(key);
  return keys;
}
