import type { CsvEncoding } from './csv-sniff.js';

/** Where the bytes stopped being valid: the text decoded before them and their offset in the file. */
export interface DecodeFailure {
  validPrefix: string;
  byteOffset: number;
}

const REPLACEMENT = '\uFFFD';
const TAIL_BYTES = 4;

type Decoder = InstanceType<typeof TextDecoder>;

/**
 * Streams bytes to text with a fatal decoder, skipping the BOM. The fatal decoder says only that a
 * chunk is bad, not where: on failure the chunk is decoded once more, non-fatally, to find the first
 * replacement character. That position is approximate when the text itself holds U+FFFD earlier.
 */
export class CsvByteDecoder {
  private readonly decoder: Decoder;
  private bomLeft: number;
  /** Absolute offset of the next byte to decode. */
  private offset = 0;
  /** The last bytes already decoded: they may hold the start of a character split across chunks. */
  private tail = new Uint8Array(0);
  private tailStart = 0;

  constructor(
    private readonly encoding: CsvEncoding,
    private readonly bomBytes: number,
  ) {
    // windows-1252 maps every byte, so it cannot fail; utf-8/utf-16 must refuse bad bytes.
    this.decoder = new TextDecoder(encoding, { fatal: encoding !== 'windows-1252' });
    this.bomLeft = bomBytes;
  }

  /** Decodes a chunk; answers a DecodeFailure instead of throwing when its bytes are invalid. */
  decode(input: Uint8Array): string | DecodeFailure {
    let chunk = input;
    if (this.bomLeft > 0) {
      const skip = Math.min(this.bomLeft, chunk.length);
      this.bomLeft -= skip;
      this.offset += skip;
      chunk = chunk.subarray(skip);
    }
    if (chunk.length === 0) return '';
    let text: string;
    try {
      text = this.decoder.decode(chunk, { stream: true });
    } catch {
      return this.locate(chunk);
    }
    this.remember(chunk);
    this.offset += chunk.length;
    return text;
  }

  /** Flushes the decoder at the end of the input (an incomplete character there is an error). */
  end(): string | DecodeFailure {
    try {
      return this.decoder.decode();
    } catch {
      return { validPrefix: '', byteOffset: this.offset - this.pendingBytes(new TextDecoder(this.encoding)) };
    }
  }

  private remember(chunk: Uint8Array): void {
    if (chunk.length >= TAIL_BYTES) {
      this.tail = chunk.slice(chunk.length - TAIL_BYTES);
      this.tailStart = this.offset + chunk.length - TAIL_BYTES;
      return;
    }
    const joined = new Uint8Array(this.tail.length + chunk.length);
    joined.set(this.tail);
    joined.set(chunk, this.tail.length);
    const keep = Math.min(TAIL_BYTES, joined.length);
    this.tail = joined.slice(joined.length - keep);
    this.tailStart = this.offset + chunk.length - keep;
  }

  /**
   * Feeds the remembered tail to `decoder` (aligned on a character start) and answers how many of its
   * bytes the decoder still holds as the start of an unfinished character.
   */
  private pendingBytes(decoder: Decoder): number {
    let start = 0;
    if (this.encoding === 'utf-8') {
      while (start < this.tail.length && (this.tail[start]! & 0xc0) === 0x80) start++;
    } else if (this.encoding !== 'windows-1252' && (this.tailStart - this.bomBytes) % 2 !== 0) {
      start = 1;
    }
    const aligned = this.tail.subarray(start);
    const out = decoder.decode(aligned, { stream: true });
    return aligned.length - this.encodedLength(out);
  }

  private locate(chunk: Uint8Array): DecodeFailure {
    const decoder = new TextDecoder(this.encoding);
    const pending = this.pendingBytes(decoder);
    const text = decoder.decode(chunk, { stream: true });
    let bad = text.indexOf(REPLACEMENT);
    if (bad < 0) bad = text.length;
    const validPrefix = text.slice(0, bad);
    return { validPrefix, byteOffset: this.offset - pending + this.encodedLength(validPrefix) };
  }

  private encodedLength(text: string): number {
    if (this.encoding === 'utf-8') return Buffer.byteLength(text, 'utf8');
    if (this.encoding === 'windows-1252') return text.length;
    return text.length * 2;
  }
}
