import { randomInt } from 'node:crypto';
import type { Connector, SourceConfig } from '../../connectors/connector.js';
import { createMysqlConnector } from '../../connectors/mysql/index.js';
import { resolveTarget, type MysqlTarget } from '../../connectors/mysql/mysql-config.js';
import { BraidError, badRequest } from '../../model/errors.js';
import type { TableSchema } from '../../model/schema.js';
import type { CaptureStrategy, ChangeHandler } from '../capture-strategy.js';
import { parsePosition, type BinlogPosition } from './binlog-position.js';
import { BinlogRun } from './binlog-run.js';
import { binlogFacts, missingRequirement } from './probe.js';
import { ORIGIN_TABLE, TableDecoder } from './table-decoder.js';

export interface MysqlBinlogCaptureOptions {
  /** Source id, copied into every event. */
  source: string;
  /** Consumer name (a sync rule); binlog capture creates nothing named after it on the server. */
  name: string;
  /** Connection settings of the source, the same ones its connector was created with. */
  config: SourceConfig;
  /** Heartbeat period asked of the server; three missed periods fail the run (default 5 000 ms). */
  heartbeatMs?: number;
}

/** Replica server ids are drawn from this range, far above the ids people give real replicas. */
const SERVER_ID_MIN = 0x40000000;
const SERVER_ID_MAX = 0x7fffffff;

/**
 * Change capture from a MySQL/MariaDB row binlog, read as a replica reads it (COM_REGISTER_SLAVE +
 * COM_BINLOG_DUMP from a file and offset) on a dedicated connection. Needs log_bin, binlog_format=ROW,
 * binlog_row_image=FULL and a user with REPLICATION SLAVE and REPLICATION CLIENT (see probeMysqlBinlog).
 *
 * - `install(tables)` checks those requirements (refusing with the fix to apply) and creates the
 *   small `braid_origin` marker table in the source database; it hands over the introspected tables
 *   the values are decoded with, so call it in every process before `start`.
 * - `start(from, handler)` delivers each committed transaction's events of those tables in one
 *   handler call, in commit order, with wire values identical to the connector's select(),
 *   `position` = binlog file + transaction offset + index (sortable as text), `commitTime` from the
 *   commit event. `from` null starts at the current end of the binlog.
 * - The position (lastPosition) advances only after the handler resolved; a handler that throws
 *   ends the run (`done` rejects) and the same events come again when started from lastPosition.
 * - `withOrigin` writes a row of `braid_origin` in the transaction: the stream sees it in the same
 *   transaction and tags every event of it with the origin.
 *
 * @example
 * const capture = new MysqlBinlogCapture({ source: 'shop', name: 'sync_customers', config });
 * await capture.install([customers]);
 * const run = await capture.start(storedPosition, async (events) => {
 *   for (const e of events) if (e.origin !== 'sync_customers') await apply(e);
 *   await savePosition(events.at(-1)!.position);
 * });
 * // ... later
 * await run.stop();
 */
/** The marker column holds 191 characters: the origin, '#' and up to two digits. */
const MAX_ORIGIN_LENGTH = 188;

export class MysqlBinlogCapture implements CaptureStrategy {
  readonly kind = 'binlog' as const;
  readonly name: string;
  private readonly target: MysqlTarget;
  private readonly database: string;
  private tables: TableSchema[] = [];
  private readonly runs = new Set<BinlogRun>();

  constructor(private readonly options: MysqlBinlogCaptureOptions) {
    this.name = options.name;
    this.target = resolveTarget(options.config);
    if (!this.target.database) {
      throw badRequest('invalid_config', 'binlog capture needs the source config to name its database');
    }
    this.database = this.target.database;
  }

  async install(tables: TableSchema[]): Promise<void> {
    if (tables.length === 0) throw badRequest('invalid_tables', 'capture needs at least one table');
    await this.withConnector(async (connector) => {
      const missing = missingRequirement(await binlogFacts(connector));
      if (missing) throw new BraidError(400, 'capture_unavailable', `binlog capture cannot run: ${missing}`);
      // One row per origin, bumped by every tagged transaction: the smallest write that puts the
      // origin into the transaction's row events.
      await connector.rawQuery(
        `create table if not exists \`${ORIGIN_TABLE}\` (origin varchar(191) not null primary key, ` +
          'seq bigint unsigned not null default 1) engine=InnoDB',
      );
    });
    this.tables = [...tables];
  }

  /**
   * Nothing to drop: the binlog belongs to the server and keeps no per-reader state. The
   * `braid_origin` table stays: other captures of the same database may still write to it. Stops
   * this instance's runs.
   */
  async uninstall(): Promise<void> {
    await Promise.all([...this.runs].map((run) => run.stop().catch(() => {})));
  }

  /**
   * Starts reading after `from` (or at the current end of the binlog when null). Fails with
   * `capture_position_lost` when the binlog file of `from` was purged: a reconcile is needed.
   */
  async start(from: string | null, handler: ChangeHandler): Promise<BinlogRun> {
    const fromPosition = from === null ? null : parsePosition(from);
    if (this.tables.length === 0) {
      throw new BraidError(409, 'capture_not_installed', 'install the binlog capture before starting it');
    }
    const begin = await this.withConnector((connector) => startPoint(connector, fromPosition));
    const run = new BinlogRun({
      target: this.target,
      decoder: new TableDecoder(this.options.source, this.database, this.tables),
      handler,
      // Random per run: two readers with one server id make the server drop the older one.
      serverId: randomInt(SERVER_ID_MIN, SERVER_ID_MAX),
      heartbeatMs: this.options.heartbeatMs ?? 5_000,
      file: begin.file,
      offset: begin.offset,
      from: fromPosition,
      fromText: from,
    });
    try {
      await run.start();
    } catch (err) {
      await run.stop().catch(() => {});
      throw err instanceof BraidError
        ? err
        : new BraidError(
            502,
            'capture_stream_failed',
            `Could not start the binlog stream: ${(err as Error).message}`,
            {},
            { cause: err },
          );
    }
    this.runs.add(run);
    const forget = (): boolean => this.runs.delete(run);
    run.done.then(forget, forget);
    return run;
  }

  /**
   * Runs `fn` in one transaction that first bumps a `braid_origin` row of `origin`. The row change
   * is in the binlog inside the same transaction, so every event of it carries `origin`, and a
   * rollback removes the marker with the rest. The row is `<origin>#<connection id mod 64>`: two
   * concurrent transactions run on two connections, so they do not queue on one row's lock (the
   * sync engine writes with several at once), and an origin never has more than 64 rows.
   */
  async withOrigin<T>(connector: Connector, origin: string, fn: (tx: Connector) => Promise<T>): Promise<T> {
    if (origin.length === 0 || origin.length > MAX_ORIGIN_LENGTH) {
      throw badRequest('invalid_origin', `origin must be 1 to ${MAX_ORIGIN_LENGTH} characters`);
    }
    return connector.transaction(async (tx) => {
      await tx.rawQuery(
        `insert into \`${ORIGIN_TABLE}\` (origin, seq) values (concat(:origin, '#', connection_id() % 64), 1) ` +
          'on duplicate key update seq = seq + 1',
        { origin },
      );
      return fn(tx);
    });
  }

  private async withConnector<T>(fn: (connector: Connector) => Promise<T>): Promise<T> {
    const connector = createMysqlConnector(this.options.config);
    try {
      return await fn(connector);
    } finally {
      await connector.close();
    }
  }
}

/** Where the dump begins: `from`'s transaction (its file must still exist), or the binlog's end. */
async function startPoint(
  connector: Connector,
  from: BinlogPosition | null,
): Promise<{ file: string; offset: number }> {
  if (from) {
    const logs = (await connector.rawQuery('show binary logs')).rows.map((r) => String(r.Log_name));
    if (!logs.includes(from.file)) {
      throw new BraidError(
        410,
        'capture_position_lost',
        `The binlog file ${from.file} of the stored position was purged from the server: changes since ` +
          'then are lost to capture; reconcile the tables, then start from the current end (from = null)',
        { file: from.file, oldest: logs[0] ?? null },
      );
    }
    return { file: from.file, offset: from.offset };
  }
  // MySQL 8.4 renamed the statement; MariaDB and older MySQL know only the first name.
  const status = await connector
    .rawQuery('show master status')
    .catch(() => connector.rawQuery('show binary log status'));
  const row = status.rows[0];
  if (!row) throw new BraidError(400, 'capture_unavailable', 'binlog capture cannot run: log_bin is OFF');
  return { file: String(row.File), offset: Number(row.Position) };
}
