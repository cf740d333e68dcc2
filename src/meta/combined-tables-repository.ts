import type { Kysely, Selectable } from 'kysely';
import { BraidError, notFound } from '../model/errors.js';
import { isUniqueViolation, isoNow } from './db-errors.js';
import type { MetaDatabase } from './meta-schema.js';
import { newId } from './tokens.js';

/** Row type of `combined_tables` (migration 0006), part of `MetaDatabase`. */
export interface CombinedTablesTable {
  id: string;
  name: string;
  /** JSON of the parsed definition, members naming their sources by id. */
  definition: string;
  created_at: string;
  updated_at: string;
}

export interface CombinedMetaTables {
  combined_tables: CombinedTablesTable;
}

/** A stored combined table. `definition` is parsed by src/combined; this layer keeps it as JSON. */
export interface CombinedTableRecord<D = unknown> {
  id: string;
  name: string;
  definition: D;
  createdAt: string;
  updatedAt: string;
}

function toRecord<D>(row: Selectable<CombinedTablesTable>): CombinedTableRecord<D> {
  return {
    id: row.id,
    name: row.name,
    definition: JSON.parse(row.definition) as D,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function nameTaken(name: string): BraidError {
  return new BraidError(409, 'combined_table_exists', `a combined table named "${name}" already exists`, {
    name,
  });
}

/** The source ids a stored definition's members name (the store does not know its full shape). */
function sourcesOf(definition: unknown): string[] {
  const members = (definition as { members?: unknown } | null)?.members;
  if (!Array.isArray(members)) return [];
  return members.map((m) => (m as { source?: unknown } | null)?.source).filter((s) => typeof s === 'string');
}

/**
 * Combined-table definitions. Names are unique (`combined_table_exists`, 409, also when two requests
 * race: the unique index decides), so the CLI and people can name one.
 *
 * @example
 * const created = await store.combinedTables.create({ name: 'customers', definition });
 * await store.combinedTables.getByName('customers'); // the same record
 */
export class CombinedTablesRepository {
  constructor(private readonly db: Kysely<MetaDatabase>) {}

  async list<D = unknown>(): Promise<CombinedTableRecord<D>[]> {
    const rows = await this.db.selectFrom('combined_tables').selectAll().orderBy('name').execute();
    return rows.map((row) => toRecord<D>(row));
  }

  async get<D = unknown>(id: string): Promise<CombinedTableRecord<D> | null> {
    const row = await this.db
      .selectFrom('combined_tables')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toRecord<D>(row) : null;
  }

  async getByName<D = unknown>(name: string): Promise<CombinedTableRecord<D> | null> {
    const row = await this.db
      .selectFrom('combined_tables')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? toRecord<D>(row) : null;
  }

  async create<D>(input: { name: string; definition: D }): Promise<CombinedTableRecord<D>> {
    const now = isoNow();
    const row = {
      id: newId(),
      name: input.name,
      definition: JSON.stringify(input.definition),
      created_at: now,
      updated_at: now,
    };
    try {
      await this.db.insertInto('combined_tables').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken(input.name);
      throw err;
    }
    return toRecord<D>(row);
  }

  /** Replaces name and definition; 404 when there is no such combined table, 409 when the name is taken. */
  async update<D>(id: string, input: { name: string; definition: D }): Promise<CombinedTableRecord<D>> {
    let changed: number;
    try {
      const result = await this.db
        .updateTable('combined_tables')
        .set({ name: input.name, definition: JSON.stringify(input.definition), updated_at: isoNow() })
        .where('id', '=', id)
        .executeTakeFirst();
      changed = Number(result.numUpdatedRows);
    } catch (err) {
      if (isUniqueViolation(err)) throw nameTaken(input.name);
      throw err;
    }
    if (changed === 0) throw notFound(`combined table "${id}"`, { id });
    return (await this.get<D>(id))!;
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('combined_tables').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * Combined tables with a member in this source. Definitions are JSON, so members are read in
   * code: there are a handful of combined tables, and a LIKE on the text could match a name too.
   */
  async usingSource<D = unknown>(sourceId: string): Promise<CombinedTableRecord<D>[]> {
    return (await this.list<D>()).filter((record) => sourcesOf(record.definition).includes(sourceId));
  }
}
