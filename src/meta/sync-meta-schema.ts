/**
 * Row types of the sync tables (migration 0002-sync), part of `MetaDatabase`. Same conventions as
 * meta-schema.ts: ISO 8601 UTC text timestamps, JSON as text, member indexes as integers.
 */
export interface SyncMetaTables {
  syncs: SyncsTable;
  sync_entity_links: SyncEntityLinksTable;
  sync_positions: SyncPositionsTable;
  sync_conflicts: SyncConflictsTable;
  sync_dead_letters: SyncDeadLettersTable;
  sync_entity_state: SyncEntityStateTable;
  sync_leases: SyncLeasesTable;
}

export interface SyncsTable {
  id: string;
  name: string;
  /** JSON of the sync rule as parsed (src/sync/sync-rule.ts). */
  definition: string;
  /** `active`, `paused`... (the engine's vocabulary). */
  status: string;
  created_at: string;
  updated_at: string;
}

export interface SyncEntityLinksTable {
  sync_id: string;
  entity_id: string;
  /** Index of the member in the rule's `members`. */
  member: number;
  /** JSON of the member row's primary key, keys sorted (see entity-links-repository.ts). */
  member_key: string;
  /** Normalized match key when the link was made or last refreshed; null when the row had none. */
  match_key: string | null;
  created_at: string;
  updated_at: string;
}

export interface SyncPositionsTable {
  sync_id: string;
  member: number;
  /** Opaque position of the member's capture stream. */
  position: string;
  updated_at: string;
}

export interface SyncConflictsTable {
  id: string;
  sync_id: string;
  entity_id: string;
  field: string;
  /** JSON list of every side: `[{member, value, commitTime}]`. */
  values: string;
  /** `open` or `resolved`. */
  status: string;
  created_at: string;
  resolved_at: string | null;
  /** JSON of how it was resolved (chosen value, who), null while open. */
  resolution: string | null;
}

export interface SyncDeadLettersTable {
  id: string;
  sync_id: string;
  member: number;
  /** JSON of the change event that could not be applied. */
  event: string;
  reason: string;
  attempts: number;
  created_at: string;
}

/** Migration 0003: an entity's converged values and the last event applied from each member. */
export interface SyncEntityStateTable {
  sync_id: string;
  entity_id: string;
  /** JSON object: canonical field -> value. */
  converged: string;
  /** JSON object: member index -> `<capture kind>:<position>` of the last event applied from it. */
  applied: string;
  /** JSON object: member index -> values Braid wrote there lately (polling cannot tag its writes). */
  echoes: string;
  updated_at: string;
}

/** Migration 0003: which process runs a sync, until when, and its last status snapshot. */
export interface SyncLeasesTable {
  sync_id: string;
  /** Id of the process holding the lease (host, pid and a random part). */
  owner: string;
  /** ISO time after which another process may take the sync over. */
  expires_at: string;
  heartbeat_at: string;
  /** JSON of the owner's last status of the sync (members, counters, lag), for other processes. */
  status: string | null;
}
