import { decodeValue, parseEnumValues } from '../../connectors/mysql/mysql-types.js';
import type { ChangeEvent } from '../../model/change-event.js';
import { BraidError } from '../../model/errors.js';
import type { TableSchema } from '../../model/schema.js';
import type { Row } from '../../model/values.js';
import type { RowsKind, TableMap } from './binlog-events.js';
import { decodeRows, type ColumnHint, type RawValue } from './row-values.js';

/** A change without the transaction-level fields the run fills in. */
export type DecodedChange = Omit<ChangeEvent, 'position' | 'commitTime' | 'origin'>;

/** The marker table `withOrigin` writes to; its first column is the origin. */
export const ORIGIN_TABLE = 'braid_origin';

interface KnownTable {
  schema: TableSchema;
  hints: ColumnHint[];
  keyColumns: string[];
}

/**
 * Turns row events of the captured tables into change events. Column names, order, signedness and
 * enum/set labels come from the introspected TableSchema (columns in ordinal order, as the binlog
 * writes them); values go through the MySQL connector's codec, so events equal select().
 */
export class TableDecoder {
  private readonly tables = new Map<string, KnownTable>();

  constructor(
    private readonly source: string,
    readonly database: string,
    tables: readonly TableSchema[],
  ) {
    for (const schema of tables) {
      const hints = schema.columns.map((c): ColumnHint => {
        const native = c.nativeType.toLowerCase();
        const labels = /^(enum|set)\(/.test(native) ? parseEnumValues(c.nativeType) : c.enumValues;
        return { unsigned: native.includes('unsigned'), ...(labels ? { labels } : {}) };
      });
      const keyColumns = schema.primaryKey.length > 0 ? schema.primaryKey : schema.columns.map((c) => c.name);
      this.tables.set(schema.name, { schema, hints, keyColumns });
    }
  }

  /** Whether row events of this TABLE_MAP are captured. */
  captures(map: TableMap): boolean {
    return map.database === this.database && this.tables.has(map.table);
  }

  /** Whether this TABLE_MAP is the origin marker table of the captured database. */
  isOriginMarker(map: TableMap): boolean {
    return map.database === this.database && map.table === ORIGIN_TABLE;
  }

  /** Origins written by a row event of the marker table (the first column of each after-image). */
  origins(op: RowsKind, body: Buffer, offset: number, map: TableMap): string[] {
    const hints = map.types.map(() => ({ unsigned: true }));
    return (
      decodeRows(op, body, offset, map, hints)
        .map((image) => image.after?.[0])
        .filter((v): v is Buffer => Buffer.isBuffer(v))
        // `<origin>#<slot>` (see withOrigin); a marker written without a slot is the origin itself.
        .map((v) => v.toString('utf8').replace(/#\d+$/, ''))
    );
  }

  changes(op: RowsKind, body: Buffer, offset: number, map: TableMap): DecodedChange[] {
    const table = this.tables.get(map.table)!;
    if (map.types.length !== table.schema.columns.length) {
      // Positions of columns no longer match the introspected table: values would land in the
      // wrong columns. Failing (without acknowledging) lets the consumer re-install and resume.
      throw new BraidError(
        409,
        'capture_schema_changed',
        `${map.database}.${map.table} has ${map.types.length} columns in the binlog but ${table.schema.columns.length} ` +
          'when capture was installed: fetch the tables again and install the capture again',
        { table: map.table },
      );
    }
    return decodeRows(op, body, offset, map, table.hints).map((image) => {
      const base = { source: this.source, table: map.table };
      const before = image.before ? this.row(table, image.before) : undefined;
      const after = image.after ? this.row(table, image.after) : undefined;
      const key = pick((after ?? before)!, table.keyColumns);
      if (op === 'insert') return { ...base, op, key, after: after! };
      if (op === 'delete') return { ...base, op, key: pick(before!, table.keyColumns), before: before! };
      return { ...base, op, key, before: before!, after: after! };
    });
  }

  private row(table: KnownTable, values: RawValue[]): Row {
    const out: Row = {};
    table.schema.columns.forEach((column, i) => {
      out[column.name] = decodeValue(column, values[i] ?? null);
    });
    return out;
  }
}

function pick(row: Row, columns: string[]): Row {
  const out: Row = {};
  for (const c of columns) out[c] = row[c];
  return out;
}
