import type { AlignedText, Normalizer } from './types.js';
import { BadInputError } from '@seqlab/core/base';
import { CleanTextNormalizer, type CleanTextOptions } from './clean.js';

/** Unicode normalization forms accepted by {@link NormalizeOptions.unicode}. */
export type UnicodeForm = 'NFC' | 'NFD' | 'NFKC' | 'NFKD';

/**
 * Steps of {@link TextNormalizer}, applied in this order to every character (with its
 * combining marks): Unicode normalization, lower-casing, accent stripping; then control
 * characters are dropped and whitespace runs folded. Lone surrogates always become U+FFFD,
 * so everything downstream sees well-formed UTF-16.
 */
export interface NormalizeOptions {
  /** Unicode normalization form, or `false` for none. Default `false`. */
  unicode?: UnicodeForm | false;
  /** Lower-case (locale independent). Default `false`. */
  lowercase?: boolean;
  /** Remove combining accents (NFD, drop nonspacing marks, recompose). Default `false`. */
  stripAccents?: boolean;
  /** Fold every run of whitespace into one space and trim both ends. Default `false`. */
  foldWhitespace?: boolean;
  /** Drop control/format characters other than whitespace, ZWJ and ZWNJ. Default `false`. */
  stripControl?: boolean;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const MARK = /^\p{M}$/u;
const NONSPACING = /\p{Mn}/gu;
const WHITESPACE = /^\s$/u;
const CONTROL = /^[\p{Cc}\p{Cf}]$/u;

/** Whether `text` has no lone surrogates. */
export function isWellFormed(text: string): boolean {
  LONE_SURROGATE.lastIndex = 0;
  const bad = LONE_SURROGATE.test(text);
  LONE_SURROGATE.lastIndex = 0;
  return !bad;
}

/** Replaces every lone surrogate by U+FFFD (what `String.prototype.toWellFormed` does). */
export function toWellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * Output of the normalizer under construction: the text (runs copied from the input are sliced,
 * not rebuilt char by char) plus the original span of each output unit. One module-level
 * instance is reused across calls (normalization never re-enters itself), so encoding many
 * short lines does not allocate scratch arrays per line.
 */
const out = {
  input: '',
  text: '',
  runStart: -1, // start of a run of input copied unchanged, not yet appended to `text`
  starts: new Int32Array(1024),
  ends: new Int32Array(1024),
  length: 0,
  spaceStart: -1, // start of a pending whitespace run (foldWhitespace)
  spaceEnd: -1,
};

function grow(need: number): void {
  const cap = Math.max(need, out.starts.length * 2);
  const a = new Int32Array(cap);
  a.set(out.starts.subarray(0, out.length));
  const b = new Int32Array(cap);
  b.set(out.ends.subarray(0, out.length));
  out.starts = a;
  out.ends = b;
}

function flushRun(upTo: number): void {
  if (out.runStart >= 0) {
    out.text += out.input.slice(out.runStart, upTo);
    out.runStart = -1;
  }
}

/** Output unit `i` is input unit `i` unchanged. */
function keepUnit(i: number): void {
  if (out.length === out.starts.length) grow(out.length + 1);
  const k = out.length++;
  out.starts[k] = i;
  out.ends[k] = i + 1;
  if (out.runStart < 0) out.runStart = i;
}

/** Appends `s`, every unit of it spanning input [start, end). Callers flush the run first. */
function pushString(s: string, start: number, end: number): void {
  if (out.length + s.length > out.starts.length) grow(out.length + s.length);
  for (let k = 0; k < s.length; k++) {
    out.starts[out.length] = start;
    out.ends[out.length++] = end;
  }
  out.text += s;
}

/** Emits the pending folded space, unless it would lead the output (trim). */
function flushSpace(): void {
  if (out.length > 0) pushString(' ', out.spaceStart, out.spaceEnd);
  out.spaceStart = -1;
}

function finishOutput(n: number, copy: boolean): AlignedText {
  flushRun(n);
  const k = out.length;
  const result = copy
    ? { text: out.text, starts: out.starts.slice(0, k), ends: out.ends.slice(0, k) }
    : { text: out.text, starts: out.starts.subarray(0, k), ends: out.ends.subarray(0, k) };
  out.input = '';
  out.text = '';
  if (out.starts.length > 1 << 20) {
    // Do not keep a 10 MB input's scratch alive; views handed out keep the old buffer themselves.
    out.starts = new Int32Array(1024);
    out.ends = new Int32Array(1024);
  }
  return result;
}

/**
 * The normalizer used by the vectorizer: NFKC/NFC, lower-casing, accent stripping, control
 * removal and whitespace folding, each optional, with an exact alignment from every output
 * unit back to the input span it came from.
 *
 * It works one "character" (a code point plus its combining marks) at a time, so the
 * alignment is exact; the price is that compositions spanning two base characters (rare:
 * Hangul jamo sequences are kept together) are not applied.
 *
 * @example
 * ```ts
 * const n = new TextNormalizer({ unicode: 'NFKC', lowercase: true, stripAccents: true, foldWhitespace: true });
 * n.normalize('  Ｃafé\t au  LAIT '); // 'cafe au lait'
 * ```
 */
export class TextNormalizer implements Normalizer {
  readonly kind = 'text';
  readonly options: Readonly<Required<NormalizeOptions>>;

  constructor(options: NormalizeOptions = {}) {
    const unicode = options.unicode ?? false;
    if (unicode !== false && !['NFC', 'NFD', 'NFKC', 'NFKD'].includes(unicode)) {
      throw new BadInputError(`normalize.unicode must be one of NFC, NFD, NFKC, NFKD or false, got ${JSON.stringify(unicode)}`);
    }
    for (const key of ['lowercase', 'stripAccents', 'foldWhitespace', 'stripControl'] as const) {
      const v = options[key];
      if (v !== undefined && typeof v !== 'boolean') {
        throw new BadInputError(`normalize.${key} must be a boolean, got ${typeof v}`);
      }
    }
    this.options = Object.freeze({
      unicode,
      lowercase: options.lowercase ?? false,
      stripAccents: options.stripAccents ?? false,
      foldWhitespace: options.foldWhitespace ?? false,
      stripControl: options.stripControl ?? false,
    });
  }

  /** True when the normalizer only repairs lone surrogates. */
  get isIdentity(): boolean {
    const o = this.options;
    return !o.unicode && !o.lowercase && !o.stripAccents && !o.foldWhitespace && !o.stripControl;
  }

  normalize(text: string): string {
    return this.run(text, false).text;
  }

  normalizeAligned(text: string): AlignedText {
    return this.run(text, true);
  }

  /**
   * Like {@link normalizeAligned}, but the offset arrays are views of a scratch buffer that the
   * next call overwrites: for callers that consume them at once (the vectorizer).
   * @internal
   */
  normalizeAlignedTransient(text: string): AlignedText {
    return this.run(text, false);
  }

  private run(text: string, copy: boolean): AlignedText {
    if (typeof text !== 'string') throw new BadInputError(`normalize: expected a string, got ${describe(text)}`);
    const { unicode, lowercase, stripAccents, foldWhitespace, stripControl } = this.options;
    const n = text.length;
    out.input = text;
    out.text = '';
    out.runStart = -1;
    out.length = 0;
    out.spaceStart = -1;
    if (out.starts.length < n + 8) grow(n + 8);

    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      const next = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (c < 0x80 && next < 0x300) {
        // ASCII not followed by a combining mark: the hot path, no strings built.
        if (c === 32 || (c >= 9 && c <= 13)) {
          if (foldWhitespace) {
            flushRun(i);
            if (out.spaceStart < 0) out.spaceStart = i;
            out.spaceEnd = i + 1;
          } else keepUnit(i);
        } else if (c < 32 || c === 127) {
          if (stripControl) flushRun(i);
          else {
            if (out.spaceStart >= 0) flushSpace();
            keepUnit(i);
          }
        } else {
          if (out.spaceStart >= 0) flushSpace();
          if (lowercase && c >= 65 && c <= 90) {
            flushRun(i);
            pushString(String.fromCharCode(c + 32), i, i + 1);
          } else keepUnit(i);
        }
        i++;
        continue;
      }
      flushRun(i);
      // One base code point plus the marks that follow it.
      let j = i + (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 2 : 1);
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d < 0x300) break;
        if (d >= 0x1160 && d <= 0x11ff) {
          j++;
          continue;
        }
        const cp = text.codePointAt(j)!;
        const w = cp > 0xffff ? 2 : 1;
        if (!MARK.test(String.fromCodePoint(cp)) || (cp >= 0xd800 && cp <= 0xdfff)) break;
        j += w;
      }
      let s = toWellFormed(text.slice(i, j));
      if (unicode) s = s.normalize(unicode);
      if (lowercase) s = s.toLowerCase();
      if (stripAccents) s = s.normalize('NFD').replace(NONSPACING, '').normalize(unicode && unicode.startsWith('NFK') ? 'NFKC' : 'NFC');
      if (s.length > 0) {
        if (!foldWhitespace && !stripControl) pushString(s, i, j);
        else {
          // A compatibility decomposition can produce spaces ("\u00A0" becomes " ").
          for (const ch of s) {
            if (WHITESPACE.test(ch)) {
              if (foldWhitespace) {
                if (out.spaceStart < 0) out.spaceStart = i;
                out.spaceEnd = j;
              } else pushString(ch, i, j);
            } else if (stripControl && CONTROL.test(ch) && ch !== '\u200d' && ch !== '\u200c') continue;
            else {
              if (out.spaceStart >= 0) flushSpace();
              pushString(ch, i, j);
            }
          }
        }
      }
      i = j;
    }
    return finishOutput(n, copy);
  }

  toJSON(): { kind: 'text'; options: Required<NormalizeOptions> } {
    return { kind: 'text', options: { ...this.options } };
  }
}

/**
 * Applies normalizers one after another; the alignment of the result points into the
 * original input of the first.
 */
export class SequenceNormalizer implements Normalizer {
  readonly kind = 'sequence';
  readonly steps: readonly Normalizer[];

  constructor(steps: readonly Normalizer[]) {
    if (!Array.isArray(steps) || steps.length === 0) throw new BadInputError('SequenceNormalizer needs at least one step');
    this.steps = Object.freeze([...steps]);
  }

  normalize(text: string): string {
    let s = text;
    for (const step of this.steps) s = step.normalize(s);
    return s;
  }

  normalizeAligned(text: string): AlignedText {
    let cur = this.steps[0]!.normalizeAligned(text);
    for (const step of this.steps.slice(1)) {
      // `cur` owns its arrays (the first step's copy, then each composition's), so a later step's
      // offsets may be the text normalizer's scratch views, read at once below.
      const next = step instanceof TextNormalizer ? step.normalizeAlignedTransient(cur.text) : step.normalizeAligned(cur.text);
      const starts = new Int32Array(next.text.length);
      const ends = new Int32Array(next.text.length);
      for (let k = 0; k < next.text.length; k++) {
        starts[k] = cur.starts[next.starts[k]!]!;
        ends[k] = cur.ends[next.ends[k]! - 1]!;
      }
      cur = { text: next.text, starts, ends };
    }
    return cur;
  }

  toJSON(): { kind: 'sequence'; steps: object[] } {
    return { kind: 'sequence', steps: this.steps.map((s) => s.toJSON()) };
  }
}

/** NFKC normalization as a composable step. */
export const nfkc = (): TextNormalizer => new TextNormalizer({ unicode: 'NFKC' });
/** Lower-casing as a composable step. */
export const lowercase = (): TextNormalizer => new TextNormalizer({ lowercase: true });
/** Accent stripping as a composable step. */
export const stripAccents = (): TextNormalizer => new TextNormalizer({ stripAccents: true });
/** Whitespace folding (runs to one space, trimmed) as a composable step. */
export const foldWhitespace = (): TextNormalizer => new TextNormalizer({ foldWhitespace: true });
/** Control-character removal as a composable step. */
export const stripControl = (): TextNormalizer => new TextNormalizer({ stripControl: true });

/** Composes normalizers left to right: `composeNormalizers(nfkc(), lowercase())`. */
export function composeNormalizers(...steps: Normalizer[]): Normalizer {
  return steps.length === 1 ? steps[0]! : new SequenceNormalizer(steps);
}

type NormalizerFactory = (json: Record<string, unknown>) => Normalizer;
const normalizerRegistry = new Map<string, NormalizerFactory>([
  ['text', (json) => new TextNormalizer(json['options'] as NormalizeOptions)],
  ['clean', (json) => new CleanTextNormalizer(json['options'] as CleanTextOptions)],
  [
    'sequence',
    (json) => {
      const steps = json['steps'];
      if (!Array.isArray(steps)) throw new BadInputError('sequence normalizer JSON: "steps" must be an array');
      return new SequenceNormalizer(steps.map((s) => normalizerFromJSON(s)));
    },
  ],
]);

/** Registers a custom normalizer kind so `TextVectorizer.fromJSON` can rebuild it. */
export function registerNormalizer(kind: string, fromJSON: NormalizerFactory): void {
  normalizerRegistry.set(kind, fromJSON);
}

/** Rebuilds a normalizer from its `toJSON()` form. */
export function normalizerFromJSON(json: unknown): Normalizer {
  if (json === null || typeof json !== 'object') throw new BadInputError(`normalizer JSON must be an object, got ${describe(json)}`);
  const kind = (json as Record<string, unknown>)['kind'];
  const factory = typeof kind === 'string' ? normalizerRegistry.get(kind) : undefined;
  if (!factory) {
    throw new BadInputError(`unknown normalizer kind ${JSON.stringify(kind)}; known kinds: ${[...normalizerRegistry.keys()].join(', ')}`);
  }
  return factory(json as Record<string, unknown>);
}

/** Short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `a string of length ${v.length}`;
  return typeof v === 'number' ? `number ${v}` : typeof v;
}
