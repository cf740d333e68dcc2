import type { Connector } from '../connectors/connector.js';
import { badRequest } from '../model/errors.js';
import { coerceValue, type Row } from '../model/values.js';
import type { ConsolidationDefinition } from './consolidation-definition.js';
import type { ConsolidationRun } from './consolidation-run.js';
import { InputMapping } from './input-mapping.js';
import { openInput } from './open-input.js';
import { passThroughColumns, shapeBatch, type StageResult } from './stage-input.js';
import { RowChecksum } from './target-checksum.js';
import type { TargetTable } from './target-tables.js';
import type { RejectedRow, WorkStore } from './work-store.js';
import { actualChecksum, writtenColumns } from './write-target.js';

/**
 * One table, one input, nothing to match: every input row is one target row. Staging would only
 * copy the data twice, so such a job streams the input through its mapping straight into the
 * target's bulk path (COPY, LOAD DATA), in one transaction, with back-pressure end to end.
 */
export function isDirectCopy(def: ConsolidationDefinition): boolean {
  if (def.tables.length !== 1) return false;
  const table = def.tables[0]!;
  return (
    table.inputs.length === 1 &&
    table.exact.length === 0 &&
    table.fuzzy === null &&
    table.decisions.length === 0 &&
    Object.keys(table.inputs[0]!.references).length === 0
  );
}

interface CopyInfo {
  stage: StageResult;
  expected: string;
}

/**
 * Runs the copy and records it as the steps a staged job records (stage, match, merge, write,
 * verify), so reports read the same. The write is one transaction: a killed copy leaves nothing and
 * runs again from the start; one that committed but died before recording it is recognised by the
 * rows in the target (which was empty when the job began) and only re-read to rebuild its counts.
 * Generated keys are 1..n in the input's key order, so lineage is positional: target row n is
 * the n-th accepted input row.
 */
export async function directCopy(
  run: ConsolidationRun,
  work: WorkStore,
  target: TargetTable,
  connector: Connector,
): Promise<void> {
  const table = target.def.table;
  const input = target.def.inputs[0]!;
  if (!work.isDone('write')) {
    const committed = !run.dryRun && (await connector.count(target.schema)) > 0;
    const mapping = new InputMapping(run.sandbox, input.columns);
    const { rows, total, columns } = await openInput(run, table, input, mapping);
    const passThrough = passThroughColumns(input, columns, target);
    const stage: StageResult = { read: 0, staged: 0, rejected: 0 };
    const checksum = new RowChecksum(writtenColumns(target));
    const keyColumn = target.def.key
      ? target.schema.columns.find((c) => c.name === target.def.key!.column)!
      : null;
    // The first rejects, for the error of a failing job; in skip mode every one goes to the work store.
    const firstRejects: RejectedRow[] = [];
    work.clearInput(table, input.name); // what an interrupted attempt recorded
    const phase = committed ? `recount ${table} <- ${input.name}` : `copy ${table} <- ${input.name}`;
    run.progress({ phase, done: 0, total, unit: 'rows' });
    let failed = false;
    const batches = async function* (): AsyncGenerator<Row[]> {
      for await (const batch of rows) {
        if (run.signal?.aborted)
          throw run.signal.reason instanceof Error ? run.signal.reason : new Error('cancelled');
        const shaped = await shapeBatch(batch, {
          target,
          input,
          mapping,
          parentKey: () => null,
          passThrough,
        });
        stage.read += batch.length;
        stage.rejected += shaped.rejects.length;
        firstRejects.push(...shaped.rejects.slice(0, Math.max(0, 20 - firstRejects.length)));
        if (shaped.rejects.length && run.definition.onInvalidRow === 'fail') failed = true;
        else if (shaped.rejects.length) work.insertRejects(shaped.rejects);
        run.progress({ phase, done: stage.read, total, unit: 'rows' });
        if (failed) continue; // read on to count every bad row; send nothing more
        const out = shaped.accepted.map(({ values }) => {
          if (keyColumn) values[keyColumn.name] = coerceValue(keyColumn, String(stage.staged + 1));
          stage.staged++;
          checksum.add(values);
          return values;
        });
        if (out.length) yield out;
      }
      if (failed) throw invalidRows(input.name, stage, firstRejects);
    };
    if (run.dryRun || committed) {
      for await (const _ of batches()) void _;
    } else {
      await connector.transaction((tx) => tx.bulkLoad(target.schema, batches()));
    }
    const info: CopyInfo = { stage, expected: checksum.value() };
    work.db.transaction(() => {
      work.markDone(`stage:${table}:${input.name}`, stage);
      work.markDone(`match:${table}`, {
        records: stage.staged,
        entities: stage.staged,
        exactPairs: 0,
        fuzzyPairs: 0,
      });
      work.markDone(`merge:${table}`, {
        entities: stage.staged,
        discrepancies: 0,
        byPolicy: {},
        pending: 0,
        rejectedRecords: 0,
      });
      work.markDone('direct-copy', info);
      if (!run.dryRun) work.markDone('write');
    })();
  }
  if (run.dryRun || work.isDone('verify')) return;
  const info = work.stepInfo<CopyInfo>('direct-copy')!;
  run.progress({ phase: `verify ${table}`, done: 0, total: null, unit: 'rows' });
  work.markDone('verify', {
    [table]: { expected: info.expected, actual: await actualChecksum(connector, target) },
  });
}

function invalidRows(input: string, stage: StageResult, rejects: RejectedRow[]) {
  const first = rejects[0]!;
  return badRequest(
    'invalid_rows',
    `${stage.rejected} rows of input "${input}" are invalid; first: ${first.sourceKey}${first.field ? ` column "${first.field}"` : ''} value ${JSON.stringify(first.value)}: ${first.reason}. Nothing was written (set onInvalidRow: skip to leave them out)`,
    { input, rejected: stage.rejected, rejects },
  );
}
