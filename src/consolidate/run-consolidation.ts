import { join } from 'node:path';
import type { Connector } from '../connectors/connector.js';
import { BraidError, badRequest } from '../model/errors.js';
import type { DatabaseSchema, TableSchema } from '../model/schema.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { ConsolidationDefinition, InputDefinition } from './consolidation-definition.js';
import { buildReport, type ConsolidationReport } from './consolidation-report.js';
import { readCsvInput, readTableInput, type InputRow } from './input-reader.js';
import { InputMapping } from './input-mapping.js';
import { matchEntities } from './match-entities.js';
import { mergeEntities } from './merge-entities.js';
import { stageInput } from './stage-input.js';
import { resolveTargetTable, storageNotes, type InputColumns, type TargetTable } from './target-tables.js';
import { WorkStore } from './work-store.js';
import {
  actualChecksum,
  entityCount,
  expectedChecksum,
  writeCommitted,
  writeTargets,
} from './write-target.js';

/** What the job needs from the sources layer (implemented by the sources service). */
export interface SourceAccess {
  resolveId(idOrName: string): Promise<string>;
  resolveTable(id: string, name: string): Promise<{ connector: Connector; table: TableSchema }>;
  connector(id: string): Promise<Connector>;
  refresh(id: string): Promise<DatabaseSchema>;
  /** Checks that a server-side file may be read (inside the allowed directories) and answers its path. */
  checkFile(file: string): Promise<string>;
}

export interface ConsolidationRun {
  jobId: string;
  definition: ConsolidationDefinition;
  /** Plan only: read, match and merge into the work store, write nothing to the target. */
  dryRun: boolean;
  /** The job's work store lives here (kept after the job for its report and lineage). */
  workDir: string;
  sandbox: Sandbox;
  sources: SourceAccess;
  signal?: AbortSignal;
  progress(update: { phase: string; done: number; total: number | null; unit: string }): void;
  log(level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>): void;
}

export function workFile(workDir: string, jobId: string): string {
  return join(workDir, jobId, 'work.sqlite');
}

/**
 * Runs a consolidation as steps recorded in its work store: stage every input of a table, match,
 * merge; then (unless a dry run) create missing tables, write all tables in one target transaction,
 * and verify the target against the merged rows. A resumed job skips the steps marked done, and
 * every step is a function of the inputs alone, so killing and resuming at any point ends with
 * exactly the result of an uninterrupted run. Running a finished job again changes nothing.
 */
export async function runConsolidation(run: ConsolidationRun): Promise<ConsolidationReport> {
  const { definition: def } = run;
  const work = new WorkStore(workFile(run.workDir, run.jobId));
  try {
    const targetId = await run.sources.resolveId(def.target.source);
    const targetConnector = await run.sources.connector(targetId);
    const targetSchema = await run.sources.refresh(targetId);
    const targets: TargetTable[] = [];
    const notes: string[] = [];
    for (const tableDef of def.tables) {
      const inputs: InputColumns[] = [];
      for (const input of tableDef.inputs) {
        inputs.push({ input, columns: input.file ? null : (await inputTable(run, input)).table.columns });
      }
      const location = tableLocation(targetConnector, tableDef.table);
      const existing = targetSchema.tables.find(
        (t) => t.name === location.name && (t.schema ?? null) === location.schema,
      );
      targets.push(resolveTargetTable(tableDef, existing, inputs, location));
    }
    if (!work.isDone('write')) await checkTargetsEmpty(targetConnector, work, targets);

    for (const target of targets) {
      await stageTable(run, work, target, targets);
      throwIfAborted(run.signal);
      const table = target.def.table;
      if (!work.isDone(`match:${table}`)) {
        run.progress({ phase: `match ${table}`, done: 0, total: null, unit: 'records' });
        const matched = work.step(
          `match:${table}`,
          () => matchEntities(work, target.def),
          (r) => r,
        );
        run.log('info', `${table}: ${matched.records} records -> ${matched.entities} entities`, {
          ...matched,
        });
      }
      throwIfAborted(run.signal);
      if (!work.isDone(`merge:${table}`)) {
        run.progress({ phase: `merge ${table}`, done: 0, total: null, unit: 'entities' });
        const merged = work.step(
          `merge:${table}`,
          () => mergeEntities(work, target, { jobId: run.jobId, onInvalidRow: def.onInvalidRow }),
          (r) => r,
        );
        run.log('info', `${table}: ${merged.discrepancies} discrepancies settled`, { ...merged });
      }
    }
    throwIfAborted(run.signal);
    if (!run.dryRun) {
      for (const target of targets) {
        if (!target.create || work.isDone(`create:${target.def.table}`)) continue;
        // DDL is not transactional everywhere: a table found here was created before a crash.
        const schema = await run.sources.refresh(targetId);
        const { name, schema: namespace } = target.create;
        if (!schema.tables.some((t) => t.name === name && (t.schema ?? null) === (namespace ?? null)))
          await targetConnector.createTable(target.create);
        work.markDone(`create:${target.def.table}`);
      }
      await reloadSchemas(run, targetId, targets);
      for (const target of targets) notes.push(...storageNotes(target, target.schema));
      if (!work.isDone('write')) {
        if (await writeCommitted(targetConnector, work, targets[0]!)) {
          run.log('warn', 'the previous attempt committed its write before it stopped: not writing again');
        } else {
          const total = targets.reduce((n, t) => n + entityCount(work, t.def.table), 0);
          let done = 0;
          run.progress({ phase: 'write', done, total, unit: 'rows' });
          const written = await writeTargets(targetConnector, work, targets, (rows) => {
            done += rows;
            run.progress({ phase: 'write', done, total, unit: 'rows' });
          });
          run.log('info', 'target written', written);
        }
        work.markDone('write');
      }
      if (!work.isDone('verify')) {
        const checksums: Record<string, { expected: string; actual: string }> = {};
        for (const target of targets) {
          run.progress({ phase: `verify ${target.def.table}`, done: 0, total: null, unit: 'rows' });
          checksums[target.def.table] = {
            expected: expectedChecksum(work, target),
            actual: await actualChecksum(targetConnector, target),
          };
        }
        work.markDone('verify', checksums);
      }
    }
    return buildReport(work, def, targets, { jobId: run.jobId, dryRun: run.dryRun, notes });
  } finally {
    work.close();
  }
}

/** `schema.table` names a schema on engines that have them; else the connector's default one. */
function tableLocation(connector: Connector, table: string): { schema: string | null; name: string } {
  const dot = table.indexOf('.');
  if (!connector.capabilities.schemas) return { schema: null, name: table };
  if (dot > 0) return { schema: table.slice(0, dot), name: table.slice(dot + 1) };
  return { schema: connector.defaultSchema, name: table };
}

async function inputTable(run: ConsolidationRun, input: InputDefinition) {
  return run.sources.resolveTable(await run.sources.resolveId(input.source!), input.table!);
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('cancelled');
}

/** The master must start empty: that is what makes "verify" and "resume" exact. */
async function checkTargetsEmpty(
  connector: Connector,
  work: WorkStore,
  targets: TargetTable[],
): Promise<void> {
  for (const target of targets) {
    if (target.create) continue;
    const rows = await connector.count(target.schema);
    if (rows === 0) continue;
    // Rows there may be our own committed write whose "done" mark was lost with the process.
    if (work.isDone(`merge:${targets[0]!.def.table}`) && (await writeCommitted(connector, work, targets[0]!)))
      return;
    throw new BraidError(
      409,
      'target_not_empty',
      `target table "${target.def.table}" already holds ${rows} rows: consolidate into an empty or new table`,
      { table: target.def.table, rows },
    );
  }
}

async function stageTable(
  run: ConsolidationRun,
  work: WorkStore,
  target: TargetTable,
  targets: TargetTable[],
): Promise<void> {
  const table = target.def.table;
  for (const input of target.def.inputs) {
    const step = `stage:${table}:${input.name}`;
    if (work.isDone(step)) continue;
    const mapping = new InputMapping(run.sandbox, input.columns);
    await mapping.check(`${table}.inputs.${input.name}.columns`);
    let rows: AsyncIterable<InputRow[]>;
    let total: number | null = null;
    if (input.file) {
      rows = checkCsvColumns(readCsvInput(await run.sources.checkFile(input.file)), input, mapping);
    } else {
      const { connector, table: sourceTable } = await inputTable(run, input);
      for (const column of [...mapping.sourceColumns(), ...(input.updatedAt ? [input.updatedAt] : [])]) {
        if (!sourceTable.columns.some((c) => c.name === column))
          throw badRequest(
            'unknown_field',
            `input "${input.name}": table "${input.table}" has no column "${column}"`,
            {
              input: input.name,
              field: column,
            },
          );
      }
      total = await connector.count(sourceTable, input.filter ?? undefined);
      rows = readTableInput(connector, sourceTable, { filter: input.filter });
    }
    const phase = `read ${table} <- ${input.name}`;
    let done = 0;
    run.progress({ phase, done, total, unit: 'rows' });
    work.begin();
    try {
      const staged = await stageInput({
        work,
        target,
        input,
        rows,
        mapping,
        parentKey: (column, sourceKey) => parentKey(work, targets, input, column, sourceKey),
        onBatch: (read) => {
          done += read;
          run.progress({ phase, done, total, unit: 'rows' });
        },
        ...(run.signal ? { signal: run.signal } : {}),
      });
      if (staged.rejected > 0 && run.definition.onInvalidRow === 'fail') {
        const first = work.rejects(1)[0]!;
        throw badRequest(
          'invalid_rows',
          `${staged.rejected} rows of input "${input.name}" are invalid; first: ${first.sourceKey}${first.field ? ` column "${first.field}"` : ''} value ${JSON.stringify(first.value)}: ${first.reason}. Nothing was written (set onInvalidRow: skip to leave them out)`,
          { input: input.name, rejected: staged.rejected, rejects: work.rejects(20) },
        );
      }
      work.commit(step, staged);
      run.log(
        'info',
        `${table} <- ${input.name}: ${staged.read} read, ${staged.staged} staged, ${staged.rejected} rejected`,
      );
    } catch (err) {
      work.rollback();
      throw err;
    }
  }
}

/** The target key of the parent row a child's reference names (by the parent input's source key). */
function parentKey(
  work: WorkStore,
  targets: TargetTable[],
  input: InputDefinition,
  column: string,
  sourceKey: string,
): string | null {
  const reference = input.references[column]!;
  const parent = targets.find((t) => t.def.table === reference.table)!;
  const parentInput =
    reference.input ?? parent.def.inputs.find((p) => p.source !== null && p.source === input.source)!.name;
  const record = work.recordBySource(parent.def.table, parentInput, sourceKey);
  return record === null ? null : work.targetKeyOfRecord(record);
}

async function* checkCsvColumns(
  rows: AsyncIterable<InputRow[]>,
  input: InputDefinition,
  mapping: InputMapping,
): AsyncGenerator<InputRow[]> {
  let checked = false;
  for await (const batch of rows) {
    if (!checked && batch.length > 0) {
      checked = true;
      const missing = mapping.sourceColumns().find((c) => !(c in batch[0]!.row));
      if (missing)
        throw badRequest('unknown_field', `input "${input.name}": the CSV has no column "${missing}"`, {
          input: input.name,
          field: missing,
          columns: Object.keys(batch[0]!.row),
        });
    }
    yield batch;
  }
}

async function reloadSchemas(run: ConsolidationRun, targetId: string, targets: TargetTable[]): Promise<void> {
  await run.sources.refresh(targetId);
  for (const target of targets) {
    target.schema = (await run.sources.resolveTable(targetId, target.def.table)).table;
  }
}
