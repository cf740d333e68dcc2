import { decodeValue } from '../../connectors/postgres/postgres-codec.js';
import { getTypeParser } from '../../connectors/postgres/postgres-type-parsers.js';
import type { ChangeEvent } from '../../model/change-event.js';
import type { ColumnSchema, TableSchema } from '../../model/schema.js';
import type { Row } from '../../model/values.js';
import type { PgOutputMessage, TupleValue } from './pgoutput-parser.js';

/** A change without the transaction-level fields the stream fills in. */
export type DecodedChange = Omit<ChangeEvent, 'position' | 'commitTime' | 'origin'>;

interface DecoderColumn {
  name: string;
  isKey: boolean;
  /** Text of the pgoutput tuple -> wire value, the same path as a row read by the connector. */
  decode: (text: string) => unknown;
}

interface KnownRelation {
  table: string;
  columns: DecoderColumn[];
  /** Key of the events: the primary key, else the replica identity columns (all of them with FULL). */
  keyColumns: string[];
}

/** `name` in the default schema, else `schema.name` (ChangeEvent.table). */
export function eventTableName(schema: string | null, name: string, defaultSchema = 'public'): string {
  return schema === null || schema === defaultSchema ? name : `${schema}.${name}`;
}

/**
 * Turns pgoutput row messages into change events with wire values. pgoutput sends every value in
 * its text output form; parsing it with the connector's own type parsers (by type OID) and then its
 * codec (by the introspected column) makes an event's values identical to what `select()` answers.
 */
export class ChangeDecoder {
  private readonly relations = new Map<number, KnownRelation>();

  /**
   * @param tables the tables as introspected when the capture was installed
   * @param domainBase domain type OID -> its base type OID: pgoutput names a domain column's own
   *   type, while the type parsers know the built-in base types
   */
  constructor(
    private readonly source: string,
    private readonly tables: readonly TableSchema[],
    private readonly domainBase: ReadonlyMap<number, number> = new Map(),
  ) {}

  /** Relation messages come before the first change of a table in each session and after DDL. */
  relation(msg: Extract<PgOutputMessage, { type: 'relation' }>): void {
    const table = this.tables.find((t) => (t.schema ?? 'public') === msg.schema && t.name === msg.name);
    const columns = msg.columns.map((c): DecoderColumn => {
      const schemaColumn = table?.columns.find((sc) => sc.name === c.name);
      const parse = getTypeParser(this.domainBase.get(c.typeOid) ?? c.typeOid);
      return { name: c.name, isKey: c.isKey, decode: valueDecoder(parse, schemaColumn) };
    });
    const primaryKey = table?.primaryKey.filter((k) => columns.some((c) => c.name === k)) ?? [];
    const keyColumns = primaryKey.length > 0 ? primaryKey : columns.filter((c) => c.isKey).map((c) => c.name);
    this.relations.set(msg.relationId, {
      table: eventTableName(msg.schema, msg.name),
      columns,
      keyColumns: keyColumns.length > 0 ? keyColumns : columns.map((c) => c.name),
    });
  }

  tableName(relationId: number): string {
    return this.known(relationId).table;
  }

  change(msg: Extract<PgOutputMessage, { type: 'insert' | 'update' | 'delete' }>): DecodedChange {
    const relation = this.known(msg.relationId);
    const base = { source: this.source, table: relation.table };
    if (msg.type === 'insert') {
      const after = this.row(relation, msg.after, 'all');
      return { ...base, op: 'insert', key: pick(after, relation.keyColumns), after };
    }
    if (msg.type === 'delete') {
      const before = this.row(relation, msg.old.values, msg.old.kind === 'key' ? 'keys' : 'all');
      return { ...base, op: 'delete', key: pick(before, relation.keyColumns), before };
    }
    const before = msg.old
      ? this.row(relation, msg.old.values, msg.old.kind === 'key' ? 'keys' : 'all')
      : undefined;
    const after = this.row(relation, msg.after, 'all', before);
    return {
      ...base,
      op: 'update',
      key: pick(after, relation.keyColumns),
      ...(before ? { before } : {}),
      after,
    };
  }

  private known(relationId: number): KnownRelation {
    const relation = this.relations.get(relationId);
    // The server always describes a relation before its first change in a session.
    if (!relation) throw new Error(`pgoutput: change for relation ${relationId} before its Relation message`);
    return relation;
  }

  /**
   * A tuple as a row. An old-key tuple carries every column but only the identity ones are set,
   * so `keys` keeps those. TOASTed values that did not change are not sent at all ('u'): they are
   * taken from `previous` when it has them, else left out of the row, never reported as null.
   */
  private row(relation: KnownRelation, values: TupleValue[], which: 'all' | 'keys', previous?: Row): Row {
    const out: Row = {};
    relation.columns.forEach((column, i) => {
      if (which === 'keys' && !column.isKey) return;
      const value = values[i];
      if (!value) return; // a column added after this tuple was written: not part of it
      if (value.kind === 'null') out[column.name] = null;
      else if (value.kind === 'text') out[column.name] = column.decode(value.text);
      else if (previous && column.name in previous) out[column.name] = previous[column.name];
    });
    return out;
  }
}

function valueDecoder(
  parse: (text: string) => unknown,
  column: ColumnSchema | undefined,
): (text: string) => unknown {
  if (column) return (text) => decodeValue(column, parse(text));
  // A column added after install: parsed by type alone, with bytes as base64 like everywhere else.
  return (text) => {
    const value = parse(text);
    return Buffer.isBuffer(value) ? value.toString('base64') : value;
  };
}

function pick(row: Row, columns: string[]): Row {
  const out: Row = {};
  for (const c of columns) if (c in row) out[c] = row[c];
  return out;
}
