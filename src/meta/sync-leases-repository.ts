import type { Kysely, Selectable } from 'kysely';
import { isUniqueViolation, isoNow } from './db-errors.js';
import type { MetaDatabase } from './meta-schema.js';
import type { SyncLeasesTable } from './sync-meta-schema.js';

/** Who runs a sync and until when, with the owner's last status snapshot. */
export interface SyncLease<S = unknown> {
  syncId: string;
  owner: string;
  expiresAt: string;
  heartbeatAt: string;
  status: S | null;
}

function toLease<S>(row: Selectable<SyncLeasesTable>): SyncLease<S> {
  return {
    syncId: row.sync_id,
    owner: row.owner,
    expiresAt: row.expires_at,
    heartbeatAt: row.heartbeat_at,
    status: row.status === null ? null : (JSON.parse(row.status) as S),
  };
}

/**
 * Leases make one process at a time run a sync, whether it is the server or a `braid worker`, on
 * one machine or several sharing a PostgreSQL metadata store. A lease is taken when free or
 * expired, renewed by its owner's heartbeat, and released on a clean stop; an owner killed with
 * SIGKILL simply lets it expire. Every change is one conditional statement, so two processes racing
 * for a lease cannot both win (timestamps are fixed-width ISO text and compare as text).
 *
 * @example
 * if (await store.syncLeases.acquire(syncId, owner, 15_000)) { ... }
 * await store.syncLeases.renew(syncId, owner, 15_000, status); // false once lost
 */
export class SyncLeasesRepository {
  constructor(private readonly db: Kysely<MetaDatabase>) {}

  /** Takes the lease when it is free, expired or already ours; answers whether we hold it now. */
  async acquire(syncId: string, owner: string, ttlMs: number, now = new Date()): Promise<boolean> {
    const values = {
      owner,
      expires_at: isoNow(new Date(now.getTime() + ttlMs)),
      heartbeat_at: isoNow(now),
    };
    const taken = await this.db
      .updateTable('sync_leases')
      .set(values)
      .where('sync_id', '=', syncId)
      .where((eb) => eb.or([eb('owner', '=', owner), eb('expires_at', '<', isoNow(now))]))
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) > 0) return true;
    try {
      await this.db
        .insertInto('sync_leases')
        .values({ sync_id: syncId, status: null, ...values })
        .execute();
      return true;
    } catch (err) {
      // Held by a live owner, or another process inserted it first.
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  /** Extends our lease and stores the status snapshot; false when the lease is no longer ours. */
  async renew(
    syncId: string,
    owner: string,
    ttlMs: number,
    status: unknown,
    now = new Date(),
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('sync_leases')
      .set({
        expires_at: isoNow(new Date(now.getTime() + ttlMs)),
        heartbeat_at: isoNow(now),
        status: status === undefined ? null : JSON.stringify(status),
      })
      .where('sync_id', '=', syncId)
      .where('owner', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Gives a lease up (a no-op when it is not ours). */
  async release(syncId: string, owner: string): Promise<void> {
    await this.db
      .deleteFrom('sync_leases')
      .where('sync_id', '=', syncId)
      .where('owner', '=', owner)
      .execute();
  }

  async get<S = unknown>(syncId: string): Promise<SyncLease<S> | null> {
    const row = await this.db
      .selectFrom('sync_leases')
      .selectAll()
      .where('sync_id', '=', syncId)
      .executeTakeFirst();
    return row ? toLease<S>(row) : null;
  }

  /** True when someone holds the lease and it has not expired. */
  async isHeld(syncId: string, now = new Date()): Promise<boolean> {
    const lease = await this.get(syncId);
    return lease !== null && lease.expiresAt >= isoNow(now);
  }
}
