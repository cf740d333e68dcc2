import { createReadStream } from 'node:fs';
import { badRequest } from '../model/errors.js';
import type { TableDefinition } from '../model/schema.js';
import { readCsv } from './csv/csv-reader.js';
import type { CsvDialect } from './csv/csv-sniff.js';
import { TypeInferrer } from './csv/type-inference.js';

/**
 * A table definition for a CSV file, from one pass over all of it (constant memory): each column
 * gets the narrowest portable type every value fits, so the load that follows cannot fail on a type
 * the first rows did not show. The table gets a generated `id` key unless the CSV has an `id` column.
 */
export async function inferCsvTable(
  file: string,
  dialect: CsvDialect,
  name: string,
  schema: string | null,
): Promise<{ definition: TableDefinition; notes: string[]; headerMapping: Record<string, string> }> {
  let inferrer: TypeInferrer | null = null;
  let headers: (string | null)[] = [];
  for await (const batch of readCsv(createReadStream(file, { highWaterMark: 1 << 20 }), {
    ...dialect,
    batchSize: 5000,
  })) {
    for (const record of batch) {
      if (!inferrer) {
        headers = record.fields;
        inferrer = new TypeInferrer(headers);
        continue;
      }
      if (record.fields.length === headers.length) inferrer.observe(record.fields);
    }
  }
  if (!inferrer) throw badRequest('csv_empty', `${file} is empty: expected a header line`, { file });
  const { columns, notes } = inferrer.result();
  const headerMapping: Record<string, string> = {};
  headers.forEach((h, i) => {
    // Blank headers are keyed by position, the name importCsv gives them (several may be blank).
    const key = h === null || h.trim() === '' ? `column_${i + 1}` : h;
    if (columns[i]) headerMapping[key] = columns[i]!.name;
  });
  const hasId = columns.some((c) => c.name === 'id');
  const definition: TableDefinition = {
    schema,
    name,
    columns: hasId
      ? columns.map((c) => (c.name === 'id' ? { ...c, nullable: false } : c))
      : [{ name: 'id', type: 'bigint', nullable: false, autoIncrement: true }, ...columns],
    primaryKey: ['id'],
  };
  return { definition, notes, headerMapping };
}
