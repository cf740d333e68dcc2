import type { Kysely, Selectable } from 'kysely';
import { BraidError } from '../model/errors.js';
import { isUniqueViolation, isoNow } from './db-errors.js';
import type { MetaDatabase } from './meta-schema.js';

/** Row type of `combined_materializations` (migration 0007), part of `MetaDatabase`. */
export interface CombinedMaterializationsTable {
  combined_id: string;
  source_id: string;
  /** The table as people name it in its source (`name`, or `schema.name`). */
  table_name: string;
  sync_id: string;
  created_at: string;
}

export interface CombinedMaterializationsMetaTables {
  combined_materializations: CombinedMaterializationsTable;
}

/** Where a combined table is materialized and the sync rule keeping it current. */
export interface CombinedMaterialization {
  combinedId: string;
  sourceId: string;
  tableName: string;
  syncId: string;
  createdAt: string;
}

function toRecord(row: Selectable<CombinedMaterializationsTable>): CombinedMaterialization {
  return {
    combinedId: row.combined_id,
    sourceId: row.source_id,
    tableName: row.table_name,
    syncId: row.sync_id,
    createdAt: row.created_at,
  };
}

/**
 * Materializations of combined tables, at most one per combined table (`already_materialized`,
 * 409, also when two requests race: the primary key decides).
 *
 * @example
 * await store.combinedMaterializations.create({ combinedId, sourceId, tableName: 'customers', syncId });
 * await store.combinedMaterializations.get(combinedId); // the same record
 */
export class CombinedMaterializationsRepository {
  constructor(private readonly db: Kysely<MetaDatabase>) {}

  async get(combinedId: string): Promise<CombinedMaterialization | null> {
    const row = await this.db
      .selectFrom('combined_materializations')
      .selectAll()
      .where('combined_id', '=', combinedId)
      .executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  async list(): Promise<CombinedMaterialization[]> {
    const rows = await this.db
      .selectFrom('combined_materializations')
      .selectAll()
      .orderBy('created_at')
      .execute();
    return rows.map(toRecord);
  }

  async create(input: Omit<CombinedMaterialization, 'createdAt'>): Promise<CombinedMaterialization> {
    const row: CombinedMaterializationsTable = {
      combined_id: input.combinedId,
      source_id: input.sourceId,
      table_name: input.tableName,
      sync_id: input.syncId,
      created_at: isoNow(),
    };
    try {
      await this.db.insertInto('combined_materializations').values(row).execute();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      throw new BraidError(
        409,
        'already_materialized',
        `combined table "${input.combinedId}" is already materialized`,
        { combinedId: input.combinedId },
      );
    }
    return toRecord(row);
  }

  async delete(combinedId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('combined_materializations')
      .where('combined_id', '=', combinedId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
