import type BetterSqlite3 from 'better-sqlite3';
import { badRequest } from '../../model/errors.js';
import type { ColumnSchema, TableSchema } from '../../model/schema.js';
import type { Row } from '../../model/values.js';
import { sqliteAdapter } from './sqlite-adapter.js';
import { toDriverParam } from './sqlite-dialect.js';
import { translateSqliteError } from './sqlite-errors.js';
import { quoteIdentifier } from './sqlite-types.js';
import { checkWritableLength } from './sqlite-values.js';

/** Rows inserted between two turns of the event loop: better-sqlite3 runs synchronously. */
const ROWS_PER_TURN = 2000;

interface PreparedInsert {
  text: string;
  statement: BetterSqlite3.Statement;
  columns: ColumnSchema[];
}

/**
 * Inserts every row with one prepared statement per column set (rows of a batch may omit columns).
 * Must run inside a transaction on `db`: one transaction is what makes per-row statements fast.
 * The next batch is requested only when the previous one is written (back-pressure), and the event
 * loop gets a turn every ROWS_PER_TURN rows so a huge batch does not freeze the server.
 */
export async function bulkLoadSqlite(
  db: BetterSqlite3.Database,
  table: TableSchema,
  batches: AsyncIterable<Row[]> | Iterable<Row[]>,
): Promise<{ rows: number }> {
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  const prepared = new Map<string, PreparedInsert>();
  const target =
    table.schema && table.schema !== 'main'
      ? `${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)}`
      : quoteIdentifier(table.name);

  const prepare = (names: string[]): PreparedInsert => {
    const signature = names.join('\u0000');
    let insert = prepared.get(signature);
    if (!insert) {
      const columns = names.map((name) => {
        const column = byName.get(name);
        if (!column)
          throw badRequest('unknown_field', `unknown column "${name}" in table "${table.name}"`, {
            field: name,
          });
        return column;
      });
      const text =
        names.length === 0
          ? `insert into ${target} default values`
          : `insert into ${target} (${names.map(quoteIdentifier).join(', ')}) values (${names.map(() => '?').join(', ')})`;
      let statement: BetterSqlite3.Statement;
      try {
        statement = db.prepare(text);
      } catch (err) {
        throw translateSqliteError(err, text, []);
      }
      insert = { text, statement, columns };
      prepared.set(signature, insert);
    }
    return insert;
  };

  let count = 0;
  for await (const batch of batches) {
    for (const row of batch) {
      const insert = prepare(Object.keys(row));
      const params = insert.columns.map((c) => {
        checkWritableLength(c, row[c.name]);
        return toDriverParam(sqliteAdapter.encode(c, row[c.name]));
      });
      try {
        insert.statement.run(params);
      } catch (err) {
        throw translateSqliteError(err, insert.text, params);
      }
      count++;
      if (count % ROWS_PER_TURN === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return { rows: count };
}
