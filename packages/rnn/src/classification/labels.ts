import { RnnArgumentError } from '../errors.js';

/** Checks a list of class names: at least two, non-empty strings, no duplicates. */
export function checkClasses(classes: unknown, what: string): string[] {
  if (!Array.isArray(classes) || classes.length < 2) throw new RnnArgumentError(`${what} must list at least 2 class names, got ${JSON.stringify(classes)}`);
  const seen = new Set<string>();
  for (const [i, c] of classes.entries()) {
    if (typeof c !== 'string' || c.length === 0) throw new RnnArgumentError(`${what}[${i}] must be a non-empty string, got ${JSON.stringify(c)}`);
    if (seen.has(c)) throw new RnnArgumentError(`${what}: class ${JSON.stringify(c)} is listed twice`);
    seen.add(c);
  }
  return [...classes] as string[];
}
