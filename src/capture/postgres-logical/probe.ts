import type { Connector } from '../../connectors/connector.js';
import type { CaptureAvailability } from '../capture-strategy.js';

/** What decides whether logical capture can run on a PostgreSQL source. */
export interface LogicalCaptureFacts {
  walLevel: string;
  /** Superuser, REPLICATION (or rds_replication on RDS): may create slots and open walsender sessions. */
  canReplicate: boolean;
  user: string;
  maxSlots: number;
  usedSlots: number;
  maxWalSenders: number;
  usedWalSenders: number;
  /** server_version_num, e.g. 150020. */
  serverVersion: number;
}

/**
 * The verdict for a set of facts, with a reason a person can act on. Kept apart from the query so
 * every branch can be checked without a server configured that way.
 */
export function logicalAvailability(facts: LogicalCaptureFacts): CaptureAvailability {
  const no = (reason: string): CaptureAvailability => ({ kind: 'logical', available: false, reason });
  if (facts.serverVersion < 100000) {
    return no('PostgreSQL before 10 has no pgoutput logical replication: use triggers');
  }
  if (facts.walLevel !== 'logical') {
    return no(
      `wal_level is ${facts.walLevel}: ask for wal_level=logical (takes a server restart) or use triggers`,
    );
  }
  if (!facts.canReplicate) {
    return no(
      `user "${facts.user}" may not use replication slots: it needs the REPLICATION attribute ` +
        `(ALTER ROLE ... REPLICATION; rds_replication on Amazon RDS) or superuser; or use triggers`,
    );
  }
  if (facts.usedSlots >= facts.maxSlots) {
    return no(
      `all ${facts.maxSlots} replication slots are in use (max_replication_slots): ` +
        'drop an unused one or raise the setting (takes a restart), or use triggers',
    );
  }
  if (facts.usedWalSenders >= facts.maxWalSenders) {
    return no(
      `all ${facts.maxWalSenders} WAL sender connections are in use (max_wal_senders): raise the setting or use triggers`,
    );
  }
  const free = facts.maxSlots - facts.usedSlots;
  const origin =
    facts.serverVersion < 140000 ? '; tagging Braid writes (echo suppression) needs PostgreSQL 14' : '';
  return {
    kind: 'logical',
    available: true,
    reason: `wal_level is logical, ${free} of ${facts.maxSlots} replication slots free${origin}`,
  };
}

/**
 * Whether `connector`'s source can run PostgreSQL logical capture, and why not.
 *
 * @example
 * const availability = await probePostgresLogical(connector);
 * if (!availability.available) console.log(availability.reason); // "wal_level is replica: ask for ..."
 */
export async function probePostgresLogical(connector: Connector): Promise<CaptureAvailability> {
  if (connector.kind !== 'postgres') {
    return { kind: 'logical', available: false, reason: 'logical replication is a PostgreSQL feature' };
  }
  try {
    const { rows } = await connector.rawQuery(
      `select current_setting('wal_level') as wal_level,
              coalesce((select rolsuper or rolreplication from pg_roles where rolname = current_user), false)
                or exists (select 1 from pg_roles r where r.rolname = 'rds_replication'
                             and pg_has_role(current_user, r.oid, 'member')) as can_replicate,
              current_user as "user",
              current_setting('max_replication_slots')::int as max_slots,
              (select count(*)::int from pg_replication_slots) as used_slots,
              current_setting('max_wal_senders')::int as max_wal_senders,
              (select count(*)::int from pg_stat_activity where backend_type = 'walsender') as used_wal_senders,
              current_setting('server_version_num')::int as version`,
    );
    const r = rows[0]!;
    return logicalAvailability({
      walLevel: String(r.wal_level),
      canReplicate: r.can_replicate === true,
      user: String(r.user),
      maxSlots: Number(r.max_slots),
      usedSlots: Number(r.used_slots),
      maxWalSenders: Number(r.max_wal_senders),
      usedWalSenders: Number(r.used_wal_senders),
      serverVersion: Number(r.version),
    });
  } catch (err) {
    return {
      kind: 'logical',
      available: false,
      reason: `could not check the server: ${(err as Error).message}`,
    };
  }
}
