import { badRequest } from '../../model/errors.js';
import { CsvByteDecoder, type DecodeFailure } from './csv-decoder.js';
import { CsvParser, type CsvRecord } from './csv-parser.js';
import type { CsvDialect } from './csv-sniff.js';

export type { CsvRecord } from './csv-parser.js';

export interface CsvReadOptions extends CsvDialect {
  /** Records per yielded batch, default 2000. */
  batchSize?: number;
  /** Largest field in UTF-8 bytes of its decoded text, default 64 MiB. */
  maxFieldBytes?: number;
  /** Default true: an unquoted empty field is null, a quoted `""` is ''. */
  nullIfEmptyUnquoted?: boolean;
  /** Default true: lines with no character at all are not records. */
  skipEmptyLines?: boolean;
}

const DEFAULT_BATCH_SIZE = 2000;
const DEFAULT_MAX_FIELD_BYTES = 64 * 1024 * 1024;

/**
 * Streams the records of a CSV file in batches, header line included (the caller decides what the
 * first record means and checks field counts). Holds one chunk and the current record at most, so a
 * file of any size streams in constant memory.
 *
 * @example
 * ```ts
 * const dialect = sniffCsv(firstBytes);
 * for await (const batch of readCsv(fs.createReadStream(file), dialect)) {
 *   for (const record of batch) console.log(record.line, record.fields);
 * }
 * ```
 */
export async function* readCsv(
  input: AsyncIterable<Buffer | Uint8Array>,
  options: CsvReadOptions,
): AsyncGenerator<CsvRecord[]> {
  const parser = new CsvParser({
    delimiter: options.delimiter,
    quote: options.quote,
    batchSize: Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE),
    maxFieldBytes: options.maxFieldBytes ?? DEFAULT_MAX_FIELD_BYTES,
    nullIfEmptyUnquoted: options.nullIfEmptyUnquoted ?? true,
    skipEmptyLines: options.skipEmptyLines ?? true,
  });
  const decoder = new CsvByteDecoder(options.encoding, options.bomBytes);
  for await (const chunk of input) {
    const text = decoder.decode(chunk);
    if (typeof text !== 'string') invalidEncoding(parser, text, options.encoding);
    parser.feed(text);
    yield* drain(parser);
  }
  const rest = decoder.end();
  if (typeof rest !== 'string') invalidEncoding(parser, rest, options.encoding);
  parser.feed(rest);
  parser.finish();
  yield* drain(parser);
}

function* drain(parser: CsvParser): Generator<CsvRecord[]> {
  const full = parser.full;
  for (let i = 0; i < full.length; i++) yield full[i]!;
  full.length = 0;
}

/** Parses the valid text before the bad bytes first, so the line number counts quoted newlines too. */
function invalidEncoding(parser: CsvParser, failure: DecodeFailure, encoding: string): never {
  parser.feed(failure.validPrefix);
  throw badRequest(
    'csv_invalid_encoding',
    `line ${parser.line}: the bytes near offset ${failure.byteOffset} are not valid ${encoding} (save the file as UTF-8, or choose its encoding)`,
    { line: parser.line, byteOffset: failure.byteOffset, encoding },
  );
}
