import { createHash } from 'node:crypto';
import type { Connector } from '../../connectors/connector.js';
import type { ColumnSchema, TableSchema } from '../../model/schema.js';
import { mysqlTriggers } from './mysql-triggers.js';
import { postgresTriggers } from './postgres-triggers.js';
import { sqliteTriggers } from './sqlite-triggers.js';

/** The names of the objects one consumer owns on the source. */
export interface CaptureNames {
  /** The consumer name (`braid_<name>...`). */
  name: string;
  /** Schema of the changelog (PostgreSQL); null elsewhere. */
  schema: string | null;
  changelog: string;
  /** PostgreSQL trigger function. */
  helper: string;
  /** SQLite one-row table holding the origin of the open transaction. */
  origin: string;
  /** `braid_<name>_<table>_<suffix>`, shortened with a hash past the engines' 63-character limit. */
  trigger(table: TableSchema, suffix: 'ins' | 'upd' | 'del'): string;
}

/** What a settle check saw: the highest changelog id, and the writers that may still add lower ones. */
export interface SettleSnapshot {
  high: string | null;
  /** Ids of transactions that may hold changelog ids not yet visible; null when the engine cannot tell. */
  running: string[] | null;
}

/**
 * The engine-specific half of trigger capture: DDL, the origin tag, which writers are still open,
 * and how a JSON row image value reaches the connector's codec. Everything else is shared.
 */
export interface TriggerDialect {
  /** Quoted changelog table for the shared SELECT / DELETE statements. */
  changelogSql(names: CaptureNames): string;
  /** Creates the changelog (if missing) and replaces every trigger of this consumer. */
  install(connector: Connector, names: CaptureNames, tables: TableSchema[]): Promise<void>;
  /** Drops this consumer's triggers, helper objects and changelog. */
  uninstall(connector: Connector, names: CaptureNames): Promise<void>;
  /** Names of this consumer's triggers that exist on the source (from the catalog). */
  listTriggers(connector: Connector, names: CaptureNames): Promise<string[]>;
  /** True when the changelog table exists. */
  changelogExists(connector: Connector, names: CaptureNames): Promise<boolean>;
  settle(connector: Connector, names: CaptureNames): Promise<SettleSnapshot>;
  /** Marks the open transaction `tx` so the triggers record `origin`; `untag` runs before commit. */
  tag(tx: Connector, names: CaptureNames, origin: string): Promise<void>;
  untag(tx: Connector, names: CaptureNames): Promise<void>;
  /** A value from a row image (JsonNumber for numbers) -> what the engine's driver would return. */
  driverValue(column: ColumnSchema, value: unknown): unknown;
  /** Whether Braid may create triggers here (on `tables`, where checkable), with a reason people can act on. */
  probe(connector: Connector, tables: TableSchema[]): Promise<{ available: boolean; reason: string }>;
}

/** The one place trigger capture depends on the engine. */
export function triggerDialectFor(connector: Connector): TriggerDialect {
  switch (connector.kind) {
    case 'postgres':
      return postgresTriggers;
    case 'mysql':
      return mysqlTriggers;
    case 'sqlite':
      return sqliteTriggers;
  }
}

const MAX_IDENTIFIER = 63;

/** An identifier of at most 63 characters: long ones keep a readable prefix and get a hash. */
export function shortName(full: string): string {
  if (full.length <= MAX_IDENTIFIER) return full;
  const hash = createHash('sha1').update(full).digest('hex').slice(0, 10);
  return `${full.slice(0, MAX_IDENTIFIER - 11)}_${hash}`;
}

export function captureNames(name: string, schema: string | null): CaptureNames {
  return {
    name,
    schema,
    changelog: shortName(`braid_changelog_${name}`),
    helper: shortName(`braid_${name}_capture`),
    origin: shortName(`braid_origin_${name}`),
    trigger: (table, suffix) => shortName(`braid_${name}_${table.name}_${suffix}`),
  };
}

/** A string literal for DDL that cannot take bound values (trigger bodies). */
export function sqlString(text: string, backslashEscapes = false): string {
  const escaped = backslashEscapes ? text.replace(/\\/g, '\\\\') : text;
  return `'${escaped.replace(/'/g, "''")}'`;
}
