import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { NotFoundError, UsageError, formatZodError } from './errors.js';

/*
 * Commander hands every option over as a string (or string[]); these schemas turn them into
 * typed values and say what was expected and what was received when they cannot.
 */

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function numberFrom(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return Number.NaN;
}

/** A finite number satisfying `check`, with `what` in the error message. */
export function number(what: string, check: (n: number) => boolean = () => true) {
  return z.unknown().transform((value, ctx) => {
    const n = numberFrom(value);
    if (!Number.isFinite(n) || !check(n)) {
      ctx.addIssue({ code: 'custom', message: `expected ${what}, got ${show(value)}` });
      return z.NEVER;
    }
    return n;
  });
}

/** An integer in [min, max]. */
export function int(min: number, max = Number.MAX_SAFE_INTEGER) {
  const what =
    min === 1 && max === Number.MAX_SAFE_INTEGER
      ? 'a positive integer'
      : max === Number.MAX_SAFE_INTEGER
        ? `an integer >= ${min}`
        : `an integer between ${min} and ${max}`;
  return number(what, (n) => Number.isInteger(n) && n >= min && n <= max);
}

/** A positive integer. */
export const positiveInt = int(1);
/** A number in (0, 1]. */
export const probability = number('a number in (0, 1]', (n) => n > 0 && n <= 1);
/** A number in (0, 1). */
export const fraction = number('a number between 0 and 1 (exclusive)', (n) => n > 0 && n < 1);
/** A number > 0. */
export const positive = number('a number > 0', (n) => n > 0);
/** A number >= 0. */
export const nonNegative = number('a number >= 0', (n) => n >= 0);
/** Any integer, used for seeds. */
export const seed = number('an integer seed', (n) => Number.isInteger(n));

/** One of `values`, listing them all when the value is not one. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T, what = 'one of') {
  return z.unknown().transform((value, ctx) => {
    if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as T[number];
    ctx.addIssue({ code: 'custom', message: `expected ${what} ${values.join(', ')}; got ${show(value)}` });
    return z.NEVER;
  });
}

/** Comma-separated or repeated numbers, e.g. `--level 80,95`. */
export function numberList(what: string, check: (n: number) => boolean) {
  return z.unknown().transform((value, ctx) => {
    const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(',')).map((s) => s.trim());
    const out: number[] = [];
    for (const part of parts) {
      const n = numberFrom(part);
      if (part === '' || !Number.isFinite(n) || !check(n)) {
        ctx.addIssue({ code: 'custom', message: `expected ${what}, got ${show(part)}` });
        return z.NEVER;
      }
      out.push(n);
    }
    return out;
  });
}

/** Comma-separated non-negative integers (ensemble seeds, look-backs): `--seeds 1,2,3`. */
export const intList = numberList('comma-separated non-negative integers', (n) => Number.isInteger(n) && n >= 0);

/** Options every command accepts. */
export const commonSchema = z.object({
  json: z.boolean().default(false),
  verbose: z.boolean().default(false),
});

/**
 * Validates commander's parsed options against `schema`; a failure becomes a {@link UsageError}
 * naming the option flag (`--top-k: expected a positive integer, got "x"`).
 */
export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const result = schema.safeParse(raw);
  if (!result.success) throw new UsageError(formatZodError(result.error));
  return result.data;
}

/** Resolves `path` and checks it is an existing file, naming the option when it is not. */
export function existingFile(path: string, option: string): string {
  const full = resolve(path);
  if (!existsSync(full)) throw new NotFoundError(`${option}: file not found: ${path}`);
  if (!statSync(full).isFile()) throw new UsageError(`${option}: not a file: ${path}`);
  return full;
}

/** Resolves `path` and checks it is an existing directory. */
export function existingDir(path: string, option: string): string {
  const full = resolve(path);
  if (!existsSync(full)) throw new NotFoundError(`${option}: directory not found: ${path}`);
  if (!statSync(full).isDirectory()) throw new UsageError(`${option}: not a directory: ${path}`);
  return full;
}

/** Checks a plot path ends in .png or .svg. */
export function plotPath(path: string | undefined, option = '--plot'): string | undefined {
  if (path === undefined) return undefined;
  if (!/\.(png|svg)$/i.test(path)) throw new UsageError(`${option}: the file name must end in .png or .svg, got ${JSON.stringify(path)}`);
  return resolve(path);
}
