import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { MAX_PROMPT_LENGTH } from '@seqlab/core/base';
import { InputError, UsageError } from './errors.js';
import { existingFile } from './options.js';

/**
 * A generation prompt: not empty and at most {@link MAX_PROMPT_LENGTH} characters, the limit the
 * API applies too. The whole prompt is read before the first token appears, so an overlong one
 * would mean minutes of silence rather than an answer.
 */
export const promptSchema = z
  .string()
  .min(1, 'the prompt must not be empty')
  .superRefine((prompt, ctx) => {
    if (prompt.length > MAX_PROMPT_LENGTH) {
      ctx.addIssue({
        code: 'custom',
        message: `is ${prompt.length} characters; the limit is ${MAX_PROMPT_LENGTH} (the same as the API's) because the whole prompt is read before anything is generated; shorten it`,
      });
    }
  });

/** C0 controls except tab and newline, DEL, and C1 controls (ESC starts terminal escape sequences). */
function isControl(code: number): boolean {
  return (code < 0x20 && code !== 0x09 && code !== 0x0a) || (code >= 0x7f && code <= 0x9f);
}

/**
 * `text` safe to print on a terminal: control characters (other than tab and newline) become
 * visible escapes such as `\x1b`, so a text read from a binary file cannot move the cursor,
 * change colours or ring the bell.
 */
export function escapeControl(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    out += isControl(code) ? `\\x${code.toString(16).padStart(2, '0')}` : ch;
  }
  return out;
}

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
  else if (file) {
    const content = readFileSync(existingFile(file, '--file'), 'utf8');
    // Text files have no NUL bytes; binary ones almost always do.
    if (content.includes('\u0000')) throw new InputError(`--file ${file}: looks like a binary file (it contains NUL bytes); give a text file with one ${what} per line`);
    texts = lines(content);
  }
  else if (!process.stdin.isTTY) texts = lines(await readStdin());
  else throw new UsageError(`no ${what} given: pass it as an argument, with --file F, or on stdin`);
  if (texts.length === 0) throw new InputError(`no ${what} found: the input is empty`);
  return texts;
}
