/**
 * What the job tests share: a keys file, a small TREC upload, plain HTTP calls with a key, and a
 * Server-Sent Events reader that returns every event of a stream until it ends.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../src/index.js';

/** The keys of the tests (plain; the file holds their hashes) and their scopes. */
export const KEYS = {
  admin: 'k-admin-3b0f6c1e9d',
  trainer: 'k-train-71d2aa04e5',
  reader: 'k-read-c93e51f7b2',
} as const;

/** Writes the keys file for {@link KEYS}; returns its path. */
export function writeKeysFile(dir: string): string {
  const sha = (k: string) => createHash('sha256').update(k).digest('hex');
  const file = path.join(dir, 'keys.json');
  writeFileSync(
    file,
    JSON.stringify({
      keys: [
        { id: 'ci', sha256: sha(KEYS.admin), scopes: ['predict', 'train', 'admin'] },
        { id: 'trainer', sha256: sha(KEYS.trainer), scopes: ['train'] },
        { id: 'reader', sha256: sha(KEYS.reader), scopes: ['predict'] },
      ],
    }),
  );
  return file;
}

/** The first `rows` TREC training questions as `text<TAB>label` with coarse labels (a real, small upload). */
export function trecTsv(rows: number): string {
  const lines = readFileSync(path.join(REPO_ROOT, 'data/trec/train_5500.label'), 'latin1').trim().split('\n').slice(0, rows);
  return ['text\tlabel', ...lines.map((l) => `${l.slice(l.indexOf(' ') + 1).replace(/\t/g, ' ')}\t${l.slice(0, l.indexOf(':'))}`)].join('\n') + '\n';
}

/** The airline passenger series (values only). */
export function airlineValues(): number[] {
  return readFileSync(path.join(REPO_ROOT, 'data/classic_ts/airline-passengers.csv'), 'utf8').trim().split('\n').slice(1).map((r) => Number(r.split(',')[1]));
}

/** An answer: status, headers and the JSON body (or `undefined`). */
export interface Answer {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- answers are checked field by field
}

/** One HTTP call; `json` is sent as JSON, `form` as multipart. */
export async function call(base: string, method: string, url: string, options: { key?: string; json?: unknown; form?: FormData; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: string | FormData | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form) body = options.form;
  const res = await fetch(base + url, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** One Server-Sent Event. */
export interface SseEvent {
  event: string;
  data: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- events are checked field by field
}

/** Reads a Server-Sent Events stream to its end; `onEvent` sees each event as it arrives. */
export async function readSse(url: string, onEvent?: (e: SseEvent) => void): Promise<{ status: number; events: SseEvent[] }> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream' } });
  const events: SseEvent[] = [];
  if (!res.ok || !res.body) return { status: res.status, events };
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event === undefined || data === undefined) continue;
      const e = { event, data: JSON.parse(data) as unknown };
      events.push(e);
      onEvent?.(e);
    }
  }
  return { status: res.status, events };
}

/** Polls `check` until it returns a value other than `undefined`, or fails after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined>, ms = 20_000, what = 'condition'): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
