import type { Kysely, Selectable } from 'kysely';
import { BraidError, notFound } from '../model/errors.js';
import { isUniqueViolation, isoNow } from './db-errors.js';
import type { MetaDatabase } from './meta-schema.js';
import type { SyncsTable } from './sync-meta-schema.js';
import { newId } from './tokens.js';

/** A stored sync rule. `definition` is the parsed rule (src/sync); this layer keeps it as JSON. */
export interface SyncRecord<D = unknown> {
  id: string;
  name: string;
  definition: D;
  status: string;
  createdAt: string;
  updatedAt: string;
}

function toRecord<D>(row: Selectable<SyncsTable>): SyncRecord<D> {
  return {
    id: row.id,
    name: row.name,
    definition: JSON.parse(row.definition) as D,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * Sync rules. Names are unique (`sync_name_taken`, 409), so the CLI and people can name a rule.
 * Deleting one removes its links, positions, conflicts and dead letters (foreign-key cascades).
 *
 * @example
 * const sync = await store.syncs.create({ name: 'customer contacts', definition: rule, status: 'active' });
 * await store.syncs.setStatus(sync.id, 'paused');
 */
export class SyncsRepository {
  constructor(private readonly db: Kysely<MetaDatabase>) {}

  async create<D>(input: {
    id?: string;
    name: string;
    definition: D;
    status: string;
  }): Promise<SyncRecord<D>> {
    const now = isoNow();
    const row = {
      id: input.id ?? newId(),
      name: input.name,
      definition: JSON.stringify(input.definition),
      status: input.status,
      created_at: now,
      updated_at: now,
    };
    try {
      await this.db.insertInto('syncs').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new BraidError(409, 'sync_name_taken', `a sync named "${input.name}" already exists`, {
          name: input.name,
        });
      }
      throw err;
    }
    return toRecord<D>(row);
  }

  async get<D = unknown>(id: string): Promise<SyncRecord<D> | null> {
    const row = await this.db.selectFrom('syncs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRecord<D>(row) : null;
  }

  async list<D = unknown>(): Promise<SyncRecord<D>[]> {
    const rows = await this.db.selectFrom('syncs').selectAll().orderBy('name').execute();
    return rows.map((row) => toRecord<D>(row));
  }

  /** Sets the status (`active`, `paused`...); 404 when there is no such sync. */
  async setStatus(id: string, status: string): Promise<void> {
    const result = await this.db
      .updateTable('syncs')
      .set({ status, updated_at: isoNow() })
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw notFound(`sync "${id}"`, { id });
  }

  /** Replaces the definition; 404 when there is no such sync. */
  async updateDefinition<D>(id: string, definition: D): Promise<void> {
    const result = await this.db
      .updateTable('syncs')
      .set({ definition: JSON.stringify(definition), updated_at: isoNow() })
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) throw notFound(`sync "${id}"`, { id });
  }

  /** Deletes the rule and all its state; answers whether it existed. */
  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('syncs').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
