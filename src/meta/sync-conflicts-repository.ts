import type { Kysely, Selectable } from 'kysely';
import { BraidError, notFound } from '../model/errors.js';
import { isoNow } from './db-errors.js';
import type { MetaDatabase } from './meta-schema.js';
import type { SyncConflictsTable } from './sync-meta-schema.js';
import { newId } from './tokens.js';

/** One side of a conflict: what a member held, and when it changed. */
export interface ConflictSide {
  member: number;
  value: unknown;
  commitTime: string | null;
}

export interface SyncConflict {
  id: string;
  syncId: string;
  entityId: string;
  field: string;
  sides: ConflictSide[];
  status: 'open' | 'resolved';
  createdAt: string;
  resolvedAt: string | null;
  resolution: unknown;
}

function toConflict(row: Selectable<SyncConflictsTable>): SyncConflict {
  return {
    id: row.id,
    syncId: row.sync_id,
    entityId: row.entity_id,
    field: row.field,
    sides: JSON.parse(row.values) as ConflictSide[],
    status: row.status === 'resolved' ? 'resolved' : 'open',
    createdAt: row.created_at,
    resolvedAt: row.resolved_at,
    resolution: row.resolution === null ? null : (JSON.parse(row.resolution) as unknown),
  };
}

/**
 * The review queue of the `manual` policy: one record per entity field, with every side's value,
 * waiting until someone resolves it through the API or the CLI.
 *
 * @example
 * const c = await store.syncConflicts.open({ syncId, entityId, field: 'phone', sides });
 * await store.syncConflicts.resolve(c.id, { value: '5551234567', by: 'ada@example.com' });
 */
export class SyncConflictsRepository {
  constructor(private readonly db: Kysely<MetaDatabase>) {}

  async open(input: {
    syncId: string;
    entityId: string;
    field: string;
    sides: ConflictSide[];
  }): Promise<SyncConflict> {
    return this.insert(input, 'open', null);
  }

  /**
   * Records a conflict the policy settled on its own (priority, newest): stored resolved at once,
   * with every side's value and the resolution, so the winner and the losers can be looked up like
   * those of the review queue.
   */
  async record(input: {
    syncId: string;
    entityId: string;
    field: string;
    sides: ConflictSide[];
    resolution: unknown;
  }): Promise<SyncConflict> {
    return this.insert(input, 'resolved', input.resolution ?? null);
  }

  private async insert(
    input: { syncId: string; entityId: string; field: string; sides: ConflictSide[] },
    status: 'open' | 'resolved',
    resolution: unknown,
  ): Promise<SyncConflict> {
    const now = isoNow();
    const row = {
      id: newId(),
      sync_id: input.syncId,
      entity_id: input.entityId,
      field: input.field,
      values: JSON.stringify(input.sides),
      status,
      created_at: now,
      resolved_at: status === 'resolved' ? now : null,
      resolution: status === 'resolved' ? JSON.stringify(resolution) : null,
    };
    await this.db.insertInto('sync_conflicts').values(row).execute();
    return toConflict(row);
  }

  async get(id: string): Promise<SyncConflict | null> {
    const row = await this.db
      .selectFrom('sync_conflicts')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toConflict(row) : null;
  }

  /** Conflicts of a sync, oldest first; only the open ones unless `status` says otherwise. */
  async list(syncId: string, status: 'open' | 'resolved' | 'all' = 'open'): Promise<SyncConflict[]> {
    let query = this.db
      .selectFrom('sync_conflicts')
      .selectAll()
      .where('sync_id', '=', syncId)
      .orderBy('created_at')
      .orderBy('id');
    if (status !== 'all') query = query.where('status', '=', status);
    return (await query.execute()).map(toConflict);
  }

  /** How many conflicts of a sync wait for review (status shows it every second: no rows read). */
  async countOpen(syncId: string): Promise<number> {
    const row = await this.db
      .selectFrom('sync_conflicts')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('sync_id', '=', syncId)
      .where('status', '=', 'open')
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** The open conflict of an entity field, if any (a new change must not open a second one). */
  async openFor(syncId: string, entityId: string, field: string): Promise<SyncConflict | null> {
    const row = await this.db
      .selectFrom('sync_conflicts')
      .selectAll()
      .where('sync_id', '=', syncId)
      .where('entity_id', '=', entityId)
      .where('field', '=', field)
      .where('status', '=', 'open')
      .executeTakeFirst();
    return row ? toConflict(row) : null;
  }

  /** Marks an open conflict resolved; 404 when unknown, 409 when it was already resolved. */
  async resolve(id: string, resolution: unknown): Promise<SyncConflict> {
    const resolvedAt = isoNow();
    const result = await this.db
      .updateTable('sync_conflicts')
      .set({ status: 'resolved', resolved_at: resolvedAt, resolution: JSON.stringify(resolution ?? null) })
      .where('id', '=', id)
      .where('status', '=', 'open')
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) {
      const existing = await this.get(id);
      if (!existing) throw notFound(`conflict "${id}"`, { id });
      throw new BraidError(409, 'conflict_already_resolved', `conflict "${id}" is already resolved`, { id });
    }
    return (await this.get(id))!;
  }
}
