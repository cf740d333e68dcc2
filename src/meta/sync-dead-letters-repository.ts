import type { Kysely, Selectable } from 'kysely';
import { isoNow } from './db-errors.js';
import type { MetaDatabase } from './meta-schema.js';
import type { SyncDeadLettersTable } from './sync-meta-schema.js';
import { newId } from './tokens.js';

export interface DeadLetter<E = unknown> {
  id: string;
  syncId: string;
  member: number;
  event: E;
  reason: string;
  attempts: number;
  createdAt: string;
}

function toDeadLetter<E>(row: Selectable<SyncDeadLettersTable>): DeadLetter<E> {
  return {
    id: row.id,
    syncId: row.sync_id,
    member: Number(row.member),
    event: JSON.parse(row.event) as E,
    reason: row.reason,
    attempts: Number(row.attempts),
    createdAt: row.created_at,
  };
}

/**
 * Change events that could not be applied (a constraint violation, a transform error), kept with
 * their reason so they can be retried after a fix, or dropped.
 *
 * @example
 * await store.syncDeadLetters.add({ syncId, member: 1, event, reason: 'phone: sandbox_error ...' });
 * for (const letter of await store.syncDeadLetters.list(syncId)) console.log(letter.reason);
 */
export class SyncDeadLettersRepository {
  constructor(private readonly db: Kysely<MetaDatabase>) {}

  async add<E>(input: {
    syncId: string;
    member: number;
    event: E;
    reason: string;
    attempts?: number;
  }): Promise<DeadLetter<E>> {
    const row = {
      id: newId(),
      sync_id: input.syncId,
      member: input.member,
      event: JSON.stringify(input.event),
      reason: input.reason,
      attempts: input.attempts ?? 1,
      created_at: isoNow(),
    };
    await this.db.insertInto('sync_dead_letters').values(row).execute();
    return toDeadLetter<E>(row);
  }

  async get<E = unknown>(id: string): Promise<DeadLetter<E> | null> {
    const row = await this.db
      .selectFrom('sync_dead_letters')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toDeadLetter<E>(row) : null;
  }

  /** Dead letters of a sync, oldest first. */
  async list<E = unknown>(syncId: string): Promise<DeadLetter<E>[]> {
    const rows = await this.db
      .selectFrom('sync_dead_letters')
      .selectAll()
      .where('sync_id', '=', syncId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map((row) => toDeadLetter<E>(row));
  }

  /** How many dead letters a sync has (status shows it every second: no rows read). */
  async count(syncId: string): Promise<number> {
    const row = await this.db
      .selectFrom('sync_dead_letters')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('sync_id', '=', syncId)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Records a failed retry: one more attempt and the latest reason. Answers whether it exists. */
  async recordAttempt(id: string, reason: string): Promise<boolean> {
    const result = await this.db
      .updateTable('sync_dead_letters')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), reason }))
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Drops a dead letter (retried successfully, or given up); answers whether it existed. */
  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('sync_dead_letters').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
