import { badRequest } from '../model/errors.js';
import type { ColumnSchema } from '../model/schema.js';
import type { ConsolidationRun } from './consolidation-run.js';
import type { InputDefinition } from './consolidation-definition.js';
import { readCsvInput, readTableInput, type InputRow } from './input-reader.js';
import type { InputMapping } from './input-mapping.js';

export async function inputTable(run: ConsolidationRun, input: InputDefinition) {
  return run.sources.resolveTable(await run.sources.resolveId(input.source!), input.table!);
}

/**
 * Opens an input for reading: a table in key order (every column the mapping reads must exist), or
 * a CSV file (its header is checked against the mapping on the first batch). Compiles the
 * input's transforms first, so a syntax error stops the job before anything is read.
 */
export async function openInput(
  run: ConsolidationRun,
  table: string,
  input: InputDefinition,
  mapping: InputMapping,
): Promise<{ rows: AsyncIterable<InputRow[]>; total: number | null; columns: ColumnSchema[] | null }> {
  await mapping.check(`${table}.inputs.${input.name}.columns`);
  if (input.file) {
    return {
      rows: checkCsvColumns(readCsvInput(await run.sources.checkFile(input.file)), input, mapping),
      total: null,
      columns: null,
    };
  }
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
  return {
    rows: readTableInput(connector, sourceTable, { filter: input.filter }),
    total: await connector.count(sourceTable, input.filter ?? undefined),
    columns: sourceTable.columns,
  };
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
