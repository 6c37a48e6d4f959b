/** `--name value` from the command line, or the fallback (recipes take only long options). */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = process.argv[i + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a value`);
  return value;
}

/** Whether the flag `--name` was given. */
export function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

/** `--name` as a number (integer when `integer`), or the fallback. */
export function numberArg(name: string, fallback: number, integer = true): number {
  const raw = arg(name, String(fallback));
  const n = Number(raw);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new Error(`--${name}: expected ${integer ? 'an integer' : 'a number'}, got "${raw}"`);
  return n;
}
