export type CsvEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

export interface CsvDialect {
  encoding: CsvEncoding;
  /** Bytes of byte order mark at the start of the file, skipped by the reader. */
  bomBytes: number;
  delimiter: string;
  /** Always `"` unless given. */
  quote: string;
}

const CANDIDATES = [',', ';', '\t', '|'] as const;
const MAX_LINES = 200;

/**
 * Looks at the first bytes of a file (up to 64 KiB is plenty) and answers its dialect, with notes
 * for people on how each part was decided. Fields given in `hint` win over detection.
 *
 * @example
 * ```ts
 * sniffCsv(Buffer.from('a;b\n1;2\n')); // { encoding: 'utf-8', bomBytes: 0, delimiter: ';', quote: '"', detected: [...] }
 * ```
 */
export function sniffCsv(sample: Buffer, hint?: Partial<CsvDialect>): CsvDialect & { detected: string[] } {
  const detected: string[] = [];
  const bom = detectBom(sample);
  let encoding: CsvEncoding;
  let bomBytes: number;
  if (hint?.encoding !== undefined) {
    encoding = hint.encoding;
    bomBytes = bom && bom.encoding === encoding ? bom.bytes : 0;
    detected.push(`encoding ${encoding} (given)`);
  } else if (bom) {
    encoding = bom.encoding;
    bomBytes = bom.bytes;
    detected.push(`BOM ${encoding}`);
  } else {
    encoding = encodingWithoutBom(sample, detected);
    bomBytes = 0;
  }
  if (hint?.bomBytes !== undefined) bomBytes = hint.bomBytes;
  const quote = hint?.quote ?? '"';
  let delimiter: string;
  if (hint?.delimiter !== undefined) {
    delimiter = hint.delimiter;
    detected.push(`delimiter ${show(delimiter)} (given)`);
  } else {
    const text = new TextDecoder(encoding).decode(sample.subarray(bomBytes));
    delimiter = detectDelimiter(text, quote, detected);
  }
  return { encoding, bomBytes, delimiter, quote, detected };
}

function detectBom(b: Buffer): { encoding: CsvEncoding; bytes: number } | null {
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf)
    return { encoding: 'utf-8', bytes: 3 };
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return { encoding: 'utf-16le', bytes: 2 };
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return { encoding: 'utf-16be', bytes: 2 };
  return null;
}

function encodingWithoutBom(sample: Buffer, detected: string[]): CsvEncoding {
  // Text in UTF-16 without BOM has a zero byte beside nearly every ASCII character.
  const utf16 = zeroBytePattern(sample);
  if (utf16) {
    detected.push(`${utf16} (no BOM, zero bytes beside ASCII characters)`);
    return utf16;
  }
  try {
    // Stream mode: a multi-byte character cut at the end of the sample is not an error.
    new TextDecoder('utf-8', { fatal: true }).decode(sample, { stream: true });
    detected.push('utf-8 (the sample is valid UTF-8)');
    return 'utf-8';
  } catch {
    detected.push('windows-1252 (the sample is not valid UTF-8)');
    return 'windows-1252';
  }
}

function zeroBytePattern(sample: Buffer): CsvEncoding | null {
  const n = Math.min(sample.length, 4096) & ~1;
  if (n < 4) return null;
  let evenZero = 0;
  let oddZero = 0;
  for (let i = 0; i < n; i += 2) {
    if (sample[i] === 0) evenZero++;
    if (sample[i + 1] === 0) oddZero++;
  }
  const pairs = n / 2;
  if (oddZero > pairs * 0.7 && evenZero === 0) return 'utf-16le';
  if (evenZero > pairs * 0.7 && oddZero === 0) return 'utf-16be';
  return null;
}

/**
 * Counts each candidate outside quotes on every record of the sample (the last one is dropped when
 * the sample cuts it) and keeps the candidate whose count is the same, and not zero, on most lines.
 */
function detectDelimiter(text: string, quote: string, detected: string[]): string {
  const counts = recordCounts(text, quote);
  let best: string = ',';
  let bestShare = 0;
  let bestMode = 0;
  for (let c = 0; c < CANDIDATES.length; c++) {
    const perLine = counts.map((line) => line[c]!);
    const { mode, share } = modeOf(perLine);
    if (mode === 0) continue;
    if (share > bestShare) {
      best = CANDIDATES[c]!;
      bestShare = share;
      bestMode = mode;
    }
  }
  if (bestMode === 0) {
    detected.push(`delimiter ',' (no candidate found on ${counts.length} lines: one column)`);
    return ',';
  }
  const agree = Math.round(bestShare * counts.length);
  detected.push(
    bestShare === 1
      ? `delimiter ${show(best)} (consistent count on ${counts.length} lines)`
      : `delimiter ${show(best)} (same count on ${agree} of ${counts.length} lines)`,
  );
  return best;
}

function recordCounts(text: string, quote: string): number[][] {
  const out: number[][] = [];
  let current = [0, 0, 0, 0];
  let inQuotes = false;
  let sawAny = false;
  for (let i = 0; i < text.length && out.length < MAX_LINES; i++) {
    const ch = text[i]!;
    if (ch === quote) {
      inQuotes = !inQuotes;
      sawAny = true;
    } else if (!inQuotes && (ch === '\n' || ch === '\r')) {
      if (sawAny) out.push(current);
      current = [0, 0, 0, 0];
      sawAny = false;
    } else {
      sawAny = true;
      if (!inQuotes) {
        const c = (CANDIDATES as readonly string[]).indexOf(ch);
        if (c >= 0) current[c]!++;
      }
    }
  }
  // A sample without a final newline was most likely cut: its last record is partial.
  if (sawAny && out.length === 0) out.push(current);
  return out;
}

function modeOf(values: number[]): { mode: number; share: number } {
  if (values.length === 0) return { mode: 0, share: 0 };
  const freq = new Map<number, number>();
  let mode = 0;
  let top = 0;
  for (const v of values) {
    const f = (freq.get(v) ?? 0) + 1;
    freq.set(v, f);
    if (f > top || (f === top && v > mode)) {
      top = f;
      mode = v;
    }
  }
  return { mode, share: top / values.length };
}

function show(delimiter: string): string {
  return delimiter === '\t' ? 'tab' : `'${delimiter}'`;
}
