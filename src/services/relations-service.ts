import { BraidError, badRequest, notFound } from '../model/errors.js';
import { qualifiedName, type ColumnSchema, type PortableType, type TableSchema } from '../model/schema.js';
import { coerceValue, type Row } from '../model/values.js';
import type { Relation, RelationsRepository } from '../meta/relations-repository.js';
import type { SourcesService } from './sources-service.js';

/** Related rows of one relation for one page: fetched with one query, joined by the client. */
export interface IncludedRelation {
  /** `one`: each page row names at most one related row; `many`: related rows point at page rows. */
  kind: 'one' | 'many';
  source: string;
  table: string;
  /** Page rows' `column` equals related rows' `relatedColumn`. */
  on: { column: string; relatedColumn: string };
  rows: Row[];
  /** More related rows exist than `includeLimit` allowed. */
  truncated: boolean;
}

export const DEFAULT_INCLUDE_LIMIT = 1_000;
export const MAX_INCLUDE_LIMIT = 10_000;

const FAMILY: Partial<Record<PortableType, string>> = {
  integer: 'number',
  bigint: 'number',
  decimal: 'number',
  float: 'number',
  string: 'text',
  text: 'text',
  enum: 'text',
  uuid: 'text',
};

function family(column: ColumnSchema): string {
  return FAMILY[column.type] ?? column.type;
}

type Endpoint = { source: string; table: string; column?: string };

function endpoint(value: unknown, path: string): Endpoint {
  const raw = value as Record<string, unknown> | null;
  if (!raw || typeof raw !== 'object' || typeof raw.source !== 'string' || typeof raw.table !== 'string')
    throw badRequest('invalid_relation', `${path} must be {source, table, column}`, { field: path });
  if (raw.column !== undefined && typeof raw.column !== 'string')
    throw badRequest('invalid_relation', `${path}.column must be a column name`, { field: `${path}.column` });
  return { source: raw.source, table: raw.table, ...(raw.column ? { column: raw.column } : {}) };
}

function columnOf(table: TableSchema, name: string, path: string): ColumnSchema {
  const column = table.columns.find((c) => c.name === name);
  if (!column)
    throw badRequest('unknown_field', `${path}: table "${table.name}" has no column "${name}"`, {
      field: path,
      column: name,
    });
  return column;
}

/**
 * Relationships across sources (invoices in PostgreSQL -> customers in MariaDB): defined once,
 * then any row read of either table can include the related rows, fetched with one batched query
 * per relation per page (`in` over the page's keys, pushed to the other source), never one per row.
 */
export class RelationsService {
  constructor(
    private readonly store: RelationsRepository,
    private readonly sources: SourcesService,
  ) {}

  list(): Promise<Relation[]> {
    return this.store.list();
  }

  async get(id: string): Promise<Relation> {
    const relation = await this.store.get(id);
    if (!relation) throw notFound(`relation "${id}"`, { id });
    return relation;
  }

  async remove(id: string): Promise<void> {
    if (!(await this.store.delete(id))) throw notFound(`relation "${id}"`, { id });
  }

  /** Names of the relations that use a source (a source in use cannot be deleted). */
  async usersOf(sourceId: string): Promise<string[]> {
    return (await this.store.usingSource(sourceId)).map((r) => `relation "${r.name}"`);
  }

  /**
   * Checks a definition against the live schemas: both tables and columns exist, the target column
   * is the key (or named), the two columns hold comparable values, and the names are free.
   */
  async create(body: unknown): Promise<Relation> {
    const raw = (body ?? {}) as Record<string, unknown>;
    if (typeof raw.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(raw.name))
      throw badRequest('invalid_relation', 'name must be an identifier (letters, digits, _)', {
        field: 'name',
      });
    const from = endpoint(raw.from, 'from');
    const to = endpoint(raw.to, 'to');
    if (!from.column)
      throw badRequest('invalid_relation', 'from.column is required', { field: 'from.column' });
    const fromSource = await this.sources.resolveId(from.source);
    const toSource = await this.sources.resolveId(to.source);
    const fromTable = (await this.sources.resolveTable(fromSource, from.table)).table;
    const toTable = (await this.sources.resolveTable(toSource, to.table)).table;
    // Stored as people name tables (`schema.name` outside the default schema), one spelling each.
    from.table = await this.nameOf(fromSource, fromTable);
    to.table = await this.nameOf(toSource, toTable);
    const fromColumn = columnOf(fromTable, from.column, 'from.column');
    const toColumnName = to.column ?? (toTable.primaryKey.length === 1 ? toTable.primaryKey[0]! : null);
    if (!toColumnName)
      throw badRequest('invalid_relation', `to.column is required: "${to.table}" has no single-column key`, {
        field: 'to.column',
      });
    const toColumn = columnOf(toTable, toColumnName, 'to.column');
    if (family(fromColumn) !== family(toColumn))
      throw badRequest(
        'incompatible_columns',
        `${from.table}.${fromColumn.name} (${fromColumn.type}) cannot name rows by ${to.table}.${toColumn.name} (${toColumn.type})`,
        { from: fromColumn.type, to: toColumn.type },
      );
    const reverseName = raw.reverseName === undefined ? fromTable.name.replace(/\W/g, '_') : raw.reverseName;
    if (typeof reverseName !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(reverseName))
      throw badRequest('invalid_relation', 'reverseName must be an identifier', { field: 'reverseName' });
    await this.checkFree(fromSource, from.table, raw.name, 'name');
    await this.checkFree(toSource, to.table, reverseName, 'reverseName');
    return this.store.create({
      name: raw.name,
      from: { source: fromSource, table: from.table, column: fromColumn.name },
      to: { source: toSource, table: to.table, column: toColumn.name },
      reverseName,
    });
  }

  private async nameOf(sourceId: string, table: TableSchema): Promise<string> {
    return qualifiedName(table, (await this.sources.connector(sourceId)).defaultSchema);
  }

  /** Every relation name a table's reads can include must be unique for that table. */
  private async checkFree(source: string, table: string, name: string, field: string): Promise<void> {
    const taken = (await this.store.forTable(source, table)).some(
      (r) =>
        (r.from.source === source && r.from.table === table && r.name === name) ||
        (r.to.source === source && r.to.table === table && r.reverseName === name),
    );
    if (taken)
      throw new BraidError(
        409,
        'relation_exists',
        `table "${table}" already has a relation named "${name}"`,
        {
          field,
          name,
        },
      );
  }

  /**
   * The related rows of a page for each named relation: from the `from` table a relation gives each
   * row its one related row; from the `to` table (by its reverse name) the rows pointing at it.
   */
  async include(
    sourceId: string,
    requestedTable: string,
    rows: Row[],
    names: string[],
    limit = DEFAULT_INCLUDE_LIMIT,
  ): Promise<Record<string, IncludedRelation>> {
    const tableName = await this.nameOf(
      sourceId,
      (await this.sources.resolveTable(sourceId, requestedTable)).table,
    );
    const relations = await this.store.forTable(sourceId, tableName);
    const included: Record<string, IncludedRelation> = {};
    for (const name of names) {
      const forward = relations.find(
        (r) => r.from.source === sourceId && r.from.table === tableName && r.name === name,
      );
      const reverse = relations.find(
        (r) => r.to.source === sourceId && r.to.table === tableName && r.reverseName === name,
      );
      const relation = forward ?? reverse;
      if (!relation) {
        const known = relations.map((r) =>
          r.from.table === tableName && r.from.source === sourceId ? r.name : r.reverseName,
        );
        throw badRequest(
          'unknown_relation',
          `table "${tableName}" has no relation "${name}"${known.length ? `; it has ${known.join(', ')}` : ''}`,
          { relation: name, relations: known },
        );
      }
      const here = forward ? relation.from : relation.to;
      const there = forward ? relation.to : relation.from;
      const { connector, table } = await this.sources.resolveTable(there.source, there.table);
      const column = columnOf(table, there.column, name);
      const keys = new Set<unknown>();
      for (const row of rows) {
        const value = row[here.column];
        if (value === null || value === undefined) continue;
        // A value the other column cannot hold matches nothing there (a code into a number column).
        try {
          keys.add(coerceValue(column, value));
        } catch {
          continue;
        }
      }
      const page =
        keys.size === 0
          ? { rows: [] }
          : await connector.select(table, {
              filter: { field: column.name, op: 'in', value: [...keys] as never[] },
              limit: limit + 1,
            });
      included[name] = {
        kind: forward ? 'one' : 'many',
        source: there.source,
        table: there.table,
        on: { column: here.column, relatedColumn: there.column },
        rows: page.rows.slice(0, limit),
        truncated: page.rows.length > limit,
      };
    }
    return included;
  }
}
