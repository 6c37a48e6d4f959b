import type { AlignedText, Normalizer } from './types.js';
import { BadInputError } from '@seqlab/core/base';

/** Options of {@link CleanTextNormalizer}; every step is off unless set. */
export interface CleanTextOptions {
  /**
   * Strip markup: HTML/XML tags and comments become a space (`<br />` in scraped reviews is not
   * a word) and character entities are decoded (`&amp;` -> `&`, `&#39;` -> `'`). Default false.
   */
  markup?: boolean;
  /** Replace URLs (`http(s)://...`, `www....`) and e-mail addresses by this placeholder (e.g. `'xxurl'`), or `false`. Default false. */
  urls?: string | false;
  /** Replace numbers (`42`, `3.14`, `1,000`) by this placeholder (e.g. `'xxnum'`), or `false`. Default false. */
  numbers?: string | false;
}

/** The placeholders {@link cleanText} uses: single lower-case words, so every tokenizer keeps them whole. */
export const CLEAN_PLACEHOLDERS = Object.freeze({ url: 'xxurl', number: 'xxnum' });

const NAMED_ENTITIES: Readonly<Record<string, string>> = Object.freeze({
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00A0',
  ndash: '\u2013',
  mdash: '\u2014',
  hellip: '\u2026',
  lsquo: '\u2018',
  rsquo: '\u2019',
  ldquo: '\u201C',
  rdquo: '\u201D',
  eacute: '\u00E9',
  copy: '\u00A9',
});

const TAG = String.raw`<!--[\s\S]*?-->|<\/?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?\/?>`;
const ENTITY = String.raw`&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z]{2,8});`;
const URL = String.raw`\b(?:https?:\/\/|www\.)[^\s<>"]+[^\s<>".,;:!?)\]'}]|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b`;
const NUMBER = String.raw`(?<![\p{L}\p{N}_])\d+(?:[.,]\d+)*(?![\p{L}\p{N}_])`;

function checkPlaceholder(name: string, v: unknown): string | false {
  if (v === undefined || v === false) return false;
  if (typeof v !== 'string' || !/^\S+$/u.test(v)) throw new BadInputError(`clean.${name} must be a placeholder word (no spaces) or false, got ${JSON.stringify(v)}`);
  return v;
}

function decodeEntity(entity: string): string | undefined {
  const body = entity.slice(1, -1);
  if (body.startsWith('#')) {
    const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : undefined;
  }
  return NAMED_ENTITIES[body.toLowerCase()];
}

/**
 * Text cleaning for classifiers trained on scraped text: markup stripped and entities decoded,
 * URLs and numbers replaced by placeholders; each step optional. Keeps an exact alignment (a
 * replacement spans the whole original it replaced), so token offsets and explanations still
 * point into the original text. Saved with the vectorizer (`kind: 'clean'`) and applied on load.
 *
 * @example
 * ```ts
 * new CleanTextNormalizer({ markup: true, urls: 'xxurl' }).normalize('Great!<br />See https://x.io &amp; more');
 * // 'Great!  See xxurl & more'
 * ```
 */
export class CleanTextNormalizer implements Normalizer {
  readonly kind = 'clean';
  readonly options: Readonly<{ markup: boolean; urls: string | false; numbers: string | false }>;
  private readonly pattern: RegExp | undefined;

  constructor(options: CleanTextOptions = {}) {
    if (options === null || typeof options !== 'object') throw new BadInputError(`clean options must be an object, got ${typeof options}`);
    const unknown = Object.keys(options).filter((k) => !['markup', 'urls', 'numbers'].includes(k));
    if (unknown.length) throw new BadInputError(`clean: unknown option(s) ${unknown.join(', ')}; valid: markup, urls, numbers`);
    if (options.markup !== undefined && typeof options.markup !== 'boolean') throw new BadInputError(`clean.markup must be a boolean, got ${JSON.stringify(options.markup)}`);
    this.options = Object.freeze({ markup: options.markup ?? false, urls: checkPlaceholder('urls', options.urls), numbers: checkPlaceholder('numbers', options.numbers) });
    // One pass over the text with named alternatives, URLs before numbers (a URL holds digits).
    const parts: string[] = [];
    if (this.options.markup) parts.push(`(?<tag>${TAG})`, `(?<entity>${ENTITY})`);
    if (this.options.urls) parts.push(`(?<url>${URL})`);
    if (this.options.numbers) parts.push(`(?<number>${NUMBER})`);
    this.pattern = parts.length ? new RegExp(parts.join('|'), 'gu') : undefined;
  }

  normalize(text: string): string {
    if (typeof text !== 'string') throw new BadInputError(`clean: expected a string, got ${typeof text}`);
    if (!this.pattern) return text;
    return text.replace(this.pattern, (...args: unknown[]) => this.replacement(args[args.length - 1] as Record<string, string | undefined>) ?? (args[0] as string));
  }

  normalizeAligned(text: string): AlignedText {
    if (typeof text !== 'string') throw new BadInputError(`clean: expected a string, got ${typeof text}`);
    // Matches are few (a review's <br /> tags): collect them, then fill offsets of the exact size.
    const matches: Array<{ from: number; to: number; put: string | undefined }> = [];
    let size = text.length;
    if (this.pattern) {
      for (const m of text.matchAll(this.pattern)) {
        const put = this.replacement(m.groups!);
        matches.push({ from: m.index, to: m.index + m[0].length, put });
        if (put !== undefined) size += put.length - m[0].length;
      }
    }
    if (matches.length === 0) {
      const starts = new Int32Array(text.length);
      const ends = new Int32Array(text.length);
      for (let i = 0; i < text.length; i++) {
        starts[i] = i;
        ends[i] = i + 1;
      }
      return { text, starts, ends };
    }
    const starts = new Int32Array(size);
    const ends = new Int32Array(size);
    const parts: string[] = [];
    let k = 0;
    let at = 0;
    const copy = (from: number, to: number) => {
      for (let i = from; i < to; i++, k++) {
        starts[k] = i;
        ends[k] = i + 1;
      }
    };
    for (const { from, to, put } of matches) {
      copy(at, from);
      parts.push(text.slice(at, from), put ?? text.slice(from, to));
      // A replacement spans the whole original it replaced; an undecodable entity is kept as is.
      if (put === undefined) copy(from, to);
      else {
        starts.fill(from, k, k + put.length);
        ends.fill(to, k, k + put.length);
        k += put.length;
      }
      at = to;
    }
    copy(at, text.length);
    parts.push(text.slice(at));
    return { text: parts.join(''), starts, ends };
  }

  /** What a match of the pattern becomes; undefined for an entity that does not decode (kept as it is). */
  private replacement(g: Record<string, string | undefined>): string | undefined {
    if (g.tag !== undefined) return ' ';
    if (g.entity !== undefined) return decodeEntity(g.entity);
    if (g.url !== undefined) return this.options.urls as string;
    return this.options.numbers as string;
  }

  toJSON(): { kind: 'clean'; options: { markup: boolean; urls: string | false; numbers: string | false } } {
    return { kind: 'clean', options: { ...this.options } };
  }
}

/** Cleans one text (see {@link CleanTextNormalizer}). */
export function cleanText(text: string, options: CleanTextOptions): string {
  return new CleanTextNormalizer(options).normalize(text);
}
