import { existsSync } from 'node:fs';
import {
  parseDefinition,
  parseDefinitionText,
  type ConsolidationDefinition,
} from '../consolidate/consolidation-definition.js';
import { lineage, listDiscrepancies, type ConsolidationReport } from '../consolidate/consolidation-report.js';
import type { SourceAccess } from '../consolidate/consolidation-run.js';
import { runConsolidation } from '../consolidate/run-consolidation.js';
import { WorkStore, workFile } from '../consolidate/work-store.js';
import type { Job, JobContext } from '../jobs/job.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { BraidError, badRequest } from '../model/errors.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { FileAccess } from './file-access.js';
import type { SourcesService } from './sources-service.js';

export interface ConsolidationParams {
  definition: ConsolidationDefinition;
  dryRun: boolean;
}

/**
 * Consolidation jobs: `plan` (a dry run that writes nothing to the target and reports what would
 * happen), `run`, `resume` after an interruption, and the report with its details (discrepancies,
 * lineage, rejected rows) read from the job's work store.
 */
export class ConsolidationsService {
  constructor(
    private readonly deps: {
      sources: SourcesService;
      jobs: JobQueue;
      sandbox: Sandbox;
      files: FileAccess;
      workDir: string;
    },
  ) {
    deps.jobs.register<ConsolidationParams, ConsolidationReport>('consolidation', (ctx) => this.execute(ctx));
  }

  /** Validates a definition (object, or YAML/JSON text) and that its sources, tables and files exist. */
  async validate(input: unknown, caller: 'cli' | 'api'): Promise<ConsolidationDefinition> {
    const definition = typeof input === 'string' ? parseDefinitionText(input) : parseDefinition(input);
    await this.deps.sources.resolveId(definition.target.source);
    for (const table of definition.tables) {
      for (const inp of table.inputs) {
        if (inp.file) inp.file = await this.deps.files.check(inp.file, caller);
        else await this.deps.sources.resolveTable(await this.deps.sources.resolveId(inp.source!), inp.table!);
      }
    }
    return definition;
  }

  async submit(
    input: unknown,
    options: { dryRun: boolean; caller: 'cli' | 'api'; createdBy: string | null; runHere?: boolean },
  ): Promise<Job<ConsolidationParams>> {
    const definition = await this.validate(input, options.caller);
    return this.deps.jobs.submit<ConsolidationParams>(
      'consolidation',
      { definition, dryRun: options.dryRun },
      {
        title: `${options.dryRun ? 'plan' : 'consolidate'} ${definition.name}`,
        createdBy: options.createdBy,
        runHere: options.runHere ?? false,
      },
    );
  }

  async resume(id: string, options: { runHere?: boolean } = {}): Promise<Job> {
    const job = await this.consolidationJob(id);
    return this.deps.jobs.resume(job.id, options);
  }

  async report(id: string): Promise<ConsolidationReport> {
    const job = await this.consolidationJob(id);
    if (job.status !== 'succeeded' || !job.result) {
      throw new BraidError(
        409,
        'report_not_ready',
        `job ${id} is ${job.status}: the report is made when it succeeds`,
        {
          status: job.status,
          error: job.error,
        },
      );
    }
    return job.result as ConsolidationReport;
  }

  async discrepancies(
    id: string,
    query: { table?: string; pending?: boolean; limit?: number; offset?: number },
  ) {
    return this.withWork(id, (work) =>
      listDiscrepancies(work, {
        ...(query.table ? { table: query.table } : {}),
        pendingOnly: query.pending === true,
        limit: query.limit ?? 100,
        offset: query.offset ?? 0,
      }),
    );
  }

  async lineage(id: string, query: { table?: string; key?: string; limit?: number; offset?: number }) {
    const job = await this.consolidationJob(id);
    const table = query.table ?? (job.params as ConsolidationParams).definition.tables[0]!.table;
    return this.withWork(id, (work) =>
      lineage(work, {
        table,
        ...(query.key !== undefined ? { targetKey: query.key } : {}),
        limit: query.limit ?? 100,
        offset: query.offset ?? 0,
      }),
    );
  }

  async rejects(id: string, query: { limit?: number; offset?: number }) {
    return this.withWork(id, (work) => work.rejects(query.limit ?? 100, query.offset ?? 0));
  }

  private async consolidationJob(id: string): Promise<Job> {
    const job = await this.deps.jobs.get(id);
    if (job.kind !== 'consolidation')
      throw badRequest('not_a_consolidation', `job ${id} is a ${job.kind} job`, { id });
    return job;
  }

  private async withWork<T>(id: string, read: (work: WorkStore) => T): Promise<T> {
    await this.consolidationJob(id);
    const file = workFile(this.deps.workDir, id);
    if (!existsSync(file))
      throw new BraidError(409, 'report_not_ready', `job ${id} has not staged anything yet`, { id });
    const work = new WorkStore(file);
    try {
      return read(work);
    } finally {
      work.close();
    }
  }

  private async execute(ctx: JobContext<ConsolidationParams>): Promise<ConsolidationReport> {
    const { definition, dryRun } = ctx.job.params;
    const sources = this.deps.sources;
    const access: SourceAccess = {
      resolveId: (ref) => sources.resolveId(ref),
      resolveTable: (id, name) => sources.resolveTable(id, name),
      connector: (id) => sources.connector(id),
      refresh: (id) => sources.refresh(id),
      // Files were checked against the caller's rights when the job was submitted.
      checkFile: async (file) => file,
    };
    return runConsolidation({
      jobId: ctx.job.id,
      definition,
      dryRun,
      workDir: this.deps.workDir,
      sandbox: this.deps.sandbox,
      sources: access,
      signal: ctx.signal,
      progress: (update) => ctx.progress(update),
      log: (level, message, details) => void ctx.log(level, message, details),
    });
  }
}
