import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { tableLocation } from '../connectors/table-location.js';
import { importCsv, sniffFile, type CsvImportResult, type ImportMode } from '../consolidate/csv-import.js';
import { inferCsvTable } from '../consolidate/csv-table-inference.js';
import type { CsvDialect } from '../consolidate/csv/csv-sniff.js';
import type { Job, JobContext } from '../jobs/job.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { BraidError, badRequest } from '../model/errors.js';
import type { TableDefinition, TableSchema } from '../model/schema.js';
import type { FileAccess } from './file-access.js';
import type { SourcesService } from './sources-service.js';

/** A CSV import as stored in its job: everything needed to run it again after a restart. */
export interface ImportParams {
  source: string;
  table: string;
  /** Absolute path of the CSV (an upload, or a server-side file checked when submitted). */
  file: string;
  /** Create the table from the CSV (types inferred) instead of loading into an existing one. */
  create: boolean;
  mode: ImportMode;
  mapping?: Record<string, string | null>;
  ignoreUnknownColumns?: boolean;
  dialect?: Partial<CsvDialect>;
  rejectsFile: string | null;
}

export type ImportJobResult = CsvImportResult & { table: string; created: boolean; inferred: string[] };

const MODES: ImportMode[] = ['all_or_nothing', 'skip_bad_rows'];

/** CSV imports as durable jobs: validated when submitted, run by the job queue. */
export class ImportsService {
  constructor(
    private readonly deps: {
      sources: SourcesService;
      jobs: JobQueue;
      files: FileAccess;
      rejectsDir: string;
    },
  ) {
    deps.jobs.register<ImportParams, ImportJobResult>('import', (ctx) => this.run(ctx));
  }

  /**
   * Checks an import request and stores it as a job. `file` must already be readable: an upload
   * saved by the route, or a server-side path (any path from the CLI, the allowed roots from the API).
   */
  async submit(
    input: Record<string, unknown>,
    options: {
      caller: 'cli' | 'api';
      createdBy: string | null;
      runHere?: boolean;
      /** `file` was saved by the route from the request (FileAccess.saveUpload): read it as is. */
      upload?: boolean;
    },
  ): Promise<Job<ImportParams>> {
    const sourceRef = requireText(input.source, 'source');
    const table = requireText(input.table, 'table');
    const source = await this.deps.sources.resolveId(sourceRef);
    const mode = (input.mode ?? 'all_or_nothing') as ImportMode;
    if (!MODES.includes(mode))
      throw badRequest('invalid_mode', `mode must be one of ${MODES.join(', ')}`, { mode });
    const create = input.create === true || input.create === 'true';
    const given = requireText(input.file, 'file');
    // Uploads live outside the roots a caller may name: only the route that saved one passes it.
    const file =
      options.upload && this.deps.files.isUpload(given)
        ? given
        : await this.deps.files.check(given, options.caller);
    if (create) {
      const exists = await this.deps.sources.resolveTable(source, table).then(
        () => true,
        (err: unknown) =>
          err instanceof BraidError && err.code === 'unknown_table' ? false : Promise.reject(err),
      );
      if (exists)
        throw new BraidError(
          409,
          'table_exists',
          `table "${table}" already exists: import into it without create`,
          { table },
        );
    } else {
      await this.deps.sources.resolveTable(source, table);
    }
    const params: ImportParams = {
      source,
      table,
      file,
      create,
      mode,
      ...(input.mapping ? { mapping: mappingOf(input.mapping) } : {}),
      ...(input.ignoreUnknownColumns !== undefined
        ? { ignoreUnknownColumns: input.ignoreUnknownColumns === true }
        : {}),
      ...(input.dialect ? { dialect: input.dialect as Partial<CsvDialect> } : {}),
      rejectsFile: null,
    };
    const job = await this.deps.jobs.submit('import', params, {
      title: `import ${path.basename(file)} into ${table}`,
      createdBy: options.createdBy,
      runHere: options.runHere ?? false,
    });
    return job;
  }

  /** Where a job's rejected rows go (skip_bad_rows), so they can be downloaded afterwards. */
  rejectsFileOf(jobId: string): string {
    return path.join(this.deps.rejectsDir, `${jobId}.rejects.csv`);
  }

  private async run(ctx: JobContext<ImportParams>): Promise<ImportJobResult> {
    const params = ctx.job.params;
    let created = false;
    /** The table this job created, dropped again if anything after its creation fails. */
    let createdTable: TableSchema | null = null;
    let inferred: string[] = [];
    const connector = await this.deps.sources.connector(params.source);
    let mapping = params.mapping;
    try {
      if (params.create) {
        ctx.progress({ phase: 'infer types', done: 0, total: null, unit: 'rows' });
        const dialect = await sniffFile(params.file, params.dialect);
        const table = await this.deps.sources.resolveTable(params.source, params.table).catch(() => null);
        if (!table) {
          const location = tableLocation(connector, params.table);
          const plan = await inferCsvTable(params.file, dialect, location.name, location.schema);
          await connector.createTable(plan.definition);
          created = true;
          createdTable = tableOf(plan.definition);
          await this.deps.sources.refresh(params.source);
          inferred = plan.notes;
          mapping = { ...plan.headerMapping, ...mapping };
        }
      }
      const { table } = await this.deps.sources.resolveTable(params.source, params.table);
      const rejectsFile = params.mode === 'skip_bad_rows' ? this.rejectsFileOf(ctx.job.id) : undefined;
      if (rejectsFile) await mkdir(this.deps.rejectsDir, { recursive: true });
      const result = await importCsv({
        file: params.file,
        connector,
        table,
        mode: params.mode,
        ...(mapping ? { mapping } : {}),
        ...(params.ignoreUnknownColumns !== undefined
          ? { ignoreUnknownColumns: params.ignoreUnknownColumns }
          : {}),
        ...(params.dialect ? { dialect: params.dialect } : {}),
        ...(rejectsFile ? { rejectsFile } : {}),
        signal: ctx.signal,
        onProgress: ({ rows, bytes, totalBytes }) =>
          ctx.progress({
            phase: 'load',
            done: rows,
            // Rows left estimated from the bytes read so far: gives an ETA without a counting pass.
            total: bytes > 0 ? Math.max(rows, Math.round((rows * totalBytes) / bytes)) : null,
            unit: 'rows',
          }),
      });
      ctx.progress({ phase: 'done', done: result.rowsRead, total: result.rowsRead, unit: 'rows' });
      if (this.deps.files.isUpload(params.file)) await rm(params.file, { force: true });
      return { ...result, table: params.table, created, inferred };
    } catch (err) {
      // A table this job created is dropped again: a failed import leaves nothing behind.
      // That includes a failure to find it again (e.g. created outside the schemas the source reads).
      if (createdTable) {
        await connector.dropTable(createdTable).catch(() => {});
        await this.deps.sources.refresh(params.source).catch(() => {});
      }
      throw err;
    }
  }
}

/** Enough of a table's schema to drop it: the table may not be visible through the source. */
function tableOf(definition: TableDefinition): TableSchema {
  return {
    schema: definition.schema ?? null,
    name: definition.name,
    kind: 'table',
    columns: [],
    primaryKey: [],
    foreignKeys: [],
    uniqueIndexes: [],
  };
}

function requireText(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw badRequest('missing_field', `${field} is required`, { field });
  return value;
}

function mappingOf(value: unknown): Record<string, string | null> {
  let raw = value;
  if (typeof value === 'string') {
    try {
      raw = JSON.parse(value) as unknown;
    } catch (err) {
      throw badRequest('invalid_mapping', `mapping is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw))
    throw badRequest('invalid_mapping', 'mapping must be an object {"CSV header": "column" | null}');
  for (const [header, column] of Object.entries(raw)) {
    if (column !== null && typeof column !== 'string')
      throw badRequest('invalid_mapping', `mapping.${header} must be a column name or null`, { header });
  }
  return raw as Record<string, string | null>;
}
