import { qualifiedName, type ColumnSchema, type TableSchema } from '../../model/schema.js';
import { JsonNumber } from './lossless-json.js';
import { sqlString, type CaptureNames, type TriggerDialect } from './trigger-dialect.js';

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * A column for json_object: a BLOB (json_object refuses them, and any column of SQLite may hold
 * one) becomes `{"$blob": hex}`, which driverValue turns back into the bytes. Only built-in SQL is
 * used, so the triggers work for every program that opens the file (Braid's own SQL functions are
 * registered on Braid's connection only). They do need the JSON functions, built into SQLite since
 * 3.38: a program linked against an older SQLite without JSON1 can no longer write these tables.
 */
function columnExpr(column: ColumnSchema, row: 'new' | 'old'): string {
  const ref = `${row}.${q(column.name)}`;
  return `case when typeof(${ref}) = 'blob' then json_object('$blob', hex(${ref})) else ${ref} end`;
}

function imageExpr(columns: ColumnSchema[], row: 'new' | 'old'): string {
  return `json_object(${columns.map((c) => `${sqlString(c.name)}, ${columnExpr(c, row)}`).join(', ')})`;
}

function triggerSql(
  names: CaptureNames,
  table: TableSchema,
  suffix: 'ins' | 'upd' | 'del',
  tableName: string,
): string {
  const op = { ins: 'insert', upd: 'update', del: 'delete' }[suffix];
  const keyRow = suffix === 'del' ? 'old' : 'new';
  const keyColumns = table.columns.filter((c) => table.primaryKey.includes(c.name));
  const oldImage = suffix === 'ins' ? 'null' : imageExpr(table.columns, 'old');
  const newImage = suffix === 'del' ? 'null' : imageExpr(table.columns, 'new');
  return `create trigger ${q(names.trigger(table, suffix))} after ${op} on ${q(table.name)} for each row begin
  insert into ${q(names.changelog)} (table_name, op, row_key, old_row, new_row, commit_time, origin)
  values (${sqlString(tableName)}, '${op}', ${imageExpr(keyColumns, keyRow)}, ${oldImage}, ${newImage},
    strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), (select origin from ${q(names.origin)} where id = 1));
end`;
}

export const sqliteTriggers: TriggerDialect = {
  changelogSql: (names) => q(names.changelog),

  async install(connector, names, tables) {
    await connector.transaction(async (tx) => {
      await tx.rawQuery(
        `create table if not exists ${q(names.changelog)} (
          id integer primary key autoincrement, table_name text not null, op text not null,
          row_key text, old_row text, new_row text, commit_time text not null, origin text)`,
      );
      // Written by withOrigin inside its transaction and emptied before the commit, so other
      // connections (which only see committed data) never find a row in it.
      await tx.rawQuery(
        `create table if not exists ${q(names.origin)} (id integer primary key check (id = 1), origin text)`,
      );
      for (const name of await this.listTriggers(tx, names))
        await tx.rawQuery(`drop trigger if exists ${q(name)}`);
      for (const table of tables) {
        const tableName = qualifiedName(table, connector.defaultSchema);
        for (const suffix of ['ins', 'upd', 'del'] as const) {
          await tx.rawQuery(triggerSql(names, table, suffix, tableName));
        }
      }
    });
  },

  async uninstall(connector, names) {
    await connector.transaction(async (tx) => {
      for (const name of await this.listTriggers(tx, names))
        await tx.rawQuery(`drop trigger if exists ${q(name)}`);
      await tx.rawQuery(`drop table if exists ${q(names.changelog)}`);
      await tx.rawQuery(`drop table if exists ${q(names.origin)}`);
    });
  },

  async listTriggers(connector, names) {
    // This consumer's triggers are the ones writing its changelog (names alone could collide).
    const { rows } = await connector.rawQuery(
      `select name from sqlite_schema where type = 'trigger' and instr(sql, :target) > 0`,
      { target: `insert into ${q(names.changelog)} (` },
    );
    return rows.map((r) => String(r.name));
  },

  async changelogExists(connector, names) {
    const { rows } = await connector.rawQuery(
      "select count(*) as n from sqlite_schema where type = 'table' and name = :t",
      { t: names.changelog },
    );
    return Number(rows[0]?.n) > 0;
  },

  /**
   * SQLite has one writer at a time and ids are drawn inside the write transaction, so changelog
   * rows commit in id order: whatever is visible is settled.
   */
  async settle(connector, names) {
    const { rows } = await connector.rawQuery(
      `select cast(max(id) as text) as high from ${q(names.changelog)}`,
    );
    return { high: (rows[0]?.high as string | null) ?? null, running: [] };
  },

  async tag(tx, names, origin) {
    await tx.rawQuery(`insert or replace into ${q(names.origin)} (id, origin) values (1, :origin)`, {
      origin,
    });
  },

  async untag(tx, names) {
    await tx.rawQuery(`delete from ${q(names.origin)}`);
  },

  driverValue(_column, value) {
    // better-sqlite3 (with safe integers) returns numbers, and bigint past 2^53.
    if (value instanceof JsonNumber) {
      if (/^-?\d+$/.test(value.text)) {
        const n = Number(value.text);
        return Number.isSafeInteger(n) ? n : BigInt(value.text);
      }
      return Number(value.text);
    }
    if (value !== null && typeof value === 'object' && '$blob' in value) {
      return Buffer.from(String((value as { $blob: unknown }).$blob), 'hex');
    }
    return value;
  },

  async probe(connector) {
    return connector.capabilities.triggers
      ? { available: true, reason: 'the database file is writable' }
      : { available: false, reason: 'the database file is opened read-only' };
  },
};
