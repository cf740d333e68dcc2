import type { Connector } from '../connectors/connector.js';
import type { NormalizeStep } from '../match/normalize.js';
import type { Filter } from '../model/filter.js';
import type { ColumnSchema, TableSchema } from '../model/schema.js';
import type { Row } from '../model/values.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import type { CombinedDefinition } from './combined-definition.js';

/** A member table, resolved against its source's live schema. */
export interface ResolvedMember {
  index: number;
  name: string;
  sourceId: string;
  /** The table as people name it (`name`, or `schema.name` outside the default schema). */
  tableName: string;
  table: TableSchema;
  connector: Connector;
  /** Match key (match-key mode; in links mode the sync member's match, for inserts and display). */
  match: { column: string; normalize: NormalizeStep[] } | null;
}

/** One member column behind an exposed column. */
export interface ResolvedOwner {
  member: number;
  column: ColumnSchema;
  read?: string;
  write?: string;
}

export interface ResolvedColumn {
  name: string;
  /** The exposed column's schema: the first owner's, renamed (type checks, coercion, sorting). */
  schema: ColumnSchema;
  /** In reading priority. */
  owners: ResolvedOwner[];
}

/**
 * How the rows of members are recognised as one entity. An entity key is an opaque string, equal
 * for all member rows of one entity: a normalized match key, or a sync rule's entity id.
 */
export interface EntityKeying {
  /** The entity key of each row of member `member` (rows carry its primary key and match column). */
  keysOf(member: number, rows: Row[]): Promise<string[]>;
  /**
   * The rows of member `member` for these entity keys, batched (never one query per key), with at
   * least `fields` plus the primary key and match column; `extra` is ANDed to the lookup.
   */
  rowsFor(member: number, keys: string[], fields: string[], extra?: Filter): Promise<Map<string, Row[]>>;
  /**
   * A filter on member `member` that keeps (a superset of) the rows of these entities, or null
   * when none can be pushed down; callers still check each row's key.
   */
  filterFor(member: number, keys: string[]): Promise<Filter | null>;
  /** The columns `keysOf` needs from a member row. */
  keyColumns(member: number): string[];
  /** A fresh instance for one read, when the keying caches lookups (see matchKeying). */
  session?(): EntityKeying;
}

/** A definition resolved against the live schemas: what the reader and the writer work on. */
export interface CombinedTable {
  id: string;
  definition: CombinedDefinition;
  members: ResolvedMember[];
  columns: ResolvedColumn[];
  keying: EntityKeying;
  sandbox: Sandbox;
}

/** A combined row: the exposed columns plus `_key` (the entity) and `_members` (member -> key or null). */
export type CombinedRow = Row & { _key: string; _members: Record<string, Row | null> };

/** What resolving a definition needs from the layers around it (the service passes these in). */
export interface CombinedDeps {
  /** A source id from an id or a name (404 `unknown_source` otherwise). */
  resolveSourceId(idOrName: string): Promise<string>;
  /** A table of a source by the name people use (404 `unknown_table` otherwise). */
  resolveTable(sourceId: string, name: string): Promise<{ connector: Connector; table: TableSchema }>;
  sandbox: Sandbox;
  /** Links mode: the sync rule's members and the store of its entity links. */
  syncLinks?: SyncLinksAccess;
}

export interface SyncLinksAccess {
  /** The sync's members (source id + table name + match), 404 when there is no such sync. */
  members(
    syncId: string,
  ): Promise<{ source: string; table: string; match: { column: string; normalize: NormalizeStep[] } }[]>;
  /** Links of member rows, by the stored member-key text (see memberKeyText). */
  linksByMemberKeys(
    syncId: string,
    member: number,
    memberKeys: string[],
  ): Promise<{ entityId: string; memberKey: string }[]>;
  /** Links of the given entities in one member. */
  linksByEntities(
    syncId: string,
    member: number,
    entityIds: string[],
  ): Promise<{ entityId: string; memberKey: string }[]>;
}

/** A page request over a combined table: the same parameters as a table's rows. */
export interface CombinedQuery {
  filter?: Filter;
  sort?: { field: string; dir: 'asc' | 'desc' }[];
  limit?: number;
  cursor?: string;
  offset?: number;
  fields?: string[];
  /** true: exact count (walks the whole result); 'estimate': from the members' counts, labelled. */
  count?: boolean | 'estimate';
}

export interface CombinedPage {
  rows: CombinedRow[];
  next: string | null;
  total?: number;
  /** Present with `total`: false when `total` is an estimate. */
  totalExact?: boolean;
}
