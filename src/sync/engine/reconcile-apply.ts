import { matchKey } from '../../match/normalize.js';
import type { Row } from '../../model/values.js';
import { planReconciliation, type ReconcilePlan } from '../reconcile-plan.js';
import { readCanonical, type CanonicalValues } from '../field-mapping.js';
import { createMissing, writeUpdate } from './apply-event.js';
import type { SyncContext } from './sync-context.js';

export interface ReconcileOptions {
  /** `dry-run` only reports; `apply` links matches, writes the decided values, opens conflicts. */
  mode: 'dry-run' | 'apply';
  /** With `apply`: create each unmatched row in the members that lack it. */
  createMissing?: boolean;
}

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
  const plan = await planReconciliation({
    rule: ctx.rule,
    tables: ctx.members.map((m) => m.table),
    rows: ctx.members.map((m) => m.connector.stream(m.table, { batchSize: 1000 })),
    links: ctx.store.entityLinks.allOf(ctx.syncId),
    sandbox: ctx.sandbox,
  });
  const applied = { linked: 0, rowsWritten: 0, conflictsOpened: 0, created: 0 };
  if (options.mode === 'apply') {
    for (const entity of plan.entities) {
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
        await writeUpdate(ctx, { runtime, key: planned.key, row }, values);
        applied.rowsWritten++;
      }
      // After applying, every member holds the decided value: the baseline for later changes.
      const source = ctx.members[entity.rows[0]!.member]!;
      const first = await source.connector.getByKey(source.table, entity.rows[0]!.key);
      if (first) {
        ctx.baselines.set(entityId, await readCanonical(ctx.sandbox, source.member, first));
      }
    }
    if (options.createMissing) applied.created = await createUnmatched(ctx, plan);
  }
  return { mode: options.mode, summary: plan.summary, applied, plan };
}

async function createUnmatched(ctx: SyncContext, plan: ReconcilePlan): Promise<number> {
  let created = 0;
  for (const unmatched of plan.unmatched) {
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
    const before = ctx.members.reduce((n, m) => n + m.stats.writes, 0);
    await createMissing(ctx, entityId, source, row, mk);
    created += ctx.members.reduce((n, m) => n + m.stats.writes, 0) - before;
  }
  return created;
}
