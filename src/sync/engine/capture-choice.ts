import type { CaptureAvailability, CaptureKind, CaptureStrategy } from '../../capture/capture-strategy.js';
import { MysqlBinlogCapture, probeMysqlBinlog } from '../../capture/mysql-binlog/index.js';
import { SnapshotDiffCapture, probePollingCapture } from '../../capture/polling/index.js';
import { PostgresLogicalCapture, probePostgresLogical } from '../../capture/postgres-logical/index.js';
import { TriggerCapture, probeTriggerCapture } from '../../capture/triggers/index.js';
import type { Connector } from '../../connectors/connector.js';
import { badRequest } from '../../model/errors.js';
import type { TableSchema } from '../../model/schema.js';
import type { SourceConfig } from '../../model/source.js';
import type { CaptureChoice } from '../sync-rule.js';

/** Best first: log-based capture sees every change with little load; polling is the last resort. */
export const CAPTURE_ORDER: readonly CaptureKind[] = ['logical', 'binlog', 'triggers', 'polling'];

/** The strategy picked for one member, and why (every probe's answer, for the status). */
export interface CaptureSelection {
  kind: CaptureKind;
  reason: string;
  probes: CaptureAvailability[];
}

export interface MemberSource {
  sourceId: string;
  connector: Connector;
  config: SourceConfig;
  table: TableSchema;
}

/**
 * The capture objects' name for one member: `s<short sync id>_m<index>`. Strategies prefix it with
 * `braid_`; trigger capture allows 40 characters and replication slots 63, so the sync id is cut to
 * 16 characters (letters and digits only, lower case: slot names allow nothing else).
 */
export function captureName(syncId: string, member: number): string {
  const short = syncId
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 16);
  return `s${short}_m${member}`;
}

async function probe(
  kind: CaptureKind,
  source: MemberSource,
  pollingDir: string | null,
): Promise<CaptureAvailability> {
  const { connector, table } = source;
  switch (kind) {
    case 'logical':
      return connector.kind === 'postgres'
        ? probePostgresLogical(connector)
        : { kind, available: false, reason: 'logical replication is a PostgreSQL feature' };
    case 'binlog':
      return probeMysqlBinlog(connector);
    case 'triggers':
      return probeTriggerCapture(connector, [table]);
    case 'polling':
      return pollingDir === null
        ? { kind, available: false, reason: 'the engine was given no directory for polling snapshots' }
        : probePollingCapture(connector);
  }
}

/**
 * Picks the member's strategy: the rule's choice when it names one (refused with the probe's reason
 * when it cannot run), else the first available in CAPTURE_ORDER. The reason says why the better
 * ones were passed over ("logical: wal_level is replica; using triggers").
 */
export async function selectCapture(
  choice: CaptureChoice,
  source: MemberSource,
  pollingDir: string | null,
): Promise<CaptureSelection> {
  const kinds = choice === 'auto' ? CAPTURE_ORDER : [choice];
  const probes: CaptureAvailability[] = [];
  for (const kind of kinds) {
    const answer = await probe(kind, source, pollingDir);
    probes.push(answer);
    if (!answer.available) continue;
    const passed = probes.filter((p) => !p.available).map((p) => `${p.kind}: ${p.reason}`);
    const why = choice === 'auto' ? `using ${kind}` : `using ${kind} (chosen by the rule)`;
    return {
      kind,
      probes,
      reason: passed.length ? `${passed.join('; ')}: ${why}` : `${answer.reason}: ${why}`,
    };
  }
  throw badRequest(
    'capture_unavailable',
    `no capture strategy can run on table "${source.table.name}" of source "${source.sourceId}": ${probes
      .map((p) => `${p.kind}: ${p.reason}`)
      .join('; ')}`,
    { probes },
  );
}

/** Builds the strategy object; it creates nothing on the source until install(). */
export function createCapture(
  kind: CaptureKind,
  name: string,
  source: MemberSource,
  pollingDir: string | null,
): CaptureStrategy {
  const common = { source: source.sourceId, name };
  switch (kind) {
    case 'logical':
      return new PostgresLogicalCapture({ ...common, config: source.config });
    case 'binlog':
      return new MysqlBinlogCapture({ ...common, config: source.config });
    case 'triggers':
      return new TriggerCapture({ ...common, connector: source.connector, pollIntervalMs: 50 });
    case 'polling':
      return new SnapshotDiffCapture({
        ...common,
        connector: source.connector,
        directory: pollingDir ?? '.',
        pollIntervalMs: 1_000,
      });
  }
}
