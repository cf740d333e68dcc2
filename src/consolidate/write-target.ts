import type { Connector } from '../connectors/connector.js';
import type { Filter } from '../model/filter.js';
import type { ColumnSchema } from '../model/schema.js';
import { coerceValue, type Row } from '../model/values.js';
import { RowChecksum } from './target-checksum.js';
import type { TargetTable } from './target-tables.js';
import type { WorkStore } from './work-store.js';

const PAGE = 5_000;

/** The columns the job writes into a target table: the generated key and every mapped column. */
export function writtenColumns(target: TargetTable): ColumnSchema[] {
  const names = new Set([
    ...(target.def.key ? [target.def.key.column] : []),
    ...target.def.inputs.flatMap((i) => Object.keys(i.columns)),
  ]);
  return target.schema.columns.filter((c) => names.has(c.name));
}

/** The merged rows of a table, a page at a time, as they are loaded into the target. */
export function* entityRows(work: WorkStore, target: TargetTable): Generator<Row[]> {
  const keyColumn = target.def.key
    ? target.schema.columns.find((c) => c.name === target.def.key!.column)!
    : null;
  const page = work.db.prepare(
    'select ordinal, target_key, vals from entities where tbl = ? and ordinal > ? order by ordinal limit ?',
  );
  let after = 0;
  for (;;) {
    const rows = page.all(target.def.table, after, PAGE) as {
      ordinal: number;
      target_key: string;
      vals: string;
    }[];
    if (rows.length === 0) return;
    after = rows[rows.length - 1]!.ordinal;
    yield rows.map((r) => {
      const row = JSON.parse(r.vals) as Row;
      if (keyColumn) row[keyColumn.name] = coerceValue(keyColumn, r.target_key);
      return row;
    });
  }
}

export function entityCount(work: WorkStore, table: string): number {
  return (work.db.prepare('select count(*) as n from entities where tbl = ?').get(table) as { n: number }).n;
}

/**
 * Loads every table's merged rows with the target engine's fastest path, all tables in one
 * transaction on the target: parents and children land together or not at all.
 */
export async function writeTargets(
  connector: Connector,
  work: WorkStore,
  targets: TargetTable[],
  onRows: (rows: number) => void,
): Promise<Record<string, number>> {
  return connector.transaction(async (tx) => {
    const written: Record<string, number> = {};
    for (const target of targets) {
      const counted = (function* () {
        for (const rows of entityRows(work, target)) {
          yield rows;
          onRows(rows.length);
        }
      })();
      written[target.def.table] = (await tx.bulkLoad(target.schema, counted)).rows;
    }
    return written;
  });
}

/**
 * Whether an earlier attempt's write transaction committed (the process died between the commit
 * and recording it): the first entity's key is in the target. The target was empty when the job
 * started and the write is one transaction, so one key answers for all of it.
 */
export async function writeCommitted(
  connector: Connector,
  work: WorkStore,
  target: TargetTable,
): Promise<boolean> {
  const first = work.db
    .prepare('select target_key, vals from entities where tbl = ? order by ordinal limit 1')
    .get(target.def.table) as { target_key: string; vals: string } | undefined;
  if (!first) return false;
  const values = JSON.parse(first.vals) as Row;
  const filter: Filter = {
    and: target.keyColumns.map((name) => ({
      field: name,
      op: 'eq' as const,
      value:
        target.def.key?.column === name
          ? coerceValue(
              target.schema.columns.find((c) => c.name === name)!,
              first.target_key,
            )
          : (values[name] as never),
    })),
  };
  return (await connector.count(target.schema, filter)) > 0;
}

/** The checksum the target must have: the merged rows, through the same canonical form. */
export function expectedChecksum(work: WorkStore, target: TargetTable): string {
  const checksum = new RowChecksum(writtenColumns(target));
  for (const rows of entityRows(work, target)) for (const row of rows) checksum.add(row);
  return checksum.value();
}

/** The checksum of what the target table holds now, read back through its connector. */
export async function actualChecksum(connector: Connector, target: TargetTable): Promise<string> {
  const checksum = new RowChecksum(writtenColumns(target));
  for await (const rows of connector.stream(target.schema, { batchSize: PAGE })) {
    for (const row of rows) checksum.add(row);
  }
  return checksum.value();
}
