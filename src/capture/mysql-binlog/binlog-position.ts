import { badRequest } from '../../model/errors.js';

/**
 * Where an event sits in the binlog: the file, the offset where its transaction starts (its GTID or
 * BEGIN event) and its index inside the transaction. Resuming dumps from `file:offset` again and
 * skips every event at or before the stored position, so a consumer that stored the position of
 * any event (even in the middle of a transaction) loses and repeats nothing.
 */
export interface BinlogPosition {
  /** Binlog file name as the server names it, e.g. `mysql-bin.000012`. */
  file: string;
  /** Byte offset of the transaction's first event in `file`. */
  offset: number;
  /** Index of the event inside its transaction. */
  index: number;
}

const POSITION_RE = /^(.+)\.(\d{10}):(\d{14}):(\d{6})$/;

/**
 * `mysql-bin.0000000012:00000000004567:000003`: the file number and the offsets are zero-padded,
 * so positions of one server sort as plain strings (the base name never changes on a server).
 */
export function formatPosition(p: BinlogPosition): string {
  const dot = p.file.lastIndexOf('.');
  const base = p.file.slice(0, dot);
  const number = p.file.slice(dot + 1);
  return `${base}.${number.padStart(10, '0')}:${String(p.offset).padStart(14, '0')}:${String(p.index).padStart(6, '0')}`;
}

export function parsePosition(text: string): BinlogPosition {
  const m = POSITION_RE.exec(text);
  if (!m) throw badRequest('invalid_position', `"${text}" is not a binlog capture position`);
  // The server pads file numbers to six digits (`%06lu`); more digits only once it passed 999999.
  const number = String(Number(m[2])).padStart(6, '0');
  return { file: `${m[1]}.${number}`, offset: Number(m[3]), index: Number(m[4]) };
}

/** Number of a binlog file (`mysql-bin.000012` -> 12): files of one server sort by it. */
export function fileNumber(file: string): number {
  return Number(file.slice(file.lastIndexOf('.') + 1));
}

/** <0, 0, >0 like a comparator; by file number, transaction offset, then index. */
export function comparePositions(a: BinlogPosition, b: BinlogPosition): number {
  return fileNumber(a.file) - fileNumber(b.file) || a.offset - b.offset || a.index - b.index;
}
