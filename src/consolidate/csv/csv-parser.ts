import { badRequest } from '../../model/errors.js';

export interface CsvRecord {
  /** 1-based physical line where the record starts. */
  line: number;
  fields: (string | null)[];
}

export interface CsvParserOptions {
  delimiter: string;
  quote: string;
  batchSize: number;
  maxFieldBytes: number;
  nullIfEmptyUnquoted: boolean;
  skipEmptyLines: boolean;
}

const LF = 10;
const CR = 13;

// Where the previous chunk left the current field.
const FIELD_START = 0;
const IN_UNQUOTED = 1;
const IN_QUOTED = 2;
/** Inside a quoted field, the chunk ended on a quote: an escape or the closing quote. */
const QUOTE_AT_END = 3;
/** A record ended on CR at the end of the chunk: a LF starting the next one belongs to it. */
const AFTER_CR = 4;

/**
 * An RFC 4180 parser over decoded text, fed chunk by chunk. It keeps only the fields of the current
 * record (and the pieces of a field split across chunks), so memory does not grow with the file.
 *
 * Speed comes from scanning with `indexOf` and caching the next delimiter and newline positions, so
 * each character of an unquoted field is looked at by native code once and fields are plain slices.
 */
export class CsvParser {
  /** Physical line of the scan position. */
  line = 1;
  /** Completed batches, taken by the reader between chunks. */
  readonly full: CsvRecord[][] = [];

  private batch: CsvRecord[] = [];
  private fields: (string | null)[] = [];
  private recordLine = 1;
  private state = FIELD_START;
  private pieces: string[] = [];
  private pieceBytes = 0;
  private fieldLine = 1;
  private prevCR = false;
  /** Decoded characters before the current text, and the offset where the current line starts. */
  private base = 0;
  private lineStart = 0;

  private readonly delim: string;
  private readonly quote: string;
  private readonly quoteCode: number;
  private readonly empty: string | null;
  /** A field shorter than this (in UTF-16 units) cannot exceed maxFieldBytes in UTF-8. */
  private readonly cheapLimit: number;

  constructor(private readonly options: CsvParserOptions) {
    if (options.delimiter.length !== 1 || options.quote.length !== 1) {
      throw badRequest('csv_invalid_dialect', 'the delimiter and the quote must be one character each', {
        delimiter: options.delimiter,
        quote: options.quote,
      });
    }
    if (options.delimiter === options.quote || '\r\n'.includes(options.delimiter)) {
      throw badRequest('csv_invalid_dialect', 'the delimiter must differ from the quote and the newline', {
        delimiter: options.delimiter,
        quote: options.quote,
      });
    }
    this.delim = options.delimiter;
    this.quote = options.quote;
    this.quoteCode = options.quote.charCodeAt(0);
    this.empty = options.nullIfEmptyUnquoted ? null : '';
    this.cheapLimit = Math.floor(options.maxFieldBytes / 3);
  }

  feed(s: string): void {
    const len = s.length;
    if (len === 0) return;
    let pos = this.resume(s);
    if (this.state !== FIELD_START) {
      this.base += len;
      return;
    }
    const delim = this.delim;
    const quoteCode = this.quoteCode;
    const empty = this.empty;
    const cheapLimit = this.cheapLimit;
    let nd = -1;
    let nl = -1;
    let nc = -1;
    while (pos < len) {
      if (s.charCodeAt(pos) === quoteCode) {
        pos = this.quotedField(s, pos);
        if (this.state !== FIELD_START) break;
        continue;
      }
      if (nd < pos) nd = find(s, delim, pos, len);
      if (nl < pos) nl = find(s, '\n', pos, len);
      if (nc < pos) nc = find(s, '\r', pos, len);
      let end = nd;
      if (nl < end) end = nl;
      if (nc < end) end = nc;
      if (end === len) {
        this.startPieces(s.slice(pos));
        this.state = IN_UNQUOTED;
        break;
      }
      if (end - pos > cheapLimit) this.checkSize(s.slice(pos, end), this.line);
      if (end === nd) {
        this.fields.push(end === pos ? empty : s.slice(pos, end));
        pos = end + 1;
        continue;
      }
      if (end === pos && this.fields.length === 0) {
        if (!this.options.skipEmptyLines) this.fields.push(empty);
      } else {
        this.fields.push(end === pos ? empty : s.slice(pos, end));
      }
      pos = this.newline(s, end);
    }
    this.base += len;
  }

  /** End of input: completes the last record or reports the quote still open. */
  finish(): void {
    switch (this.state) {
      case IN_QUOTED:
        throw badRequest(
          'csv_unbalanced_quote',
          `line ${this.fieldLine}: a quoted field starts here and is never closed`,
          { line: this.fieldLine },
        );
      case IN_UNQUOTED:
      case QUOTE_AT_END:
        this.fields.push(this.takePieces());
        this.endRecord();
        break;
      case FIELD_START:
        if (this.fields.length > 0) {
          this.fields.push(this.empty);
          this.endRecord();
        }
        break;
    }
    this.state = FIELD_START;
    if (this.batch.length > 0) {
      this.full.push(this.batch);
      this.batch = [];
    }
  }

  /** Continues a field or newline left open by the previous chunk; answers where to go on. */
  private resume(s: string): number {
    switch (this.state) {
      case AFTER_CR:
        this.state = FIELD_START;
        if (s.charCodeAt(0) === LF) {
          this.lineStart = this.base + 1;
          return 1;
        }
        return 0;
      case IN_UNQUOTED: {
        let end = s.length;
        for (const ch of [this.delim, '\n', '\r']) {
          const i = s.indexOf(ch);
          if (i >= 0 && i < end) end = i;
        }
        this.addPiece(s.slice(0, end));
        if (end === s.length) return end;
        this.state = FIELD_START;
        this.fields.push(this.takePieces());
        return s.charCodeAt(end) === this.delim.charCodeAt(0) ? end + 1 : this.newline(s, end);
      }
      case IN_QUOTED:
        return this.continueQuoted(s, 0);
      case QUOTE_AT_END:
        if (s.charCodeAt(0) === this.quoteCode) {
          this.addPiece(this.quote);
          this.prevCR = false;
          this.state = IN_QUOTED;
          return this.continueQuoted(s, 1);
        }
        this.state = FIELD_START;
        return this.afterClose(s, 0, this.takePieces());
      default:
        return 0;
    }
  }

  /** A quoted field starting at `pos`: the common case (closed in this chunk, no escapes) is a slice. */
  private quotedField(s: string, pos: number): number {
    const start = pos + 1;
    this.fieldLine = this.line;
    this.prevCR = false;
    const q = s.indexOf(this.quote, start);
    if (q >= 0 && q + 1 < s.length && s.charCodeAt(q + 1) !== this.quoteCode) {
      this.countLines(s, start, q);
      if (q - start > this.cheapLimit) this.checkSize(s.slice(start, q), this.fieldLine);
      return this.afterClose(s, q + 1, s.slice(start, q));
    }
    this.pieces = [];
    this.pieceBytes = 0;
    this.state = IN_QUOTED;
    return this.continueQuoted(s, start);
  }

  private continueQuoted(s: string, from: number): number {
    const len = s.length;
    for (;;) {
      const q = s.indexOf(this.quote, from);
      const end = q < 0 ? len : q;
      this.countLines(s, from, end);
      this.addPiece(s.slice(from, end));
      if (q < 0) return len;
      if (q + 1 === len) {
        this.state = QUOTE_AT_END;
        return len;
      }
      if (s.charCodeAt(q + 1) !== this.quoteCode) {
        this.state = FIELD_START;
        return this.afterClose(s, q + 1, this.takePieces());
      }
      this.addPiece(this.quote);
      this.prevCR = false;
      from = q + 2;
    }
  }

  /** After a closing quote only a delimiter, a newline or the end of input may follow. */
  private afterClose(s: string, i: number, value: string): number {
    const c = s.charCodeAt(i);
    if (c === this.delim.charCodeAt(0)) {
      this.fields.push(value);
      return i + 1;
    }
    if (c === LF || c === CR) {
      this.fields.push(value);
      return this.newline(s, i);
    }
    const column = this.base + i - this.lineStart + 1;
    throw badRequest(
      'csv_invalid_quote',
      `line ${this.line}, column ${column}: unexpected ${JSON.stringify(s[i])} after the closing quote of a field (a quote inside a quoted field must be doubled)`,
      { line: this.line, column },
    );
  }

  /** Ends the record at the newline at `i` (CR, LF or CRLF); answers the position after it. */
  private newline(s: string, i: number): number {
    if (this.fields.length > 0) this.endRecord();
    this.line++;
    let next = i + 1;
    if (s.charCodeAt(i) === CR) {
      if (next === s.length) this.state = AFTER_CR;
      else if (s.charCodeAt(next) === LF) next++;
    }
    this.lineStart = this.base + next;
    this.recordLine = this.line;
    return next;
  }

  private endRecord(): void {
    this.batch.push({ line: this.recordLine, fields: this.fields });
    this.fields = [];
    if (this.batch.length >= this.options.batchSize) {
      this.full.push(this.batch);
      this.batch = [];
    }
  }

  /** Counts the newlines inside quoted text (CRLF once, also when split across chunks). */
  private countLines(s: string, from: number, to: number): void {
    let prevCR = this.prevCR;
    for (let i = from; i < to; i++) {
      const c = s.charCodeAt(i);
      if (c === LF) {
        if (!prevCR) this.line++;
        this.lineStart = this.base + i + 1;
        prevCR = false;
      } else if (c === CR) {
        this.line++;
        this.lineStart = this.base + i + 1;
        prevCR = true;
      } else {
        prevCR = false;
      }
    }
    this.prevCR = prevCR;
  }

  private startPieces(first: string): void {
    this.pieces = [];
    this.pieceBytes = 0;
    this.fieldLine = this.line;
    this.addPiece(first);
  }

  private addPiece(piece: string): void {
    if (piece.length === 0) return;
    this.pieces.push(piece);
    this.pieceBytes += piece.length > 64 ? Buffer.byteLength(piece, 'utf8') : utf8Length(piece);
    if (this.pieceBytes > this.options.maxFieldBytes) this.tooLarge(this.fieldLine);
  }

  private takePieces(): string {
    const pieces = this.pieces;
    this.pieces = [];
    this.pieceBytes = 0;
    // Only a quoted field can end with no pieces: `""` split across chunks.
    if (pieces.length === 0) return '';
    return pieces.length === 1 ? pieces[0]! : pieces.join('');
  }

  private checkSize(value: string, line: number): void {
    if (Buffer.byteLength(value, 'utf8') > this.options.maxFieldBytes) this.tooLarge(line);
  }

  private tooLarge(line: number): never {
    const max = this.options.maxFieldBytes;
    throw badRequest(
      'csv_field_too_large',
      `line ${line}: a field starting on this line is larger than ${max} bytes (often a quote that is never closed, which swallows the rest of the file)`,
      { line, maxFieldBytes: max },
    );
  }
}

function find(s: string, ch: string, from: number, len: number): number {
  const i = s.indexOf(ch, from);
  return i < 0 ? len : i;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdbff ? 2 : 3;
  }
  return n;
}
