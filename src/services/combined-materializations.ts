import { streamCombinedRows } from '../combined/combined-reader.js';
import type { CombinedTable } from '../combined/combined-table.js';
import {
  materializationRule,
  materializedRows,
  materializedTableDefinition,
} from '../combined/materialization-plan.js';
import type { Connector } from '../connectors/connector.js';
import type { Job, JobContext } from '../jobs/job.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { tableLocation } from '../connectors/table-location.js';
import type { CombinedMaterialization } from '../meta/combined-materializations-repository.js';
import type { MetaStore } from '../meta/index.js';
import { BraidError, badRequest, isBraidError, notFound } from '../model/errors.js';
import { qualifiedName, type TableSchema } from '../model/schema.js';
import type { Row } from '../model/values.js';
import type { CombinedService } from './combined-service.js';
import type { SourcesService } from './sources-service.js';
import type { SyncState } from './sync-supervisor.js';
import type { SyncStatusView, SyncsService } from './syncs-service.js';

/** A materialized combined table as the API shows it. */
export interface MaterializationView {
  combinedId: string;
  combinedName: string;
  /** Source id of the materialized table. */
  source: string;
  table: string;
  /** The generated sync rule keeping the table current. */
  syncId: string;
  createdAt: string;
}

/** The materialization with how current its table is: the generated sync's state and lag. */
export interface MaterializationStatus extends MaterializationView {
  state: SyncState;
  /** The largest lag of the sync's members (ms): how far the table may be behind. Null before any event. */
  lagMs: number | null;
  sync: SyncStatusView;
}

export interface CombinedMaterializationsOptions {
  store: MetaStore;
  sources: SourcesService;
  combined: CombinedService;
  syncs: SyncsService;
  jobs: JobQueue;
}

/** A materialization as a durable job: what it makes, as checked when it was asked for. */
interface MaterializeParams {
  combinedId: string;
  sourceId: string;
  /** As given (the location is derived from it again) and as people name the result. */
  table: string;
  tableName: string;
}

export type MaterializeResult = MaterializationView & { rows: number };

const KIND = 'combined-materialize';

/**
 * Materialized combined tables: a real table in a chosen source, created from the definition,
 * filled from the combined rows, then kept current by a generated sync rule (see
 * materialization-plan.ts) that the supervisor reconciles and runs like any other. Its rows are
 * edited with any tool or Braid's row API; the sync carries the edits back to the members. The
 * creation and fill run as a durable job (`combined-materialize`), with progress in rows.
 */
export class CombinedMaterializations {
  constructor(private readonly options: CombinedMaterializationsOptions) {
    options.jobs.register<MaterializeParams, MaterializeResult>(KIND, (ctx) => this.run(ctx));
  }

  /**
   * Checks the request and starts the job that creates, fills and syncs the table `body.table` (a
   * new table) in source `body.source` (id or name). Refuses, before anything is created, a table
   * that exists (409 `table_exists`), a combined table already materialized (409
   * `already_materialized`) and a definition a sync cannot keep (400 `cannot_materialize`).
   */
  async start(ref: string, body: unknown, createdBy: string | null = null): Promise<Job<MaterializeParams>> {
    const input = parseTarget(body);
    const combined = await this.resolved(ref);
    if (await this.options.store.combinedMaterializations.get(combined.id))
      throw alreadyMaterialized(combined.definition.name);
    const sourceId = await this.options.sources.resolveId(input.source);
    const connector = await this.options.sources.connector(sourceId);
    await this.options.sources.refresh(sourceId);
    if (await this.findTable(sourceId, input.table)) throw tableExists(input.source, sourceId, input.table);
    const tableName = qualifiedName(tableLocation(connector, input.table), connector.defaultSchema);
    materializationRule(combined, { sourceId, tableName }, syncName(combined, tableName));
    return this.options.jobs.submit<MaterializeParams>(
      KIND,
      { combinedId: combined.id, sourceId, table: input.table, tableName },
      { title: `materialize ${combined.definition.name} into ${tableName}`, createdBy, runHere: true },
    );
  }

  /** `start`, then waits for the job: the materialization, or the job's error thrown. */
  async materialize(ref: string, body: unknown, createdBy: string | null = null): Promise<MaterializeResult> {
    const job = await this.options.jobs.wait((await this.start(ref, body, createdBy)).id);
    if (job.status === 'succeeded') return job.result as MaterializeResult;
    const error = job.error ?? { code: 'materialize_failed', message: `the job ended ${job.status}` };
    throw new BraidError(statusOf(error.code), error.code, error.message, { ...error.details, job: job.id });
  }

  /**
   * The job: creates the table (recorded in a checkpoint), fills it, then creates the sync and the
   * record. Resumed after a crash, it drops the half-filled table it created and starts over; a
   * crash after the record was stored only finishes the job. A failure drops what it made.
   */
  private async run(ctx: JobContext<MaterializeParams>): Promise<MaterializeResult> {
    const { combinedId, sourceId, table: given, tableName } = ctx.job.params;
    const combined = await this.resolved(combinedId);
    const done = await this.options.store.combinedMaterializations.get(combinedId);
    if (done) return { ...view(done, combined.definition.name), rows: 0 };
    const connector = await this.options.sources.connector(sourceId);
    const rule = materializationRule(combined, { sourceId, tableName }, syncName(combined, tableName));
    if ((await ctx.loadCheckpoint<{ created: boolean }>())?.created)
      await this.undo(sourceId, tableName, connector, null);
    await connector.createTable(materializedTableDefinition(combined, tableLocation(connector, given)));
    await ctx.saveCheckpoint({ created: true });
    let syncId: string | null = null;
    try {
      const rows = await this.fill(ctx, combined, sourceId, tableName, connector);
      // Created after the fill: its initial reconciliation links every row, carries updates made in
      // the members meanwhile and (createMissing) creates the rows inserted there meanwhile.
      ctx.progress({ phase: 'sync' });
      syncId = (await this.createSync(rule)).id;
      const record = await this.options.store.combinedMaterializations.create({
        combinedId,
        sourceId,
        tableName,
        syncId,
      });
      return { ...view(record, combined.definition.name), rows };
    } catch (err) {
      await this.undo(sourceId, tableName, connector, syncId);
      throw err;
    }
  }

  private async fill(
    ctx: JobContext<MaterializeParams>,
    combined: CombinedTable,
    sourceId: string,
    tableName: string,
    connector: Connector,
  ): Promise<number> {
    await this.options.sources.refresh(sourceId);
    const { table } = await this.options.sources.resolveTable(sourceId, tableName);
    let done = 0;
    ctx.progress({ phase: 'fill', done, total: null, unit: 'rows' });
    async function* counted(batches: AsyncIterable<Row[]>): AsyncIterable<Row[]> {
      for await (const batch of batches) {
        ctx.throwIfCancelled();
        yield batch;
        done += batch.length;
        ctx.progress({ done });
      }
    }
    const batches = counted(materializedRows(combined, streamCombinedRows(combined, {})));
    return (await connector.bulkLoad(table, batches)).rows;
  }

  async get(ref: string): Promise<MaterializationView> {
    const { record, name } = await this.record(ref);
    return view(record, name);
  }

  async status(ref: string): Promise<MaterializationStatus> {
    const { record, name } = await this.record(ref);
    const sync = await this.options.syncs.status(record.syncId);
    const lags = sync.members.map((m) => m.lagMs).filter((lag): lag is number => lag !== null);
    return {
      ...view(record, name),
      state: sync.state,
      lagMs: lags.length > 0 ? Math.max(...lags) : null,
      sync,
    };
  }

  /**
   * Stops keeping the table current: deletes the generated sync (its capture objects go with it)
   * and forgets the materialization. The table stays, as an ordinary table, unless `drop`.
   */
  async dematerialize(ref: string, options: { drop?: boolean } = {}): Promise<void> {
    const { record } = await this.record(ref);
    await this.deleteSync(record.syncId);
    if (options.drop) {
      const found = await this.findTable(record.sourceId, record.tableName);
      if (found) await this.dropTable(record.sourceId, found.connector, found.table);
    }
    await this.options.store.combinedMaterializations.delete(record.combinedId);
  }

  /** The combined table resolved against the live tables (the combined service's cache). */
  private resolved(ref: string): Promise<CombinedTable> {
    return this.options.combined.resolved(ref);
  }

  private async record(ref: string): Promise<{ record: CombinedMaterialization; name: string }> {
    const combined = await this.options.combined.get(ref);
    const record = await this.options.store.combinedMaterializations.get(combined.id);
    if (!record)
      throw notFound(`materialization of combined table "${combined.name}" (it is not materialized)`, {
        id: combined.id,
      });
    return { record, name: combined.name };
  }

  /** The generated rule refused by the sync validator is the definition's problem: said so. */
  private async createSync(rule: unknown): Promise<{ id: string }> {
    try {
      return await this.options.syncs.create(rule);
    } catch (err) {
      if (!isBraidError(err) || err.code !== 'invalid_sync_rule') throw err;
      throw badRequest(
        'cannot_materialize',
        `cannot materialize: the generated sync rule is refused: ${err.message}`,
        {
          ...err.details,
        },
      );
    }
  }

  private async deleteSync(syncId: string): Promise<void> {
    // Deleted by hand through the syncs API: nothing left to stop.
    if (await this.options.store.syncs.get(syncId)) await this.options.syncs.delete(syncId);
  }

  private async undo(sourceId: string, tableName: string, connector: Connector, syncId: string | null) {
    try {
      if (syncId) await this.deleteSync(syncId);
      const found = await this.findTable(sourceId, tableName);
      if (found) await this.dropTable(sourceId, connector, found.table);
    } catch {
      // The first failure is the one worth reporting; what is left shows in the source.
    }
  }

  private async findTable(sourceId: string, name: string) {
    try {
      return await this.options.sources.resolveTable(sourceId, name);
    } catch (err) {
      if (isBraidError(err) && err.status === 404) return null;
      throw err;
    }
  }

  private async dropTable(sourceId: string, connector: Connector, table: TableSchema): Promise<void> {
    await connector.dropTable(table);
    await this.options.sources.refresh(sourceId);
  }
}

function parseTarget(body: unknown): { source: string; table: string } {
  const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  for (const key of Object.keys(input))
    if (key !== 'source' && key !== 'table')
      throw badRequest('invalid_body', `unknown property "${key}" (known: source, table)`, { field: key });
  for (const key of ['source', 'table'] as const) {
    const value = input[key];
    if (typeof value !== 'string' || value.trim() === '')
      throw badRequest(
        'invalid_body',
        `${key} is required: {"source": "<source id or name>", "table": "<new table>"}`,
        {
          field: key,
        },
      );
  }
  return { source: input.source as string, table: input.table as string };
}

/** A job stores its error's code, not its HTTP status: the status again from the code's kind. */
function statusOf(code: string): number {
  if (code.endsWith('_unavailable')) return 502;
  if (code.startsWith('invalid') || code.startsWith('cannot')) return 400;
  if (code === 'job_failed') return 500;
  return 409;
}

function syncName(combined: CombinedTable, tableName: string): string {
  return `combined "${combined.definition.name}" materialized in ${tableName}`.slice(0, 200);
}

function tableExists(given: string, sourceId: string, table: string): BraidError {
  return new BraidError(409, 'table_exists', `source "${given}" already has a table "${table}"`, {
    source: sourceId,
    table,
  });
}

function alreadyMaterialized(name: string): BraidError {
  return new BraidError(409, 'already_materialized', `combined table "${name}" is already materialized`, {
    name,
  });
}

function view(record: CombinedMaterialization, combinedName: string): MaterializationView {
  return {
    combinedId: record.combinedId,
    combinedName,
    source: record.sourceId,
    table: record.tableName,
    syncId: record.syncId,
    createdAt: record.createdAt,
  };
}
