import { BraidError } from '../../model/errors.js';

/**
 * Decoding of the binlog events a row-capture needs (binlog version 4, MySQL 5.6+ and MariaDB
 * 10.x). Everything else (DDL queries, annotations, previous-GTID lists...) is reported as `other`.
 * Reference: MySQL's `libbinlogevents` and MariaDB's `log_event.h`.
 */

/** Event type codes used here. */
export const EventType = {
  QUERY: 2,
  ROTATE: 4,
  FORMAT_DESCRIPTION: 15,
  XID: 16,
  TABLE_MAP: 19,
  WRITE_ROWS_V1: 23,
  UPDATE_ROWS_V1: 24,
  DELETE_ROWS_V1: 25,
  HEARTBEAT: 27,
  WRITE_ROWS_V2: 30,
  UPDATE_ROWS_V2: 31,
  DELETE_ROWS_V2: 32,
  MYSQL_GTID: 33,
  MYSQL_ANONYMOUS_GTID: 34,
  MARIADB_GTID: 162,
} as const;

export interface EventHeader {
  /** Seconds since the epoch, when the statement (for row events: the transaction) ran. */
  timestamp: number;
  type: number;
  serverId: number;
  size: number;
  /** Offset of the next event in the file; 0 for the artificial events a dump begins with. */
  nextPosition: number;
}

export interface TableMap {
  tableId: number;
  database: string;
  table: string;
  types: number[];
  metadata: number[];
}

export type RowsKind = 'insert' | 'update' | 'delete';

export type BinlogEvent =
  | { kind: 'rotate'; file: string; position: number }
  | { kind: 'begin' }
  | { kind: 'commit' }
  | { kind: 'tableMap'; map: TableMap }
  | { kind: 'rows'; op: RowsKind; tableId: number; body: Buffer; offset: number }
  | { kind: 'heartbeat' }
  | { kind: 'other' };

/** A little-endian cursor over one event body. */
export class ByteReader {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
  ) {}
  u8(): number {
    return this.buf.readUInt8(this.pos++);
  }
  u16(): number {
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  uint(bytes: number): number {
    const v = this.buf.readUIntLE(this.pos, bytes);
    this.pos += bytes;
    return v;
  }
  bytes(n: number): Buffer {
    const v = this.buf.subarray(this.pos, this.pos + n);
    if (v.length < n) throw new Error('binlog: event ends early');
    this.pos += n;
    return v;
  }
  /** Length-encoded integer of the client/server protocol. */
  lenenc(): number {
    const first = this.u8();
    if (first < 0xfb) return first;
    if (first === 0xfc) return this.uint(2);
    if (first === 0xfd) return this.uint(3);
    if (first === 0xfe) return Number(this.bytes(8).readBigUInt64LE());
    throw new Error(`binlog: bad length-encoded integer 0x${first.toString(16)}`);
  }
}

export function parseHeader(event: Buffer): EventHeader {
  return {
    timestamp: event.readUInt32LE(0),
    type: event.readUInt8(4),
    serverId: event.readUInt32LE(5),
    size: event.readUInt32LE(9),
    nextPosition: event.readUInt32LE(13),
  };
}

const HEADER = 19;
/** MySQL's TRANSACTION_PAYLOAD (40) and MariaDB's compressed query and row events (165-171). */
const COMPRESSED = new Set([40, 165, 166, 167, 168, 169, 170, 171]);
const ROWS: Record<number, { op: RowsKind; v2: boolean }> = {
  [EventType.WRITE_ROWS_V1]: { op: 'insert', v2: false },
  [EventType.UPDATE_ROWS_V1]: { op: 'update', v2: false },
  [EventType.DELETE_ROWS_V1]: { op: 'delete', v2: false },
  [EventType.WRITE_ROWS_V2]: { op: 'insert', v2: true },
  [EventType.UPDATE_ROWS_V2]: { op: 'update', v2: true },
  [EventType.DELETE_ROWS_V2]: { op: 'delete', v2: true },
};

/**
 * The body of one event (`event` without the checksum, which the caller removed). Table ids are
 * 6 bytes, as in every binlog written by MySQL 5.1+ and MariaDB.
 */
export function parseEvent(header: EventHeader, event: Buffer): BinlogEvent {
  const r = new ByteReader(event, HEADER);
  switch (header.type) {
    case EventType.ROTATE: {
      const position = Number(r.bytes(8).readBigUInt64LE());
      return { kind: 'rotate', position, file: event.subarray(r.pos).toString('utf8') };
    }
    case EventType.MARIADB_GTID: {
      // seq_no(8) domain_id(4) flags(1): FL_STANDALONE (1) marks DDL, which has no COMMIT.
      const flags = event.readUInt8(HEADER + 12);
      return flags & 1 ? { kind: 'other' } : { kind: 'begin' };
    }
    case EventType.MYSQL_GTID:
    case EventType.MYSQL_ANONYMOUS_GTID:
      // MySQL follows with a QUERY "BEGIN" (or the DDL), which opens the transaction.
      return { kind: 'other' };
    case EventType.QUERY:
      return queryEvent(r);
    case EventType.XID:
      return { kind: 'commit' };
    case EventType.TABLE_MAP:
      return { kind: 'tableMap', map: tableMap(r) };
    case EventType.HEARTBEAT:
      return { kind: 'heartbeat' };
    default: {
      const rows = ROWS[header.type];
      if (COMPRESSED.has(header.type)) {
        // Skipping them would silently lose changes: refuse instead (not acknowledged).
        throw new BraidError(
          501,
          'capture_unsupported_event',
          `the binlog holds compressed events (type ${header.type}): turn off log_bin_compress (MariaDB) or ` +
            'binlog_transaction_compression (MySQL), or use triggers',
          { type: header.type },
        );
      }
      if (!rows) return { kind: 'other' };
      const tableId = r.uint(6);
      r.u16(); // flags
      if (rows.v2) r.bytes(r.u16() - 2); // extra data, length includes itself
      return { kind: 'rows', op: rows.op, tableId, body: event, offset: r.pos };
    }
  }
}

function queryEvent(r: ByteReader): BinlogEvent {
  r.uint(4); // thread id
  r.uint(4); // execution time
  const schemaLength = r.u8();
  r.u16(); // error code
  const statusLength = r.u16();
  r.bytes(statusLength);
  r.bytes(schemaLength + 1);
  const query = r.buf.subarray(r.pos).toString('utf8').trim().toUpperCase();
  if (query === 'BEGIN') return { kind: 'begin' };
  // Non-transactional engines (MyISAM) end their "transaction" with a COMMIT query, not an XID.
  if (query === 'COMMIT') return { kind: 'commit' };
  return { kind: 'other' };
}

/** Bytes of metadata per column type in a TABLE_MAP event. */
function metadataLength(type: number): number {
  switch (type) {
    case 4: // FLOAT
    case 5: // DOUBLE
    case 252: // BLOB
    case 255: // GEOMETRY
    case 245: // JSON
    case 17: // TIMESTAMP2
    case 18: // DATETIME2
    case 19: // TIME2
      return 1;
    case 15: // VARCHAR
    case 253: // VAR_STRING
    case 254: // STRING
    case 246: // NEWDECIMAL
    case 16: // BIT
    case 247: // ENUM
    case 248: // SET
      return 2;
    default:
      return 0;
  }
}

function tableMap(r: ByteReader): TableMap {
  const tableId = r.uint(6);
  r.u16(); // flags
  const database = r.bytes(r.u8()).toString('utf8');
  r.u8();
  const table = r.bytes(r.u8()).toString('utf8');
  r.u8();
  const count = r.lenenc();
  const types = [...r.bytes(count)];
  r.lenenc(); // metadata block length
  const metadata = types.map((type) => {
    const n = metadataLength(type);
    if (n === 0) return 0;
    if (n === 1) return r.u8();
    // STRING's two bytes are (real type, length) in this order: keep them as read, big byte first.
    if (type === 254 || type === 247 || type === 248) return (r.u8() << 8) | r.u8();
    if (type === 246 || type === 16) return (r.u8() << 8) | r.u8(); // precision|scale, bits|bytes
    return r.u16();
  });
  return { tableId, database, table, types, metadata };
}
