/**
 * Decoder of the `pgoutput` logical replication messages (protocol version 1, text tuples), as
 * documented in "Logical Replication Message Formats" of the PostgreSQL manual. Only the pieces
 * Braid uses are decoded; anything else is reported as `unknown` so a newer server cannot break
 * the stream with a message type we do not need.
 */

/** One column value of a tuple: null, TOASTed and unchanged (value not sent), or its text form. */
export type TupleValue = { kind: 'null' } | { kind: 'unchanged' } | { kind: 'text'; text: string };

export interface RelationColumn {
  /** Part of the replica identity (the primary key, the chosen index, or every column with FULL). */
  isKey: boolean;
  name: string;
  typeOid: number;
  typeModifier: number;
}

/** `d` default (primary key), `n` nothing, `f` full, `i` index. */
export type ReplicaIdentity = 'd' | 'n' | 'f' | 'i';

export type PgOutputMessage =
  | { type: 'begin'; finalLsn: bigint; commitTime: bigint; xid: number }
  | { type: 'commit'; commitLsn: bigint; endLsn: bigint; commitTime: bigint }
  | {
      type: 'relation';
      relationId: number;
      schema: string;
      name: string;
      replicaIdentity: ReplicaIdentity;
      columns: RelationColumn[];
    }
  | { type: 'insert'; relationId: number; after: TupleValue[] }
  | {
      type: 'update';
      relationId: number;
      /** `key`: only the identity columns (sent when they changed); `full`: the whole old row. */
      old?: { kind: 'key' | 'full'; values: TupleValue[] };
      after: TupleValue[];
    }
  | { type: 'delete'; relationId: number; old: { kind: 'key' | 'full'; values: TupleValue[] } }
  | { type: 'truncate'; relationIds: number[]; cascade: boolean; restartIdentity: boolean }
  | { type: 'message'; transactional: boolean; lsn: bigint; prefix: string; content: Buffer }
  | { type: 'unknown'; tag: string };

/** Sequential reader over one message; throws on truncated input instead of reading garbage. */
class Reader {
  private offset = 0;
  constructor(private readonly buf: Buffer) {}

  private need(bytes: number): void {
    if (this.offset + bytes > this.buf.length) {
      throw new Error(`pgoutput message truncated at byte ${this.offset} (needs ${bytes} more)`);
    }
  }
  int8(): number {
    this.need(1);
    return this.buf.readUInt8(this.offset++);
  }
  int16(): number {
    this.need(2);
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  int32(): number {
    this.need(4);
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  uint32(): number {
    this.need(4);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  int64(): bigint {
    this.need(8);
    const v = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }
  uint64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64BE(this.offset);
    this.offset += 8;
    return v;
  }
  /** NUL-terminated UTF-8 string. */
  cstring(): string {
    const end = this.buf.indexOf(0, this.offset);
    if (end < 0) throw new Error('pgoutput string without terminator');
    const s = this.buf.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return s;
  }
  bytes(length: number): Buffer {
    this.need(length);
    const b = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return b;
  }
  char(): string {
    return String.fromCharCode(this.int8());
  }
}

function readTuple(r: Reader): TupleValue[] {
  const count = r.int16();
  const values: TupleValue[] = [];
  for (let i = 0; i < count; i++) {
    const kind = r.char();
    if (kind === 'n') values.push({ kind: 'null' });
    else if (kind === 'u') values.push({ kind: 'unchanged' });
    else if (kind === 't') values.push({ kind: 'text', text: r.bytes(r.int32()).toString('utf8') });
    // Binary tuples only come when the `binary` option is asked for, which Braid never does.
    else throw new Error(`pgoutput tuple value of kind "${kind}" is not supported`);
  }
  return values;
}

function readOld(r: Reader, tag: string): { kind: 'key' | 'full'; values: TupleValue[] } {
  if (tag === 'K') return { kind: 'key', values: readTuple(r) };
  if (tag === 'O') return { kind: 'full', values: readTuple(r) };
  throw new Error(`pgoutput: expected K or O, got "${tag}"`);
}

/** Decodes one pgoutput message (the payload of an XLogData frame). */
export function parsePgOutput(buf: Buffer): PgOutputMessage {
  const r = new Reader(buf);
  const tag = r.char();
  switch (tag) {
    case 'B':
      return { type: 'begin', finalLsn: r.uint64(), commitTime: r.int64(), xid: r.uint32() };
    case 'C': {
      r.int8(); // flags, unused
      return { type: 'commit', commitLsn: r.uint64(), endLsn: r.uint64(), commitTime: r.int64() };
    }
    case 'R': {
      const relationId = r.uint32();
      const schema = r.cstring() || 'pg_catalog'; // the protocol sends "" for pg_catalog
      const name = r.cstring();
      const replicaIdentity = r.char() as ReplicaIdentity;
      const count = r.int16();
      const columns: RelationColumn[] = [];
      for (let i = 0; i < count; i++) {
        const flags = r.int8();
        columns.push({
          isKey: (flags & 1) === 1,
          name: r.cstring(),
          typeOid: r.uint32(),
          typeModifier: r.int32(),
        });
      }
      return { type: 'relation', relationId, schema, name, replicaIdentity, columns };
    }
    case 'I': {
      const relationId = r.uint32();
      r.char(); // 'N'
      return { type: 'insert', relationId, after: readTuple(r) };
    }
    case 'U': {
      const relationId = r.uint32();
      let next = r.char();
      let old: { kind: 'key' | 'full'; values: TupleValue[] } | undefined;
      if (next === 'K' || next === 'O') {
        old = readOld(r, next);
        next = r.char();
      }
      if (next !== 'N') throw new Error(`pgoutput update: expected N, got "${next}"`);
      return { type: 'update', relationId, ...(old ? { old } : {}), after: readTuple(r) };
    }
    case 'D': {
      const relationId = r.uint32();
      return { type: 'delete', relationId, old: readOld(r, r.char()) };
    }
    case 'T': {
      const count = r.int32();
      const options = r.int8();
      const relationIds: number[] = [];
      for (let i = 0; i < count; i++) relationIds.push(r.uint32());
      return {
        type: 'truncate',
        relationIds,
        cascade: (options & 1) !== 0,
        restartIdentity: (options & 2) !== 0,
      };
    }
    case 'M': {
      const transactional = (r.int8() & 1) === 1;
      const lsn = r.uint64();
      const prefix = r.cstring();
      // A copy: the driver reuses its receive buffer, and the content may be read later.
      return { type: 'message', transactional, lsn, prefix, content: Buffer.from(r.bytes(r.int32())) };
    }
    default:
      // 'Y' (type), 'O' (origin) and the streaming/two-phase messages of later protocol versions.
      return { type: 'unknown', tag };
  }
}
