import { BraidError } from '../../model/errors.js';
import { ByteReader, type RowsKind, type TableMap } from './binlog-events.js';

/**
 * The value of one column in a row event, in the form mysql2 would hand the connector for the same
 * column read by SELECT with Braid's driver options (dateStrings, bigNumberStrings): numbers,
 * digit strings for BIGINT/DECIMAL, `YYYY-MM-DD hh:mm:ss.ffffff` strings for temporal types (UTC for
 * TIMESTAMP: Braid's sessions run in UTC), Buffers for string and binary data. The connector's
 * codec (`decodeValue`) then makes the wire value, so events equal what select() answers.
 */
export type RawValue = number | string | Buffer | null;

/** What the row decoder needs of each column beyond the TABLE_MAP: signedness and enum/set labels. */
export interface ColumnHint {
  unsigned: boolean;
  /** ENUM labels (index 1 = first) or SET members (bit 0 = first). */
  labels?: string[];
}

export interface RowImage {
  before?: RawValue[];
  after?: RawValue[];
}

/** All row images of a WRITE/UPDATE/DELETE_ROWS event body (starting at `offset`). */
export function decodeRows(
  op: RowsKind,
  body: Buffer,
  offset: number,
  map: TableMap,
  hints: readonly ColumnHint[],
): RowImage[] {
  const r = new ByteReader(body, offset);
  const count = r.lenenc();
  const present = bitmap(r, count);
  const presentAfter = op === 'update' ? bitmap(r, count) : present;
  const images: RowImage[] = [];
  while (r.pos < body.length) {
    if (op === 'insert') images.push({ after: row(r, map, hints, present) });
    else if (op === 'delete') images.push({ before: row(r, map, hints, present) });
    else images.push({ before: row(r, map, hints, present), after: row(r, map, hints, presentAfter) });
  }
  return images;
}

function bitmap(r: ByteReader, count: number): boolean[] {
  const bytes = r.bytes((count + 7) >> 3);
  return Array.from({ length: count }, (_, i) => (bytes[i >> 3]! & (1 << (i & 7))) !== 0);
}

function row(r: ByteReader, map: TableMap, hints: readonly ColumnHint[], present: boolean[]): RawValue[] {
  const nulls = bitmap(r, present.filter(Boolean).length);
  const out: RawValue[] = [];
  let n = 0;
  for (let i = 0; i < present.length; i++) {
    if (!present[i]) {
      out.push(null);
      continue;
    }
    const isNull = nulls[n++];
    out.push(isNull ? null : value(r, map.types[i]!, map.metadata[i]!, hints[i] ?? { unsigned: false }));
  }
  return out;
}

const pad = (v: number, n = 2): string => String(v).padStart(n, '0');

function value(r: ByteReader, type: number, meta: number, hint: ColumnHint): RawValue {
  switch (type) {
    case 1: // TINY
      return hint.unsigned ? r.u8() : r.buf.readInt8(r.pos++);
    case 2: // SHORT
      return hint.unsigned ? r.u16() : (r.u16() << 16) >> 16;
    case 9: {
      // INT24
      const v = r.uint(3);
      return hint.unsigned || v < 0x800000 ? v : v - 0x1000000;
    }
    case 3: {
      const v = r.buf.readInt32LE(r.pos);
      r.pos += 4;
      return hint.unsigned ? v >>> 0 : v;
    }
    case 8: {
      const b = r.bytes(8);
      return (hint.unsigned ? b.readBigUInt64LE() : b.readBigInt64LE()).toString();
    }
    case 13: {
      const y = r.u8(); // YEAR
      return y === 0 ? 0 : 1900 + y;
    }
    case 4: {
      // FLOAT: the server prints it with 6 significant digits (%g), as SELECT answers it.
      const v = r.buf.readFloatLE(r.pos);
      r.pos += 4;
      return Number(v.toPrecision(6));
    }
    case 5: {
      const v = r.buf.readDoubleLE(r.pos);
      r.pos += 8;
      return v;
    }
    case 246:
      return decimal(r, meta >> 8, meta & 0xff);
    case 10: {
      const v = r.uint(3); // DATE
      return `${pad(v >> 9, 4)}-${pad((v >> 5) & 15)}-${pad(v & 31)}`;
    }
    case 18:
      return datetime2(r, meta);
    case 17:
      return timestamp2(r, meta);
    case 19:
      return time2(r, meta);
    case 7: {
      const s = r.uint(4); // TIMESTAMP (pre-5.6 format)
      return utcText(s, '');
    }
    case 12: {
      const v = r.bytes(8).readBigUInt64LE().toString().padStart(14, '0'); // DATETIME (old)
      return `${v.slice(0, 4)}-${v.slice(4, 6)}-${v.slice(6, 8)} ${v.slice(8, 10)}:${v.slice(10, 12)}:${v.slice(12)}`;
    }
    case 15:
    case 253:
      return r.bytes(meta < 256 ? r.u8() : r.u16());
    case 254:
      return stringColumn(r, meta, hint);
    case 247:
      return enumValue(r, meta & 0xff, hint);
    case 248:
      return setValue(r, meta & 0xff, hint);
    case 252:
    case 255:
      return r.bytes(r.uint(meta));
    case 16: {
      const bytes = (meta & 0xff) + (meta >> 8 > 0 ? 1 : 0);
      return Buffer.from(r.bytes(bytes));
    }
    case 6:
      return null;
    default:
      // MySQL's binary JSON (245) and other types Braid cannot decode from the log yet.
      throw new BraidError(
        501,
        'capture_unsupported_type',
        `binlog capture cannot decode column type ${type} yet; use trigger capture for this table`,
        { type },
      );
  }
}

/** CHAR/BINARY columns are type STRING; ENUM and SET are too, told apart by the real type byte. */
function stringColumn(r: ByteReader, meta: number, hint: ColumnHint): RawValue {
  let realType = meta >> 8;
  let length = meta & 0xff;
  if ((realType & 0x30) !== 0x30) {
    // Lengths above 255 borrow two bits of the type byte.
    length |= ((realType & 0x30) ^ 0x30) << 4;
    realType |= 0x30;
  }
  if (realType === 247) return enumValue(r, length, hint);
  if (realType === 248) return setValue(r, length, hint);
  return r.bytes(length < 256 ? r.u8() : r.u16());
}

function enumValue(r: ByteReader, size: number, hint: ColumnHint): RawValue {
  const index = r.uint(size);
  return index === 0 ? '' : (hint.labels?.[index - 1] ?? String(index));
}

function setValue(r: ByteReader, size: number, hint: ColumnHint): RawValue {
  const bits = r.bytes(size);
  const members: string[] = [];
  (hint.labels ?? []).forEach((label, i) => {
    if (bits[i >> 3]! & (1 << (i & 7))) members.push(label);
  });
  return members.join(',');
}

/** Fractional seconds stored in (fsp + 1) / 2 big-endian bytes, as microseconds. */
function fraction(r: ByteReader, fsp: number): string {
  if (fsp === 0) return '';
  const bytes = (fsp + 1) >> 1;
  const v = r.bytes(bytes).readUIntBE(0, bytes);
  const micros = bytes === 1 ? v * 10_000 : bytes === 2 ? v * 100 : v;
  return `.${pad(micros, 6).slice(0, fsp)}`;
}

function datetime2(r: ByteReader, fsp: number): string {
  const packed = r.bytes(5).readUIntBE(0, 5) - 0x8000000000;
  const ymd = Math.floor(packed / 2 ** 17);
  const ym = Math.floor(ymd / 32);
  const hms = packed % 2 ** 17;
  const date = `${pad(Math.floor(ym / 13), 4)}-${pad(ym % 13)}-${pad(ymd % 32)}`;
  const time = `${pad(hms >> 12)}:${pad((hms >> 6) & 63)}:${pad(hms & 63)}`;
  return `${date} ${time}${fraction(r, fsp)}`;
}

function timestamp2(r: ByteReader, fsp: number): string {
  const seconds = r.bytes(4).readUInt32BE(0);
  return utcText(seconds, fraction(r, fsp));
}

function utcText(seconds: number, frac: string): string {
  if (seconds === 0) return `0000-00-00 00:00:00${frac}`;
  return `${new Date(seconds * 1000).toISOString().slice(0, 19).replace('T', ' ')}${frac}`;
}

function time2(r: ByteReader, fsp: number): string {
  let packed = r.bytes(3).readUIntBE(0, 3) - 0x800000;
  const negative = packed < 0;
  if (negative) packed = -packed;
  // Negative times with fractions are stored with a borrow; rare enough to read approximately.
  const text = `${pad((packed >> 12) & 0x3ff)}:${pad((packed >> 6) & 63)}:${pad(packed & 63)}`;
  return `${negative ? '-' : ''}${text}${fraction(r, fsp)}`;
}

const DIG2BYTES = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/** MySQL's binary DECIMAL: groups of nine digits in four big-endian bytes, sign in the top bit. */
function decimal(r: ByteReader, precision: number, scale: number): string {
  const intg = precision - scale;
  const intg0 = Math.floor(intg / 9);
  const intg0x = intg - intg0 * 9;
  const frac0 = Math.floor(scale / 9);
  const frac0x = scale - frac0 * 9;
  const size = intg0 * 4 + DIG2BYTES[intg0x]! + frac0 * 4 + DIG2BYTES[frac0x]!;
  const buf = Buffer.from(r.bytes(size));
  const negative = (buf[0]! & 0x80) === 0;
  buf[0]! ^= 0x80;
  if (negative) for (let i = 0; i < buf.length; i++) buf[i] = ~buf[i]! & 0xff;
  let pos = 0;
  const group = (bytes: number, digits: number): string => {
    const v = bytes === 0 ? 0 : buf.readUIntBE(pos, bytes);
    pos += bytes;
    return String(v).padStart(digits, '0');
  };
  let int = intg0x > 0 ? group(DIG2BYTES[intg0x]!, intg0x) : '';
  for (let i = 0; i < intg0; i++) int += group(4, 9);
  let frac = '';
  for (let i = 0; i < frac0; i++) frac += group(4, 9);
  if (frac0x > 0) frac += group(DIG2BYTES[frac0x]!, frac0x);
  int = int.replace(/^0+(?=\d)/, '') || '0';
  const text = scale > 0 ? `${int}.${frac}` : int;
  return negative ? `-${text}` : text;
}
