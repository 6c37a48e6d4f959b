import { ForecastInputError } from '../errors.js';

/** Text encodings a CSV file may be read with; `'auto'` detects (see {@link decodeCsvBytes}). */
export type CsvEncoding = 'auto' | 'utf8' | 'latin1' | 'utf16le';
/** Field delimiters detected automatically. */
export const CSV_DELIMITERS = [',', ';', '\t', '|'] as const;

/** How a CSV file was read: reported with every series so users can see what was assumed. */
export interface CsvReadReport {
  /** Encoding the bytes were decoded with (`'utf8-bom'` when a byte-order mark said so, `'text'` for CSV text). */
  encoding: string;
  /** Field delimiter used. */
  delimiter: string;
  /** Whether the delimiter was detected (false: given). */
  delimiterDetected: boolean;
  /** Date format of the date column, when there is one. */
  dateFormat?: string;
  /** Rows merged or dropped by the duplicate-timestamp policy. */
  duplicateRows?: number;
}

/**
 * Decodes the bytes of a CSV file. `'auto'`: a UTF-8 or UTF-16 byte-order mark decides; else
 * the bytes are UTF-8 when they are valid UTF-8, and Latin-1 (ISO-8859-1) otherwise, so a
 * header such as `Temp (°C)` saved by a Windows spreadsheet reads correctly instead of as `�`.
 */
export function decodeCsvBytes(bytes: Uint8Array, encoding: CsvEncoding = 'auto'): { text: string; encoding: string } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bomUtf8 = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
  const bomUtf16 = buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe;
  switch (encoding) {
    case 'utf8':
      return { text: buf.toString('utf8', bomUtf8 ? 3 : 0), encoding: bomUtf8 ? 'utf8-bom' : 'utf8' };
    case 'latin1':
      return { text: buf.toString('latin1'), encoding: 'latin1' };
    case 'utf16le':
      return { text: buf.toString('utf16le', bomUtf16 ? 2 : 0), encoding: 'utf16le' };
    case 'auto':
      break;
    default:
      throw new ForecastInputError(`encoding must be one of auto, utf8, latin1, utf16le; got "${String(encoding)}"`);
  }
  if (bomUtf8) return { text: buf.toString('utf8', 3), encoding: 'utf8-bom' };
  if (bomUtf16) return { text: buf.toString('utf16le', 2), encoding: 'utf16le' };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(buf), encoding: 'utf8' };
  } catch {
    return { text: buf.toString('latin1'), encoding: 'latin1' };
  }
}

/** Occurrences of `ch` in `line` outside double quotes. */
function countOutsideQuotes(line: string, ch: string): number {
  let n = 0;
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (c === ch && !quoted) n++;
  }
  return n;
}

/**
 * The field delimiter of CSV text: among comma, semicolon, tab and pipe, the one found the same
 * number of times (at least once) on each of the first lines, most often; comma when none is.
 * A semicolon file with decimal commas (`1,5;2,5`) is read as semicolon-separated because the
 * comma count varies from line to line.
 */
export function detectDelimiter(text: string): string {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '').slice(0, 20);
  if (lines.length === 0) return ',';
  let best = ',';
  let bestCount = 0;
  for (const d of CSV_DELIMITERS) {
    const counts = lines.map((l) => countOutsideQuotes(l, d));
    const consistent = counts[0]! > 0 && counts.every((c) => c === counts[0]);
    if (consistent && counts[0]! > bestCount) {
      best = d;
      bestCount = counts[0]!;
    }
  }
  if (bestCount > 0) return best;
  // Ragged files (M4 rows of different lengths): the delimiter most frequent in the header.
  for (const d of CSV_DELIMITERS) {
    const c = countOutsideQuotes(lines[0]!, d);
    if (c > bestCount) {
      best = d;
      bestCount = c;
    }
  }
  return best;
}

const DECIMAL_COMMA = /^[+-]?\d*,\d+(?:[eE][+-]?\d+)?$/;

/**
 * A cell as a number; with a delimiter other than comma, `1,5` (decimal comma, as European
 * spreadsheets write it) reads as 1.5. NaN when it is not a number.
 */
export function parseCsvNumber(cell: string, delimiter: string): number {
  const v = Number(cell);
  if (cell !== '' && !Number.isNaN(v)) return v;
  if (delimiter !== ',' && DECIMAL_COMMA.test(cell)) return Number(cell.replace(',', '.'));
  return Number.NaN;
}
