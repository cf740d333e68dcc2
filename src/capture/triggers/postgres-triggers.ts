import type { Connector } from '../../connectors/connector.js';
import { qualifiedName, type ColumnSchema } from '../../model/schema.js';
import { JsonNumber } from './lossless-json.js';
import { sqlString, type CaptureNames, type TriggerDialect } from './trigger-dialect.js';

const q = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const inSchema = (names: CaptureNames, object: string): string =>
  names.schema ? `${q(names.schema)}.${q(object)}` : q(object);

/**
 * PostgreSQL: one plpgsql function per consumer, called by three AFTER ... FOR EACH ROW triggers per
 * table with the table's name and key columns as arguments. Images are `row_to_json`, whose text
 * forms (ISO timestamps with offsets, `\x` bytea, exact numerics) the connector's codec reads.
 * `now()` is the writing transaction's start time: the closest to a commit time a trigger can see.
 *
 * SECURITY DEFINER: triggers run as the user who writes, and another tool's user must not need
 * privileges on Braid's changelog for its own writes to succeed; the pinned search_path keeps the
 * function from resolving names through a schema that user controls.
 */
function functionSql(names: CaptureNames): string {
  return `create or replace function ${inSchema(names, names.helper)}() returns trigger language plpgsql
  security definer set search_path = pg_catalog, pg_temp as $braid$
declare
  img jsonb;
  k jsonb := '{}';
begin
  if tg_op = 'DELETE' then img := to_jsonb(old); else img := to_jsonb(new); end if;
  for i in 1 .. tg_nargs - 1 loop
    k := k || jsonb_build_object(tg_argv[i], img -> tg_argv[i]);
  end loop;
  insert into ${inSchema(names, names.changelog)} (table_name, op, row_key, old_row, new_row, origin)
  values (tg_argv[0], lower(tg_op), k::text,
    case when tg_op <> 'INSERT' then row_to_json(old)::text end,
    case when tg_op <> 'DELETE' then row_to_json(new)::text end,
    nullif(current_setting('braid.origin', true), ''));
  return null;
end
$braid$`;
}

const EVENTS = [
  ['ins', 'insert'],
  ['upd', 'update'],
  ['del', 'delete'],
] as const;

async function triggersOf(
  connector: Connector,
  names: CaptureNames,
): Promise<{ name: string; table: string }[]> {
  const { rows } = await connector.rawQuery(
    `select t.tgname as name, format('%I.%I', n.nspname, c.relname) as tbl
       from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
      where not t.tgisinternal and t.tgfoid = to_regprocedure(:fn)`,
    { fn: `${inSchema(names, names.helper)}()` },
  );
  return rows.map((r) => ({ name: String(r.name), table: String(r.tbl) }));
}

export const postgresTriggers: TriggerDialect = {
  changelogSql: (names) => inSchema(names, names.changelog),

  async install(connector, names, tables) {
    await connector.transaction(async (tx) => {
      await tx.rawQuery(
        `create table if not exists ${inSchema(names, names.changelog)} (
          id bigint generated always as identity primary key,
          table_name text not null, op text not null,
          row_key text, old_row text, new_row text,
          commit_time timestamptz not null default now(), origin text)`,
      );
      await tx.rawQuery(functionSql(names));
      // Replace, not add: a table left out of the list must lose its triggers.
      for (const old of await triggersOf(tx, names))
        await tx.rawQuery(`drop trigger ${q(old.name)} on ${old.table}`);
      for (const table of tables) {
        const target = table.schema ? `${q(table.schema)}.${q(table.name)}` : q(table.name);
        const args = [qualifiedName(table, connector.defaultSchema), ...table.primaryKey].map((a) =>
          sqlString(a),
        );
        for (const [suffix, op] of EVENTS) {
          await tx.rawQuery(
            `create trigger ${q(names.trigger(table, suffix))} after ${op} on ${target} for each row execute function ${inSchema(names, names.helper)}(${args.join(', ')})`,
          );
        }
      }
    });
  },

  async uninstall(connector, names) {
    await connector.transaction(async (tx) => {
      const fn = await tx.rawQuery('select to_regprocedure(:fn) is not null as present', {
        fn: `${inSchema(names, names.helper)}()`,
      });
      // Dropping the function with cascade takes every trigger that calls it, wherever it is.
      if (fn.rows[0]?.present) await tx.rawQuery(`drop function ${inSchema(names, names.helper)}() cascade`);
      await tx.rawQuery(`drop table if exists ${inSchema(names, names.changelog)}`);
    });
  },

  async listTriggers(connector, names) {
    const fn = await connector.rawQuery('select to_regprocedure(:fn) is not null as present', {
      fn: `${inSchema(names, names.helper)}()`,
    });
    return fn.rows[0]?.present ? (await triggersOf(connector, names)).map((t) => t.name) : [];
  },

  async changelogExists(connector, names) {
    const { rows } = await connector.rawQuery('select to_regclass(:t) is not null as present', {
      t: inSchema(names, names.changelog),
    });
    return rows[0]?.present === true;
  },

  /**
   * A transaction that inserted into the changelog holds a RowExclusiveLock on it until it ends,
   * taken before its identity value is drawn: the lock holders are exactly the writers that may
   * still commit an id at or below the highest visible one.
   */
  async settle(connector, names) {
    return connector.transaction(async (tx) => {
      const high = await tx.rawQuery(`select max(id)::text as high from ${inSchema(names, names.changelog)}`);
      const locks = await tx.rawQuery(
        `select distinct virtualtransaction as vxid from pg_locks
          where relation = to_regclass(:t) and mode = 'RowExclusiveLock' and pid <> pg_backend_pid()`,
        { t: inSchema(names, names.changelog) },
      );
      return {
        high: (high.rows[0]?.high as string | null) ?? null,
        running: locks.rows.map((r) => String(r.vxid)),
      };
    });
  },

  async tag(tx, _names, origin) {
    // Local to the transaction: it disappears with COMMIT or ROLLBACK, so a pooled session is clean.
    await tx.rawQuery("select set_config('braid.origin', :origin, true)", { origin });
  },

  async untag() {},

  driverValue(_column: ColumnSchema, value: unknown): unknown {
    // node-postgres hands numbers of int8/numeric as text too: the codec takes the exact spelling.
    if (value instanceof JsonNumber) return value.text;
    return value;
  },

  async probe(connector, tables) {
    const { rows } = await connector.rawQuery(
      `select has_schema_privilege(coalesce(:schema, current_schema()), 'CREATE') as can_create`,
      { schema: connector.defaultSchema },
    );
    if (!rows[0]?.can_create) {
      return {
        available: false,
        reason: 'the user may not CREATE in the schema (needed for the changelog table and trigger function)',
      };
    }
    for (const table of tables) {
      const target = table.schema ? `${q(table.schema)}.${q(table.name)}` : q(table.name);
      const { rows: privilege } = await connector.rawQuery(
        "select has_table_privilege(:t, 'TRIGGER') as can_trigger",
        { t: target },
      );
      if (!privilege[0]?.can_trigger) {
        return { available: false, reason: `the user lacks the TRIGGER privilege on "${table.name}"` };
      }
    }
    return { available: true, reason: 'Braid may create the changelog, function and triggers' };
  },
};
