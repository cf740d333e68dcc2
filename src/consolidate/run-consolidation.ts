import type { Connector } from '../connectors/connector.js';
import { tableLocation } from '../connectors/table-location.js';
import { BraidError, badRequest } from '../model/errors.js';
import type { InputDefinition } from './consolidation-definition.js';
import { buildReport, type ConsolidationReport } from './consolidation-report.js';
import type { ConsolidationRun } from './consolidation-run.js';
import { directCopy, isDirectCopy } from './direct-copy.js';
import { inputTable, openInput } from './open-input.js';
import { WorkStore, workFile } from './work-store.js';
import { InputMapping } from './input-mapping.js';
import { matchEntities } from './match-entities.js';
import { mergeEntities } from './merge-entities.js';
import { passThroughColumns, stageInput } from './stage-input.js';
import { resolveTargetTable, storageNotes, type InputColumns, type TargetTable } from './target-tables.js';
import {
  actualChecksum,
  entityCount,
  expectedChecksum,
  writeCommitted,
  writeTargets,
} from './write-target.js';

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
    // Checked once, before the first attempt writes anything; a resumed attempt finds its own rows.
    if (!work.isDone('targets-empty')) {
      await checkTargetsEmpty(targetConnector, targets);
      work.markDone('targets-empty');
    }
    if (isDirectCopy(def)) {
      if (!run.dryRun) notes.push(...(await prepareTargets(run, work, targetId, targetConnector, targets)));
      await directCopy(run, work, targets[0]!, targetConnector);
      return buildReport(work, def, targets, { jobId: run.jobId, dryRun: run.dryRun, notes });
    }

    for (const target of targets) {
      await stageTable(run, work, target, targets);
      throwIfAborted(run.signal);
      const table = target.def.table;
      if (!work.isDone(`match:${table}`)) {
        run.progress({ phase: `match ${table}`, done: 0, total: null, unit: 'records' });
        // The step's own duration: the log line is stamped when written, after the next step has run.
        const started = performance.now();
        const matched = work.step(
          `match:${table}`,
          () => matchEntities(work, target.def),
          (r) => r,
        );
        run.log('info', `${table}: ${matched.records} records -> ${matched.entities} entities`, {
          ...matched,
          seconds: secondsSince(started),
        });
      }
      throwIfAborted(run.signal);
      if (!work.isDone(`merge:${table}`)) {
        run.progress({ phase: `merge ${table}`, done: 0, total: null, unit: 'entities' });
        const started = performance.now();
        const merged = work.step(
          `merge:${table}`,
          () =>
            mergeEntities(work, target, {
              jobId: run.jobId,
              onInvalidRow: def.onInvalidRow,
              onProgress: (done, total) =>
                run.progress({ phase: `merge ${table}`, done, total, unit: 'entities' }),
            }),
          (r) => r,
        );
        run.log('info', `${table}: ${merged.discrepancies} discrepancies settled`, {
          ...merged,
          seconds: secondsSince(started),
        });
      }
    }
    throwIfAborted(run.signal);
    if (!run.dryRun) {
      notes.push(...(await prepareTargets(run, work, targetId, targetConnector, targets)));
      if (!work.isDone('write')) {
        // One transaction wrote every table: the first key of any table with rows answers for all.
        if (await someCommitted(targetConnector, work, targets)) {
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

async function someCommitted(
  connector: Connector,
  work: WorkStore,
  targets: TargetTable[],
): Promise<boolean> {
  for (const target of targets) {
    if (await writeCommitted(connector, work, target)) return true;
  }
  return false;
}

function secondsSince(started: number): number {
  return Math.round(performance.now() - started) / 1000;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('cancelled');
}

/** The master must start empty: that is what makes "verify" and "resume" exact. */
async function checkTargetsEmpty(connector: Connector, targets: TargetTable[]): Promise<void> {
  for (const target of targets) {
    if (target.create) continue;
    const rows = await connector.count(target.schema);
    if (rows === 0) continue;
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
    const { rows, total, columns } = await openInput(run, table, input, mapping);
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
        passThrough: passThroughColumns(input, columns, target),
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

/**
 * Creates the tables the job creates (once: DDL is not transactional everywhere, so a table found
 * here was created before a crash) and reloads every target's schema as the engine reports it.
 * Answers where the engine stores a created column's type differently from the one asked for.
 */
async function prepareTargets(
  run: ConsolidationRun,
  work: WorkStore,
  targetId: string,
  connector: Connector,
  targets: TargetTable[],
): Promise<string[]> {
  for (const target of targets) {
    if (!target.create || work.isDone(`create:${target.def.table}`)) continue;
    const schema = await run.sources.refresh(targetId);
    const { name, schema: namespace } = target.create;
    if (!schema.tables.some((t) => t.name === name && (t.schema ?? null) === (namespace ?? null)))
      await connector.createTable(target.create);
    work.markDone(`create:${target.def.table}`);
  }
  await reloadSchemas(run, targetId, targets);
  return targets.flatMap((target) => storageNotes(target, target.schema));
}

async function reloadSchemas(run: ConsolidationRun, targetId: string, targets: TargetTable[]): Promise<void> {
  await run.sources.refresh(targetId);
  for (const target of targets) {
    target.schema = (await run.sources.resolveTable(targetId, target.def.table)).table;
  }
}
