/**
 * API keys: a keys file holds the SHA-256 of each key (never the key), its id and its scopes.
 * Callers send `Authorization: Bearer <key>` or `X-API-Key: <key>`; the key is hashed and
 * compared with every entry in constant time, so neither a match nor its position leaks through
 * timing. Keys are never logged: request logs carry the path without its query, and the
 * `?key=` form is read only on the job events stream (EventSource cannot set headers).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Request, RequestHandler, Response } from 'express';
import { ConfigError } from './config.js';
import { HttpError } from './errors.js';

/** What a key may do: call prediction routes, submit and watch jobs, pin model versions. */
export const API_SCOPES = Object.freeze(['predict', 'train', 'admin'] as const);
export type ApiScope = (typeof API_SCOPES)[number];

/** One entry of the keys file. */
export interface ApiKey {
  /** A name for the key (logs and rate limits use it; it is not secret). */
  id: string;
  /** Hex SHA-256 of the key. */
  sha256: string;
  scopes: ApiScope[];
}

/** The keys a service accepts. */
export interface KeyRing {
  /** The keys file it was read from. */
  file: string;
  keys: readonly ApiKey[];
}

const HEX_SHA256 = /^[0-9a-f]{64}$/;
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function checkEntry(entry: unknown, at: string, ids: Set<string>): ApiKey {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new Error(`${at}: expected an object { id, sha256, scopes }`);
  const e = entry as Record<string, unknown>;
  const unknown = Object.keys(e).filter((k) => !['id', 'sha256', 'scopes'].includes(k));
  if (unknown.length > 0) throw new Error(`${at}: unknown field ${unknown.join(', ')} (a keys file holds id, sha256 and scopes only; never the key itself)`);
  if (typeof e.id !== 'string' || !KEY_ID.test(e.id)) throw new Error(`${at}.id: expected a name of letters, digits, '.', '_', '-', got ${JSON.stringify(e.id)}`);
  if (ids.has(e.id)) throw new Error(`${at}.id: "${e.id}" is used by an earlier entry`);
  ids.add(e.id);
  if (typeof e.sha256 !== 'string' || !HEX_SHA256.test(e.sha256.toLowerCase())) {
    throw new Error(`${at}.sha256 (key "${e.id}"): expected the 64 hex digits of the key's SHA-256 (e.g. printf %s "$KEY" | sha256sum)`);
  }
  if (!Array.isArray(e.scopes) || e.scopes.length === 0 || !e.scopes.every((s) => (API_SCOPES as readonly unknown[]).includes(s))) {
    throw new Error(`${at}.scopes (key "${e.id}"): expected a non-empty list of ${API_SCOPES.join(', ')}, got ${JSON.stringify(e.scopes)}`);
  }
  return { id: e.id, sha256: e.sha256.toLowerCase(), scopes: [...new Set(e.scopes as ApiScope[])] };
}

/**
 * Reads and checks a keys file at start-up.
 *
 * @throws ConfigError naming the file and the entry at fault.
 */
export function loadKeyRing(file: string): KeyRing {
  const fail = (problem: string): never => {
    throw new ConfigError([`SEQLAB_API_KEYS (${file}): ${problem}`]);
  };
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    fail(`cannot read the keys file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    fail(`not valid JSON: ${(err as Error).message}`);
  }
  const list = (json as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list) || list.length === 0) fail('expected { "keys": [ { "id", "sha256", "scopes" }, ... ] } with at least one key');
  const ids = new Set<string>();
  try {
    return { file, keys: (list as unknown[]).map((entry, i) => checkEntry(entry, `keys[${i}]`, ids)) };
  } catch (err) {
    return fail((err as Error).message);
  }
}

/** The hex SHA-256 of a key: what a keys file stores. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** The entry whose hash matches `key`, comparing with every entry in constant time. */
export function findApiKey(ring: KeyRing, key: string): ApiKey | undefined {
  const presented = createHash('sha256').update(key, 'utf8').digest();
  let found: ApiKey | undefined;
  for (const entry of ring.keys) {
    if (timingSafeEqual(Buffer.from(entry.sha256, 'hex'), presented) && found === undefined) found = entry;
  }
  return found;
}

/** The key a request presents (header forms; the query form only where `allowQuery`). */
function presentedKey(req: Request, allowQuery: boolean): string | undefined {
  const auth = req.get('authorization');
  const bearer = auth === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1];
  if (bearer !== undefined) return bearer;
  const header = req.get('x-api-key');
  if (header !== undefined && header.length > 0) return header.trim();
  const query = allowQuery ? req.query.key : undefined;
  return typeof query === 'string' && query.length > 0 ? query : undefined;
}

/** Whether `?key=` is accepted on this path (the job events stream only). */
const QUERY_KEY_PATH = /^\/v1\/jobs\/[^/]+\/events$/;

/**
 * Identifies the caller before the rate limiter (which then counts per key id): sets
 * `res.locals.apiKey` for a known key and `res.locals.badKey` for an unknown one. Refuses
 * nothing by itself; {@link requireScope} does.
 */
export function identifyCaller(ring: KeyRing | undefined): RequestHandler {
  return (req, res, next) => {
    if (ring === undefined) return next();
    const key = presentedKey(req, QUERY_KEY_PATH.test(req.baseUrl + req.path));
    if (key !== undefined) {
      const entry = findApiKey(ring, key);
      if (entry === undefined) res.locals.badKey = true;
      else res.locals.apiKey = entry;
    }
    next();
  };
}

/** The caller's key id (after {@link identifyCaller}), for rate limits and logs. */
export function callerKeyId(res: Response): string | undefined {
  return (res.locals.apiKey as ApiKey | undefined)?.id;
}

/**
 * Admits only callers whose key has `scope`. Without a keys file the routes are off (404 with
 * `disabledCode`); no or an unknown key is 401 with `WWW-Authenticate: Bearer`; a key without
 * the scope is 403.
 */
export function requireScope(ring: KeyRing | undefined, scope: ApiScope, disabledCode: 'jobs_disabled' | 'admin_disabled' = 'jobs_disabled'): RequestHandler {
  return (_req, res, next) => {
    if (ring === undefined) {
      const what = disabledCode === 'jobs_disabled' ? 'jobs are' : 'model administration is';
      return next(new HttpError(404, disabledCode, `${what} off on this server: it was started without API keys (SEQLAB_API_KEYS)`));
    }
    const key = res.locals.apiKey as ApiKey | undefined;
    if (key === undefined) {
      res.set('WWW-Authenticate', `Bearer realm="seqlab", scope="${scope}"`);
      const why = res.locals.badKey ? 'the API key is not valid' : 'an API key is required (Authorization: Bearer <key> or X-API-Key)';
      return next(new HttpError(401, 'unauthorized', why));
    }
    if (!key.scopes.includes(scope)) return next(new HttpError(403, 'forbidden', `API key "${key.id}" lacks the scope "${scope}"`));
    next();
  };
}
