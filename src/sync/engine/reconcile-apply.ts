import { matchKey } from '../../match/normalize.js';
import type { Row } from '../../model/values.js';
import { planReconciliation, type ReconcilePlan } from '../reconcile-plan.js';
import { readCanonical, type CanonicalValues } from '../field-mapping.js';
import { writeUpdate } from './apply-event.js';
import { createMissing } from './entity-resolution.js';
import { recordPolicyDecision } from './resolve-conflict.js';
import type { SyncContext } from './sync-context.js';

export interface ReconcileOptions {
  /** `dry-run` only reports; `apply` links matches, writes the decided values, opens conflicts. */
  mode: 'dry-run' | 'apply';
  /** With `apply`: create each unmatched row in the members that lack it. */
  createMissing?: boolean;
  /** Told what the job is doing: rows read so far, then entities applied of all, then rows created. */
  onProgress?: (progress: ReconcileProgress) => void;
}

export interface ReconcileProgress {
  phase: 'reading' | 'applying' | 'creating';
  done: number;
  /** Known once reading is over (entities to apply, unmatched rows to create). */
  total: number | null;
}

/** Reports progress at most this often (every N rows or entities), so it costs nothing measurable. */
const PROGRESS_EVERY = 500;

export interface ReconcileReport {
  mode: 'dry-run' | 'apply';
  summary: ReconcilePlan['summary'];
  /** What applying did (all zero in a dry run). */
  applied: { linked: number; rowsWritten: number; conflictsOpened: number; created: number };
  plan: ReconcilePlan;
}

/**
 * The initial reconciliation of a sync (planReconciliation over every member's rows and the
 * stored links). Applying writes through each member's `withOrigin`, so a running sync does not
 * see its own reconciliation as changes, and records the converged values as baselines.
 */
export async function reconcileSync(ctx: SyncContext, options: ReconcileOptions): Promise<ReconcileReport> {
  const progress = options.onProgress ?? (() => undefined);
  let read = 0;
  const counted = async function* (batches: AsyncIterable<Row[]>): AsyncIterable<Row[]> {
    for await (const batch of batches) {
      read += batch.length;
      progress({ phase: 'reading', done: read, total: null });
      yield batch;
    }
  };
  progress({ phase: 'reading', done: 0, total: null });
  const plan = await planReconciliation({
    rule: ctx.rule,
    tables: ctx.members.map((m) => m.table),
    rows: ctx.members.map((m) => counted(m.connector.stream(m.table, { batchSize: 1000 }))),
    // Creating missing rows needs every unmatched row, not the first 1,000 a report lists.
    ...(options.mode === 'apply' && options.createMissing ? { maxListed: Number.POSITIVE_INFINITY } : {}),
    links: ctx.store.entityLinks.allOf(ctx.syncId),
    sandbox: ctx.sandbox,
  });
  const applied = { linked: 0, rowsWritten: 0, conflictsOpened: 0, created: 0 };
  if (options.mode === 'apply') {
    for (const [done, entity] of plan.entities.entries()) {
      if (done % PROGRESS_EVERY === 0) progress({ phase: 'applying', done, total: plan.entities.length });
      let entityId = entity.entityId ?? undefined;
      for (const row of entity.rows) {
        if (row.linked && entityId) continue;
        entityId = await ctx.store.entityLinks.link({
          syncId: ctx.syncId,
          entityId,
          member: row.member,
          key: row.key,
          matchKey: entity.matchKey,
        });
        applied.linked++;
      }
      if (!entityId) continue;
      const writes = new Map<number, CanonicalValues>();
      for (const decision of entity.discrepancies) {
        if (decision.outcome === 'decided') {
          await recordPolicyDecision(ctx, entityId, decision);
          for (const loser of decision.losers) {
            writes.set(loser.member, { ...writes.get(loser.member), [decision.field]: decision.value });
          }
        } else if (decision.outcome === 'conflict') {
          if (await ctx.store.syncConflicts.openFor(ctx.syncId, entityId, decision.field)) continue;
          await ctx.store.syncConflicts.open({
            syncId: ctx.syncId,
            entityId,
            field: decision.field,
            sides: decision.sides,
          });
          applied.conflictsOpened++;
        }
      }
      for (const [member, values] of writes) {
        const runtime = ctx.members[member]!;
        const planned = entity.rows.find((r) => r.member === member)!;
        const row = await runtime.connector.getByKey(runtime.table, planned.key);
        if (!row) continue;
        applied.rowsWritten += await writeUpdate(ctx, { runtime, key: planned.key, row }, values, entityId);
      }
      // After applying, every member holds the decided value: the baseline for later changes, stored
      // so that a restarted process decides as this one would. A field left in conflict converged
      // on nothing and keeps what was recorded before.
      const source = ctx.members[entity.rows[0]!.member]!;
      const first = await source.connector.getByKey(source.table, entity.rows[0]!.key);
      if (first) {
        const values = await readCanonical(ctx.sandbox, source.member, first);
        const previous = await ctx.baselines.get(entityId);
        for (const decision of entity.discrepancies) {
          if (decision.outcome !== 'conflict') continue;
          if (previous && decision.field in previous) values[decision.field] = previous[decision.field]!;
          else delete values[decision.field];
        }
        await ctx.baselines.set(entityId, { ...previous, ...values });
      }
    }
    progress({ phase: 'applying', done: plan.entities.length, total: plan.entities.length });
    if (options.createMissing) applied.created = await createUnmatched(ctx, plan, progress);
  }
  return { mode: options.mode, summary: plan.summary, applied, plan };
}

async function createUnmatched(
  ctx: SyncContext,
  plan: ReconcilePlan,
  progress: (progress: ReconcileProgress) => void,
): Promise<number> {
  let created = 0;
  for (const [done, unmatched] of plan.unmatched.entries()) {
    if (done % PROGRESS_EVERY === 0) progress({ phase: 'creating', done, total: plan.unmatched.length });
    if (unmatched.entityId) continue;
    const source = ctx.members[unmatched.member]!;
    const row: Row | null = await source.connector.getByKey(source.table, unmatched.key);
    if (!row) continue;
    const mk = matchKey(row, source.member.match.column, source.member.match.normalize);
    if (mk === null) continue;
    const entityId = await ctx.store.entityLinks.link({
      syncId: ctx.syncId,
      member: source.index,
      key: unmatched.key,
      matchKey: mk,
    });
    // The plan searched every member by match key already: no second scan per row.
    const searched = new Set(ctx.members.map((m) => m.index));
    created += (await createMissing(ctx, entityId, source, row, mk, searched)).created;
    await ctx.baselines.set(entityId, await readCanonical(ctx.sandbox, source.member, row));
  }
  return created;
}
