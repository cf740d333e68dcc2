import { createRequire } from 'node:module';
import path from 'node:path';
import mysql from 'mysql2';
import type { Connection } from 'mysql2';
import { connectionOptions, type MysqlTarget } from '../../connectors/mysql/mysql-config.js';

const require = createRequire(import.meta.url);
// mysql2's command and packet classes: the handshake, authentication and packet framing (including
// packets over 16 MB) stay the driver's; only the two replication commands are written here. The
// package's `exports` hide lib/, so they are loaded by file path next to its entry point.
const mysql2Dir = path.dirname(require.resolve('mysql2'));
const Command = require(path.join(mysql2Dir, 'lib/commands/command.js')) as new () => object;
const Packet = require(path.join(mysql2Dir, 'lib/packets/packet.js')) as new (
  id: number,
  buffer: Buffer,
  start: number,
  end: number,
) => { offset: number };

interface DriverPacket {
  buffer: Buffer;
  offset: number;
  end: number;
  isEOF(): boolean;
}

export interface BinlogConnectionOptions {
  target: MysqlTarget;
  serverId: number;
  file: string;
  position: number;
  heartbeatMs: number;
  /** One binlog event, without the protocol's OK byte and without its checksum. */
  onEvent: (event: Buffer) => void;
  /** The stream ended or failed; not called after close(). */
  onFatal: (err: Error) => void;
}

const COM_BINLOG_DUMP = 0x12;
const COM_REGISTER_SLAVE = 0x15;

function rawPacket(body: Buffer): unknown {
  const buffer = Buffer.alloc(4 + body.length);
  body.copy(buffer, 4);
  const packet = new Packet(0, buffer, 0, buffer.length);
  packet.offset = 4 + body.length;
  return packet;
}

/**
 * A replica's session: COM_REGISTER_SLAVE then COM_BINLOG_DUMP from a file and offset, with the
 * checksum the server writes announced (events arrive with it and it is cut off here), a heartbeat
 * period so a silent server is noticed, and MariaDB's GTID capability (GTID events instead of BEGIN
 * queries). The dump command never ends on its own: it is ended by closing the socket.
 */
export class BinlogConnection {
  private conn: Connection | null = null;
  private closed = false;
  private checksumBytes = 0;
  private silenceTimer: NodeJS.Timeout | null = null;
  private thread: number | null = null;
  private paused = false;

  constructor(private readonly options: BinlogConnectionOptions) {}

  /** The server's thread id of the dump session (SHOW PROCESSLIST), null before it connected. */
  get threadId(): number | null {
    return this.thread;
  }

  async start(): Promise<void> {
    const { target } = this.options;
    const conn = mysql.createConnection({ ...connectionOptions(target), database: undefined });
    this.conn = conn;
    conn.on('error', (err) => this.fatal(err));
    const query = (text: string): Promise<Record<string, unknown>[]> =>
      new Promise((resolve, reject) =>
        conn.query(text, (err, rows) => (err ? reject(err) : resolve(rows as Record<string, unknown>[]))),
      );
    const [row] = await query('select @@global.binlog_checksum as checksum');
    const checksum = String(row?.checksum ?? 'NONE').toUpperCase();
    this.checksumBytes = checksum === 'CRC32' ? 4 : 0;
    // Announcing the checksum is required: a server that writes CRC32 refuses a replica that
    // does not say it understands it.
    await query(`set @master_binlog_checksum = '${checksum === 'CRC32' ? 'CRC32' : 'NONE'}'`);
    await query(`set @master_heartbeat_period = ${Math.round(this.options.heartbeatMs * 1e6)}`);
    // MARIA_SLAVE_CAPABILITY_GTID: MariaDB sends its GTID events as they are. MySQL ignores it.
    await query('set @mariadb_slave_capability = 4');
    this.thread = conn.threadId;
    await this.command(this.registerPacket(), false);
    this.armSilence();
    void this.command(this.dumpPacket(), true).then(
      () => this.fatal(new Error('the server ended the binlog stream')),
      (err: Error) => this.fatal(err),
    );
  }

  /** Stops reading the socket (the server then blocks); silence is not a failure meanwhile. */
  pause(): void {
    if (this.closed || !this.conn || this.paused) return;
    this.paused = true;
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    this.silenceTimer = null;
    this.conn.pause();
  }

  resume(): void {
    if (this.closed || !this.conn || !this.paused) return;
    this.paused = false;
    this.armSilence();
    this.conn.resume();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    const conn = this.conn;
    this.conn = null;
    // A dump never answers COM_QUIT, and mysql2's close() only half-closes the socket, which
    // leaves the server's dump thread writing heartbeats into it forever. Destroying the socket
    // makes the server's next write (at the latest the next heartbeat) fail and end the thread.
    const socket = (conn as unknown as { stream?: { destroy(): void } } | null)?.stream;
    conn?.destroy();
    socket?.destroy();
  }

  private fatal(err: Error): void {
    if (this.closed) return;
    void this.close();
    this.options.onFatal(err);
  }

  /** No event, not even a heartbeat, for three periods: the server or the network is gone. */
  private armSilence(): void {
    if (this.closed || this.paused) return;
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    const limit = this.options.heartbeatMs * 3;
    this.silenceTimer = setTimeout(
      () => this.fatal(new Error(`the server sent nothing for ${limit} ms (heartbeat missed)`)),
      limit,
    );
    this.silenceTimer.unref();
  }

  private registerPacket(): unknown {
    const body = Buffer.alloc(1 + 4 + 3 + 2 + 4 + 4);
    body.writeUInt8(COM_REGISTER_SLAVE, 0);
    body.writeUInt32LE(this.options.serverId, 1);
    // empty host, user and password (three zero length bytes), port 0, rank 0, master id 0
    return rawPacket(body);
  }

  private dumpPacket(): unknown {
    const file = Buffer.from(this.options.file, 'utf8');
    const body = Buffer.alloc(1 + 4 + 2 + 4 + file.length);
    body.writeUInt8(COM_BINLOG_DUMP, 0);
    body.writeUInt32LE(this.options.position, 1);
    body.writeUInt16LE(0, 5); // flags: block at the end of the log
    body.writeUInt32LE(this.options.serverId, 7);
    file.copy(body, 11);
    return rawPacket(body);
  }

  /**
   * Sends one command through mysql2's queue. `stream` keeps it reading packets (the dump) until
   * the connection closes; otherwise the first answer (OK) ends it.
   */
  private command(packet: unknown, stream: boolean): Promise<void> {
    const conn = this.conn as unknown as { addCommand(cmd: object): void } | null;
    if (!conn) return Promise.reject(new Error('binlog connection is closed'));
    return new Promise((resolve, reject) => {
      const cmd = new Command() as {
        start?: unknown;
        on(event: string, fn: (arg?: Error) => void): void;
      };
      const read = (p: DriverPacket): unknown => {
        if (!stream) {
          resolve();
          return null;
        }
        if (p.isEOF()) {
          resolve();
          return null;
        }
        this.armSilence();
        // First byte is the OK marker (0x00) in front of every event.
        const event = p.buffer.subarray(p.offset + 1, p.end - this.checksumBytes);
        this.options.onEvent(Buffer.from(event));
        return read;
      };
      cmd.start = (_p: unknown, connection: { writePacket(p: unknown): void }) => {
        connection.writePacket(packet);
        return read;
      };
      cmd.on('error', (err) => reject(err ?? new Error('binlog command failed')));
      conn.addCommand(cmd);
    });
  }
}
