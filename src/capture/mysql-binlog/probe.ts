import type { Connector } from '../../connectors/connector.js';
import type { CaptureAvailability } from '../capture-strategy.js';

/** What decides whether binlog capture can run on a MySQL/MariaDB source. */
export interface BinlogCaptureFacts {
  logBin: boolean;
  binlogFormat: string;
  binlogRowImage: string;
  /** May read the binlog as a replica (REPLICATION SLAVE). */
  canReplicate: boolean;
  /** May ask where the binlog ends (REPLICATION CLIENT; BINLOG MONITOR on MariaDB 10.5+). */
  canMonitor: boolean;
  user: string;
}

/** The first requirement that fails, as a sentence naming the fix; null when all are met. */
export function missingRequirement(facts: BinlogCaptureFacts): string | null {
  if (!facts.logBin) {
    return 'log_bin is OFF: set log_bin and binlog_format=ROW (server restart) or use triggers';
  }
  if (facts.binlogFormat.toUpperCase() !== 'ROW') {
    return `binlog_format is ${facts.binlogFormat}: set binlog_format=ROW (SET GLOBAL binlog_format=ROW and in the server config) or use triggers`;
  }
  if (facts.binlogRowImage.toUpperCase() !== 'FULL') {
    return `binlog_row_image is ${facts.binlogRowImage}: set binlog_row_image=FULL (SET GLOBAL and in the server config) or use triggers`;
  }
  const missing = [
    ...(facts.canReplicate ? [] : ['REPLICATION SLAVE']),
    ...(facts.canMonitor ? [] : ['REPLICATION CLIENT']),
  ];
  if (missing.length > 0) {
    return (
      `user ${facts.user} lacks ${missing.join(' and ')}: ` +
      `GRANT ${missing.join(', ')} ON *.* TO ${facts.user} (BINLOG MONITOR is the MariaDB 10.5+ name of REPLICATION CLIENT), or use triggers`
    );
  }
  return null;
}

/** Grants that include a privilege: ALL PRIVILEGES ON *.*, or the privilege itself on *.*. */
function granted(grants: string[], privilege: RegExp): boolean {
  return grants.some(
    (g) => / ON \*\.\* /i.test(g) && (/GRANT ALL PRIVILEGES/i.test(g) || privilege.test(g.split(' ON ')[0]!)),
  );
}

/** Reads the facts with the connector's own user. */
export async function binlogFacts(connector: Connector): Promise<BinlogCaptureFacts> {
  const { rows } = await connector.rawQuery(
    `select @@global.log_bin as log_bin, @@global.binlog_format as binlog_format,
            @@global.binlog_row_image as binlog_row_image, current_user() as user`,
  );
  const r = rows[0]!;
  const grants = (await connector.rawQuery('show grants')).rows.map((g) => String(Object.values(g)[0]));
  return {
    logBin: Number(r.log_bin) === 1 || String(r.log_bin).toUpperCase() === 'ON',
    binlogFormat: String(r.binlog_format),
    binlogRowImage: String(r.binlog_row_image),
    canReplicate: granted(grants, /REPLICATION SLAVE|REPLICATION REPLICA/i),
    canMonitor: granted(grants, /REPLICATION CLIENT|BINLOG MONITOR|SUPER/i),
    user: String(r.user).replace(/^([^@]*)@(.*)$/, "'$1'@'$2'"),
  };
}

/**
 * Whether `connector`'s source can run binlog capture, and why not, in words a person can act on.
 *
 * @example
 * const availability = await probeMysqlBinlog(connector);
 * if (!availability.available) console.log(availability.reason); // "log_bin is OFF: set log_bin ..."
 */
export async function probeMysqlBinlog(connector: Connector): Promise<CaptureAvailability> {
  if (connector.kind !== 'mysql') {
    return { kind: 'binlog', available: false, reason: 'the binlog is a MySQL/MariaDB feature' };
  }
  try {
    const missing = missingRequirement(await binlogFacts(connector));
    if (missing) return { kind: 'binlog', available: false, reason: missing };
    return {
      kind: 'binlog',
      available: true,
      reason: 'log_bin is ON with binlog_format=ROW and binlog_row_image=FULL, and the user may replicate',
    };
  } catch (err) {
    return {
      kind: 'binlog',
      available: false,
      reason: `could not check the server: ${(err as Error).message}`,
    };
  }
}
