import pg from 'pg';
import type { ResolvedPostgresConfig } from '../../connectors/postgres/postgres-config.js';
import { translatePostgresError } from '../../connectors/postgres/postgres-errors.js';
import { quoteIdentifier } from '../../connectors/postgres/postgres-types.js';
import { BraidError, badRequest } from '../../model/errors.js';
import type { TableSchema } from '../../model/schema.js';
import { parseLsn } from './lsn.js';

/**
 * The SQL side of logical capture: the publication and slot a consumer owns, the replica identity
 * check, and what a stream needs to know before it starts. Each call opens one short-lived plain
 * session (never the source's pool: installing can wait on the server, and uninstall must work
 * while the rest of Braid is shutting down).
 */

/** Slot creation waits until transactions running on the server have ended; bounded by this. */
const CREATE_SLOT_TIMEOUT_MS = 60_000;

/** Runs `fn` on a fresh session; driver errors become BraidErrors labelled with `what`. */
export async function withAdminClient<T>(
  config: ResolvedPostgresConfig,
  what: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client(config.client);
  client.on('error', () => {}); // the statement in flight receives the error anyway
  try {
    await client.connect();
    return await fn(client);
  } catch (err) {
    throw translatePostgresError(err, what, [], {
      target: config.target,
      secrets: config.secrets,
      timeoutMs: config.timeoutMs,
    });
  } finally {
    await client.end().catch(() => {});
  }
}

function qualified(table: TableSchema): string {
  return `${quoteIdentifier(table.schema ?? 'public')}.${quoteIdentifier(table.name)}`;
}

interface IdentityRow {
  relkind: string | null;
  relreplident: string | null;
  has_pk: boolean;
}

/**
 * Refuses tables whose updates and deletes logical decoding cannot describe: no primary key with
 * REPLICA IDENTITY DEFAULT (or NOTHING) logs no old key at all. Worse, once such a table is in a
 * publication that publishes updates, PostgreSQL rejects every UPDATE and DELETE on it, for every
 * client: installing must never do that to the other tools of the database.
 */
export async function checkReplicaIdentity(client: pg.Client, tables: readonly TableSchema[]): Promise<void> {
  const problems: string[] = [];
  for (const table of tables) {
    const { rows } = await client.query<IdentityRow>(
      `select c.relkind, c.relreplident,
              exists (select 1 from pg_index i where i.indrelid = c.oid and i.indisprimary) as has_pk
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = $1 and c.relname = $2`,
      [table.schema ?? 'public', table.name],
    );
    const row = rows[0];
    const name = qualified(table);
    if (!row) throw new BraidError(404, 'not_found', `table ${name} was not found`, { table: table.name });
    if (row.relkind !== 'r' && row.relkind !== 'p') {
      problems.push(`${name} is not a table (views cannot be captured from the log)`);
    } else if (row.relreplident === 'n' || (row.relreplident === 'd' && !row.has_pk)) {
      const identity = row.relreplident === 'n' ? 'NOTHING' : 'DEFAULT';
      problems.push(
        `${name} has ${row.has_pk ? 'a primary key but' : 'no primary key and'} REPLICA IDENTITY ${identity}, ` +
          'so PostgreSQL logs no old row or key for its updates and deletes (they could not be captured, and ' +
          'once the table is published PostgreSQL would refuse UPDATE and DELETE on it for every client). ' +
          `Fix: add a primary key, or run ALTER TABLE ${name} REPLICA IDENTITY FULL ` +
          '(logs the whole old row with each change)',
      );
    }
  }
  if (problems.length > 0) {
    throw badRequest('replica_identity_missing', `Cannot capture changes: ${problems.join('; ')}.`, {
      tables: tables.map((t) => t.name),
    });
  }
}

/**
 * Creates the publication for exactly `tables`, or sets its table list when it exists. Changes of
 * a partitioned table are published under its own name rather than its partitions' (PostgreSQL
 * 13+), so events name the table that was installed.
 */
export async function ensurePublication(
  client: pg.Client,
  publication: string,
  tables: readonly TableSchema[],
): Promise<void> {
  const name = quoteIdentifier(publication);
  const list = tables.map(qualified).join(', ');
  const { rows } = await client.query<{ exists: boolean; version: number }>(
    `select exists (select 1 from pg_publication where pubname = $1) as exists,
            current_setting('server_version_num')::int as version`,
    [publication],
  );
  const viaRoot = rows[0]!.version >= 130000;
  try {
    if (rows[0]!.exists) await client.query(`alter publication ${name} set table ${list}`);
    else
      await client.query(
        `create publication ${name} for table ${list}${viaRoot ? ' with (publish_via_partition_root = true)' : ''}`,
      );
  } catch (err) {
    // Another installer created it between the check and the create: set its tables instead.
    if ((err as { code?: string }).code !== '42710') throw err;
    await client.query(`alter publication ${name} set table ${list}`);
  }
}

/**
 * Creates the pgoutput slot unless it exists. Made after the publication: a slot older than its
 * publication would decode WAL from before it, where the publication does not exist yet.
 */
export async function ensureSlot(client: pg.Client, slot: string): Promise<void> {
  const { rows } = await client.query<{ plugin: string; same_db: boolean }>(
    `select plugin, database = current_database() as same_db from pg_replication_slots where slot_name = $1`,
    [slot],
  );
  const existing = rows[0];
  if (existing) {
    if (existing.plugin !== 'pgoutput' || !existing.same_db) {
      throw new BraidError(
        409,
        'capture_conflict',
        `A replication slot "${slot}" exists that Braid did not create here (plugin ${existing.plugin}): drop it or choose another name`,
      );
    }
    return;
  }
  await client.query(`set statement_timeout = ${CREATE_SLOT_TIMEOUT_MS}`);
  try {
    await client.query(`select pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === '42710') return; // created concurrently by another installer
    if (code === '57014') {
      throw new BraidError(
        504,
        'capture_install_timeout',
        `Creating the replication slot "${slot}" waits until the transactions running on the server end; ` +
          `one stayed open longer than ${CREATE_SLOT_TIMEOUT_MS / 1000} s (see pg_stat_activity) — try again later`,
        undefined,
        { cause: err },
      );
    }
    throw err;
  }
}

/**
 * Drops the slot, terminating the walsender that streams it if there is one (a run of a crashed
 * process may hold it until TCP notices), then the publication. Missing objects are fine.
 */
export async function dropCaptureObjects(
  client: pg.Client,
  slot: string,
  publication: string,
): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const { rows } = await client.query<{ active_pid: number | null }>(
      'select active_pid from pg_replication_slots where slot_name = $1',
      [slot],
    );
    if (rows.length === 0) break;
    const pid = rows[0]!.active_pid;
    if (pid !== null) {
      await client.query('select pg_terminate_backend($1)', [pid]);
    } else {
      try {
        await client.query('select pg_drop_replication_slot($1)', [slot]);
        break;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === '42704') break; // dropped meanwhile
        if (code !== '55006') throw err; // 55006: became active again between the check and the drop
      }
    }
    if (Date.now() > deadline) {
      throw new BraidError(
        409,
        'capture_busy',
        `The replication slot "${slot}" stays in use (pid ${pid}); it was not dropped`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await client.query(`drop publication if exists ${quoteIdentifier(publication)}`);
}

/** What a stream needs before it starts. */
export interface StreamFacts {
  confirmedFlush: bigint;
  serverVersion: number;
  /** Domain type OID -> built-in base type OID (through nested domains). */
  domainBase: Map<number, number>;
}

export async function streamFacts(client: pg.Client, slot: string): Promise<StreamFacts> {
  const { rows } = await client.query<{ confirmed: string | null; version: number }>(
    `select (select confirmed_flush_lsn::text from pg_replication_slots where slot_name = $1) as confirmed,
            current_setting('server_version_num')::int as version`,
    [slot],
  );
  const facts = rows[0]!;
  if (facts.confirmed === null) {
    throw new BraidError(
      409,
      'capture_not_installed',
      `The replication slot "${slot}" does not exist: install the capture (changes made while it was missing are not in the log for it)`,
    );
  }
  const domains = await client.query<{ oid: number; base: number }>(
    `with recursive d(oid, base) as (
       select oid, typbasetype from pg_type where typtype = 'd'
       union all
       select d.oid, t.typbasetype from d join pg_type t on t.oid = d.base where t.typtype = 'd')
     select oid::int as oid, base::int as base from d
      where base not in (select oid from pg_type where typtype = 'd')`,
  );
  return {
    confirmedFlush: parseLsn(facts.confirmed),
    serverVersion: facts.version,
    domainBase: new Map(domains.rows.map((r) => [r.oid, r.base])),
  };
}
