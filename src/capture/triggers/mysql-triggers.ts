import { qualifiedName, type ColumnSchema, type TableSchema } from '../../model/schema.js';
import { JsonNumber } from './lossless-json.js';
import { sqlString, type CaptureNames, type TriggerDialect } from './trigger-dialect.js';

const q = (name: string): string => `\`${name.replace(/`/g, '``')}\``;
/** InnoDB refreshes information_schema.innodb_trx at most this often (plus a margin). */
const INNODB_TRX_REFRESH_MS = 150;

const lit = (text: string): string => sqlString(text, true);

/**
 * One column of a row image, as an expression JSON_OBJECT renders losslessly and independently of
 * the writer's session: TIMESTAMP as Unix seconds (JSON_OBJECT would print it in the writer's
 * time zone), binary as base64 (raw bytes are not JSON text), JSON as its text (MySQL would embed
 * a JSON string scalar unquoted), BIT as a number.
 */
function columnExpr(column: ColumnSchema, row: 'NEW' | 'OLD'): string {
  const ref = `${row}.${q(column.name)}`;
  const native = column.nativeType.toLowerCase();
  if (native.startsWith('timestamp')) return `unix_timestamp(${ref})`;
  if (native.startsWith('bit'))
    return column.type === 'boolean' ? `cast(${ref} as unsigned)` : `to_base64(${ref})`;
  if (column.type === 'binary') return `to_base64(${ref})`;
  if (column.type === 'json') return `cast(${ref} as char)`;
  return ref;
}

function imageExpr(columns: ColumnSchema[], row: 'NEW' | 'OLD'): string {
  return `json_object(${columns.map((c) => `${lit(c.name)}, ${columnExpr(c, row)}`).join(', ')})`;
}

function triggerSql(
  names: CaptureNames,
  table: TableSchema,
  suffix: 'ins' | 'upd' | 'del',
  tableName: string,
): string {
  const op = { ins: 'insert', upd: 'update', del: 'delete' }[suffix];
  const keyRow = suffix === 'del' ? 'OLD' : 'NEW';
  const keyColumns = table.columns.filter((c) => table.primaryKey.includes(c.name));
  const oldImage = suffix === 'ins' ? 'null' : imageExpr(table.columns, 'OLD');
  const newImage = suffix === 'del' ? 'null' : imageExpr(table.columns, 'NEW');
  return `create trigger ${q(names.trigger(table, suffix))} after ${op} on ${q(table.name)} for each row
insert into ${q(names.changelog)} (table_name, op, row_key, old_row, new_row, commit_time, origin)
values (${lit(tableName)}, ${lit(op)}, ${imageExpr(keyColumns, keyRow)}, ${oldImage}, ${newImage}, utc_timestamp(6), @braid_origin)`;
}

/**
 * MySQL/MariaDB. Triggers run with the privileges of their DEFINER (the user Braid connects as),
 * so other tools' users need no rights on the changelog; if that user is dropped, writes to the
 * captured tables fail until `uninstall` (or a re-install by another user) replaces the triggers.
 */
export const mysqlTriggers: TriggerDialect = {
  changelogSql: (names) => q(names.changelog),

  /**
   * MySQL commits DDL one statement at a time: between dropping and re-creating a trigger a write
   * to that table is not recorded. Installing while other tools write can miss those rows.
   */
  async install(connector, names, tables) {
    await connector.rawQuery(
      `create table if not exists ${q(names.changelog)} (
        id bigint unsigned not null auto_increment primary key,
        table_name varchar(255) not null, op varchar(6) not null,
        row_key longtext, old_row longtext, new_row longtext,
        commit_time datetime(6) not null, origin varchar(255)) engine=InnoDB default charset=utf8mb4`,
    );
    for (const name of await this.listTriggers(connector, names))
      await connector.rawQuery(`drop trigger if exists ${q(name)}`);
    for (const table of tables) {
      const tableName = qualifiedName(table, connector.defaultSchema);
      for (const suffix of ['ins', 'upd', 'del'] as const) {
        await connector.rawQuery(triggerSql(names, table, suffix, tableName));
      }
    }
  },

  async uninstall(connector, names) {
    for (const name of await this.listTriggers(connector, names))
      await connector.rawQuery(`drop trigger if exists ${q(name)}`);
    await connector.rawQuery(`drop table if exists ${q(names.changelog)}`);
  },

  async listTriggers(connector, names) {
    // A trigger is this consumer's when it writes this consumer's changelog (names alone could
    // collide: consumer `a` and consumer `a_b`).
    const { rows } = await connector.rawQuery(
      `select trigger_name as name from information_schema.triggers
        where trigger_schema = database() and action_statement like :pattern`,
      { pattern: `%insert into ${q(names.changelog).replace(/[\\%_]/g, '\\$&')} (%` },
    );
    return rows.map((r) => String(r.name));
  },

  async changelogExists(connector, names) {
    const { rows } = await connector.rawQuery(
      'select count(*) as n from information_schema.tables where table_schema = database() and table_name = :t',
      { t: names.changelog },
    );
    return Number(rows[0]?.n) > 0;
  },

  /**
   * The AUTO_INCREMENT value is drawn inside the trigger, after the writer modified its row, so
   * every transaction that may still commit a changelog id is an InnoDB transaction with modified
   * rows. innodb_trx needs the PROCESS privilege; without it the shared code falls back to a grace
   * period.
   */
  async settle(connector, names) {
    return connector.transaction(async (tx) => {
      const high = await tx.rawQuery(`select cast(max(id) as char) as high from ${q(names.changelog)}`);
      // innodb_trx is a cache refreshed at most every 100 ms: wait until a refresh must have
      // happened after the read above, so a writer that drew an id before it is listed.
      await new Promise((resolve) => setTimeout(resolve, INNODB_TRX_REFRESH_MS));
      let running: string[] | null;
      try {
        const trx = await tx.rawQuery(
          `select trx_id from information_schema.innodb_trx
            where trx_mysql_thread_id <> connection_id() and trx_rows_modified > 0`,
        );
        running = trx.rows.map((r) => String(r.trx_id));
      } catch {
        running = null;
      }
      return { high: (high.rows[0]?.high as string | null) ?? null, running };
    });
  },

  async tag(tx, _names, origin) {
    await tx.rawQuery('set @braid_origin = :origin', { origin });
  },

  /** The variable lives as long as the pooled connection: it is cleared before the connection goes back. */
  async untag(tx) {
    await tx.rawQuery('set @braid_origin = null');
  },

  driverValue(column, value) {
    const native = column.nativeType.toLowerCase();
    const text = value instanceof JsonNumber ? value.text : value;
    if (text === null || text === undefined) return null;
    if (native.startsWith('timestamp')) return utcFromUnixSeconds(String(text));
    if (column.type === 'binary' && typeof text === 'string')
      return Buffer.from(text.replace(/\s+/g, ''), 'base64');
    return text;
  },

  /**
   * TRIGGER and CREATE grants; with binary logging on, MySQL/MariaDB also refuse CREATE TRIGGER
   * to users without SUPER unless `log_bin_trust_function_creators` is set.
   */
  async probe(connector) {
    let grants: string;
    try {
      const { rows } = await connector.rawQuery('show grants for current_user()');
      grants = rows
        .map((r) => String(Object.values(r)[0]))
        .join('\n')
        .toUpperCase();
    } catch (err) {
      return { available: false, reason: `privileges could not be read: ${(err as Error).message}` };
    }
    const all = /ALL PRIVILEGES ON \*\.\*/.test(grants);
    if (
      !all &&
      !/ALL PRIVILEGES/.test(grants) &&
      !(/\bTRIGGER\b/.test(grants) && /\bCREATE\b/.test(grants))
    ) {
      return {
        available: false,
        reason: 'the user lacks the TRIGGER privilege (or CREATE, for the changelog table)',
      };
    }
    const { rows } = await connector.rawQuery(
      'select @@global.log_bin as log_bin, @@global.log_bin_trust_function_creators as trusted',
    );
    const binlog = Number(rows[0]?.log_bin) === 1 && Number(rows[0]?.trusted) !== 1;
    if (binlog && !all && !/\bSUPER\b/.test(grants)) {
      return {
        available: false,
        reason:
          'binary logging is on: creating triggers needs the SUPER privilege or log_bin_trust_function_creators = 1',
      };
    }
    return { available: true, reason: 'the user may create the changelog and the triggers' };
  },
};

/** `1700000000.123456` (UNIX_TIMESTAMP) -> `2023-11-14 22:13:20.123456`, what mysql2 returns in a UTC session. */
function utcFromUnixSeconds(text: string): string {
  const [whole = '0', fraction] = text.split('.');
  const iso = new Date(Number(whole) * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction ? `.${fraction}` : ''}`;
}
