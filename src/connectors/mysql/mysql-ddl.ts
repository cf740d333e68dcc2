import type { ColumnDefinition } from '../../model/schema.js';
import { atLeast, type ServerInfo } from './mysql-session.js';

/**
 * Native types for portable column definitions (tables Braid creates).
 *
 * Text columns are utf8mb4 with a binary NO PAD collation, so the table itself compares the way the
 * portable model does (by code point, case and trailing spaces count): a unique index on `email`
 * treats `A@x` and `a@x` as different rows, as PostgreSQL and SQLite do.
 */
export function mysqlColumnType(column: ColumnDefinition, server: ServerInfo | null): string {
  const text = textAttributes(server);
  switch (column.type) {
    case 'string': {
      const length = column.maxLength ?? 255;
      // 16 383 utf8mb4 characters fill the 65 535-byte row limit of a VARCHAR.
      return length > 16_383 ? `longtext ${text}` : `varchar(${Math.max(1, length)}) ${text}`;
    }
    case 'text':
      return `longtext ${text}`;
    case 'integer':
      return 'int';
    case 'bigint':
      return 'bigint';
    case 'decimal': {
      // Without a declared precision the widest exact type: 35 integer and 30 fraction digits.
      const precision = Math.min(65, Math.max(1, column.precision ?? 65));
      const scale = Math.min(
        30,
        precision,
        Math.max(0, column.scale ?? (column.precision === undefined ? 30 : 0)),
      );
      return `decimal(${precision},${scale})`;
    }
    case 'float':
      return 'double';
    case 'boolean':
      return 'tinyint(1)';
    case 'date':
      return 'date';
    case 'time':
      return 'time(6)';
    case 'datetime':
      return 'datetime(6)';
    case 'datetimetz':
      // An instant, stored as its UTC wall time. Not TIMESTAMP: its range (1970-01-01 00:00:01 to
      // 2038-01-19 03:14:07 UTC) would refuse ordinary instants. The comment tells introspection.
      return `datetime(6) comment '${DATETIMETZ_MARKER}'`;
    case 'json':
      // MariaDB turns JSON into LONGTEXT with a json_valid() check, which introspection maps back.
      return 'json';
    case 'uuid':
      return server?.flavor === 'mariadb' && atLeast(server, 10, 7) ? 'uuid' : 'char(36) character set ascii';
    case 'binary':
      return column.maxLength !== undefined && column.maxLength <= 65_535
        ? `varbinary(${Math.max(1, column.maxLength)})`
        : 'longblob';
    case 'enum':
      return `enum(${(column.enumValues ?? []).map(quoteLiteral).join(', ')}) ${text}`;
  }
}

/** Column comment of DATETIME columns that hold UTC instants (Braid's datetimetz). */
export const DATETIMETZ_MARKER = 'UTC instant (braid:datetimetz)';
export const DATETIMETZ_MARKER_RE = /\bbraid:datetimetz\b/;

export function mysqlAutoIncrementColumn(column: ColumnDefinition): string {
  return `${column.type === 'bigint' ? 'bigint' : 'int'} not null auto_increment primary key`;
}

function textAttributes(server: ServerInfo | null): string {
  return `character set utf8mb4 collate ${binaryCollation(server)}`;
}

/** A utf8mb4 collation comparing by code point without padding trailing spaces. */
export function binaryCollation(server: ServerInfo | null): string {
  if (!server || server.flavor === 'mariadb') return 'utf8mb4_nopad_bin';
  return atLeast(server, 8, 0, 1) ? 'utf8mb4_0900_bin' : 'utf8mb4_bin';
}

/** A MySQL string literal (DDL has no bound parameters); backslashes are escapes in MySQL literals. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}
