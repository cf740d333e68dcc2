import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { isoNow } from './db-errors.js';
import type { MetaDatabase } from './meta-schema.js';

/** Row type of `relations` (migration 0005), part of `MetaDatabase`. */
export interface RelationsTable {
  id: string;
  /** Name of the relation as seen from its `from` table (`customer`). */
  name: string;
  from_source: string;
  from_table: string;
  from_column: string;
  to_source: string;
  to_table: string;
  to_column: string;
  /** Name as seen from the `to` table (`invoices`). */
  reverse_name: string;
  created_at: string;
}

export interface RelationsMetaTables {
  relations: RelationsTable;
}

/** A link from a column of one table to a column (usually the key) of a table in any source. */
export interface Relation {
  id: string;
  name: string;
  from: { source: string; table: string; column: string };
  to: { source: string; table: string; column: string };
  reverseName: string;
  createdAt: string;
}

function toRelation(row: Selectable<RelationsTable>): Relation {
  return {
    id: row.id,
    name: row.name,
    from: { source: row.from_source, table: row.from_table, column: row.from_column },
    to: { source: row.to_source, table: row.to_table, column: row.to_column },
    reverseName: row.reverse_name,
    createdAt: row.created_at,
  };
}

export class RelationsRepository {
  constructor(private readonly db: Kysely<MetaDatabase>) {}

  async create(input: Omit<Relation, 'id' | 'createdAt'>): Promise<Relation> {
    const row: RelationsTable = {
      id: randomUUID(),
      name: input.name,
      from_source: input.from.source,
      from_table: input.from.table,
      from_column: input.from.column,
      to_source: input.to.source,
      to_table: input.to.table,
      to_column: input.to.column,
      reverse_name: input.reverseName,
      created_at: isoNow(),
    };
    await this.db.insertInto('relations').values(row).execute();
    return toRelation(row);
  }

  async list(): Promise<Relation[]> {
    const rows = await this.db.selectFrom('relations').selectAll().orderBy('created_at').execute();
    return rows.map(toRelation);
  }

  async get(id: string): Promise<Relation | null> {
    const row = await this.db.selectFrom('relations').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRelation(row) : null;
  }

  /** Relations that start or end at this table (both directions can be included in its reads). */
  async forTable(source: string, table: string): Promise<Relation[]> {
    const rows = await this.db
      .selectFrom('relations')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([eb('from_source', '=', source), eb('from_table', '=', table)]),
          eb.and([eb('to_source', '=', source), eb('to_table', '=', table)]),
        ]),
      )
      .orderBy('created_at')
      .execute();
    return rows.map(toRelation);
  }

  async usingSource(source: string): Promise<Relation[]> {
    const rows = await this.db
      .selectFrom('relations')
      .selectAll()
      .where((eb) => eb.or([eb('from_source', '=', source), eb('to_source', '=', source)]))
      .execute();
    return rows.map(toRelation);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('relations').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
