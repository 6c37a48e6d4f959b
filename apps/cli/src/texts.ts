import { readFileSync } from 'node:fs';
import { InputError, UsageError } from './errors.js';
import { existingFile } from './options.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/**
 * The texts a command works on: positional arguments, else the lines of `--file`, else the
 * lines of stdin when it is piped. Empty lines are skipped. Exactly one source may be used.
 */
export async function readTexts(args: string[], file: string | undefined, what = 'text'): Promise<string[]> {
  if (args.length > 0 && file) throw new UsageError(`give ${what}s as arguments or with --file, not both`);
  let texts: string[];
  if (args.length > 0) texts = args.map((a) => a.trim()).filter((a) => a.length > 0);
  else if (file) texts = lines(readFileSync(existingFile(file, '--file'), 'utf8'));
  else if (!process.stdin.isTTY) texts = lines(await readStdin());
  else throw new UsageError(`no ${what} given: pass it as an argument, with --file F, or on stdin`);
  if (texts.length === 0) throw new InputError(`no ${what} found: the input is empty`);
  return texts;
}
