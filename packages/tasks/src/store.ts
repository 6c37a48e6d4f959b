/**
 * A versioned model store in the TF Serving layout: `<root>/<name>/<version>/`, one integer
 * folder per published version. Training jobs publish into it; serving replicas resolve the
 * version to serve (the pin, else the newest) and watch for changes. Folders with a
 * `config.json` directly under `<root>/<name>/` are the older, unversioned layout and resolve
 * to themselves.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs, readFileSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { BadInputError, MODEL_CONFIG, NotFoundError, writeJsonAtomic } from '@seqlab/core/base';

/** The manifest of one model name, rewritten (atomically) on every publish. */
export const VERSIONS_FILE = 'versions.json';
/** The pin of one model name: `{ "version": 3 }`. */
export const PIN_FILE = 'pin.json';
/** Written inside each version folder before it becomes visible: who published it, and why. */
export const PUBLISH_RECORD = '.publish.json';
const LOCK_FILE = '.publish.lock';
const STAGING_PREFIX = '.incoming-';
const VERSION_DIR = /^[1-9][0-9]{0,8}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** One published version, as listed in `versions.json`. */
export interface ModelVersionRecord {
  version: number;
  /** ISO time of the publish. */
  publishedAt: string;
  /** The key the publisher gave (a job id), when it gave one. */
  idempotencyKey?: string;
}

/** Options of {@link ModelStore.publish}. */
export interface PublishOptions {
  /**
   * A key (e.g. a job id) that makes the publish idempotent: publishing again with a key already
   * published returns that version and publishes nothing.
   */
  idempotencyKey?: string;
  /** Copy `fromDir` instead of moving it (a move is a rename when both are on one file system). */
  copy?: boolean;
}

/** What {@link ModelStore.publish} returns. */
export interface PublishResult {
  name: string;
  version: number;
  dir: string;
  /** True when the idempotency key had already been published and nothing new was written. */
  existing: boolean;
}

/** The folder to serve for a name, as {@link ModelStore.resolve} chooses it. */
export interface ResolvedModel {
  name: string;
  dir: string;
  /** `null` for an unversioned folder. */
  version: number | null;
  /** True when a pin chose the version. */
  pinned: boolean;
}

/** One entry of {@link ModelStore.list}. */
export interface StoredModel {
  name: string;
  /** Published versions, oldest first; empty for an unversioned folder. */
  versions: number[];
  /** The version a replica serves (`null` for an unversioned folder or a name with no version). */
  served: number | null;
  pinned: number | null;
  unversioned: boolean;
}

/** Options of {@link ModelStore}. */
export interface ModelStoreOptions {
  /** A publish lock older than this is taken to be left by a crashed publisher. Default 30 s. */
  staleLockMs?: number;
  /** Staging folders older than this are removed by the next publish. Default 1 h. */
  staleStagingMs?: number;
}

/** A watch started by {@link ModelStore.watch}. */
export interface ModelWatch {
  close(): void;
}

/**
 * Published models under one folder, safe for concurrent publishers on one file system (shared
 * by several machines, as long as it has POSIX rename and exclusive create).
 *
 * @example
 * ```ts
 * const store = new ModelStore(modelsDir());
 * const { version } = await store.publish('topics', 'runs/job-7/model', { idempotencyKey: 'job-7' });
 * const served = await store.resolve('topics'); // { dir: '<root>/topics/1', version: 1, ... }
 * await store.pin('topics', 1);                  // roll back / hold a version
 * ```
 */
export class ModelStore {
  readonly root: string;
  private readonly staleLockMs: number;
  private readonly staleStagingMs: number;

  constructor(root: string, options: ModelStoreOptions = {}) {
    if (typeof root !== 'string' || root.length === 0) throw new BadInputError('ModelStore: root must be a folder path');
    this.root = path.resolve(root);
    this.staleLockMs = options.staleLockMs ?? 30_000;
    this.staleStagingMs = options.staleStagingMs ?? 3_600_000;
  }

  /**
   * Moves (or copies) a finished model folder into the store as the next version. The folder
   * becomes visible in one rename, so readers never see a partial version; a publish that dies
   * half-way leaves only a hidden staging folder that a later publish removes.
   *
   * @throws BadInputError for a bad name or a `fromDir` that is not a model folder.
   */
  async publish(name: string, fromDir: string, options: PublishOptions = {}): Promise<PublishResult> {
    const base = this.nameDir(name);
    const key = options.idempotencyKey;
    if (key !== undefined && (typeof key !== 'string' || key.length === 0)) throw new BadInputError('publish: idempotencyKey must be a non-empty string');
    const already = key === undefined ? undefined : await this.findByKey(name, key);
    if (already !== undefined) return { name, version: already, dir: path.join(base, String(already)), existing: true };
    await checkModelFolder(fromDir);
    await fs.mkdir(base, { recursive: true });
    await this.removeStaleStaging(base);
    const staging = path.join(base, `${STAGING_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
    const moved = await stageFolder(fromDir, staging, options.copy === true);
    await writeJsonAtomic(path.join(staging, PUBLISH_RECORD), { publishedAt: new Date().toISOString(), idempotencyKey: key, host: hostname(), pid: process.pid });
    try {
      return await this.withLock(base, async () => {
        const records = await this.records(base);
        const same = key === undefined ? undefined : records.find((r) => r.idempotencyKey === key);
        if (same !== undefined) {
          await unstage(staging, fromDir, moved);
          return { name, version: same.version, dir: path.join(base, String(same.version)), existing: true };
        }
        const version = Math.max(0, await this.lastVersion(base), ...records.map((r) => r.version)) + 1;
        const dir = path.join(base, String(version));
        await fs.rename(staging, dir);
        const record: ModelVersionRecord = { version, publishedAt: new Date().toISOString(), ...(key === undefined ? {} : { idempotencyKey: key }) };
        await writeJsonAtomic(path.join(base, VERSIONS_FILE), { name, lastVersion: version, versions: [...records, record] });
        return { name, version, dir, existing: false };
      });
    } catch (err) {
      if (existsSync(staging)) await unstage(staging, fromDir, moved);
      throw err;
    }
  }

  /** The version published with `key`, if any (read from the version folders themselves). */
  async findByKey(name: string, key: string): Promise<number | undefined> {
    const records = await this.records(this.nameDir(name));
    return records.find((r) => r.idempotencyKey === key)?.version;
  }

  /** Published versions of `name`, oldest first (empty when there are none). */
  async versions(name: string): Promise<number[]> {
    return listVersions(this.nameDir(name));
  }

  /** The newest version of `name`, or `null`. */
  async latest(name: string): Promise<number | null> {
    const all = await this.versions(name);
    return all.length > 0 ? all[all.length - 1]! : null;
  }

  /** The pinned version of `name`, or `null`. */
  async pinned(name: string): Promise<number | null> {
    const file = path.join(this.nameDir(name), PIN_FILE);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch {
      return null;
    }
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'number' && Number.isInteger(version) ? version : null;
  }

  /**
   * Pins `name` to `version` (replicas serve it instead of the newest: a rollback), or removes
   * the pin with `null`.
   *
   * @throws NotFoundError when that version was never published.
   */
  async pin(name: string, version: number | null): Promise<void> {
    const base = this.nameDir(name);
    const file = path.join(base, PIN_FILE);
    if (version === null) {
      await fs.rm(file, { force: true });
      return;
    }
    const all = await listVersions(base);
    if (!Number.isInteger(version) || !all.includes(version)) {
      throw new NotFoundError(`pin: model "${name}" has no version ${String(version)} (versions: ${all.join(', ') || 'none'})`);
    }
    await writeJsonAtomic(file, { version });
  }

  /**
   * The folder to serve for `name`: an unversioned folder itself, else the pinned version,
   * else the newest.
   *
   * @throws NotFoundError when the name has no folder, no version, or a pin to a missing version.
   */
  async resolve(name: string): Promise<ResolvedModel> {
    const base = this.nameDir(name);
    if (existsSync(path.join(base, MODEL_CONFIG))) return { name, dir: base, version: null, pinned: false };
    const pin = await this.pinned(name);
    if (pin !== null) {
      const dir = path.join(base, String(pin));
      if (!existsSync(dir)) throw new NotFoundError(`model "${name}" is pinned to version ${pin}, which does not exist`);
      return { name, dir, version: pin, pinned: true };
    }
    const newest = await this.latest(name);
    if (newest === null) throw new NotFoundError(`model "${name}" has no published version in the model store`);
    return { name, dir: path.join(base, String(newest)), version: newest, pinned: false };
  }

  /** Every model name in the store with its versions and the one served. */
  async list(): Promise<StoredModel[]> {
    let entries: string[];
    try {
      entries = (await fs.readdir(this.root, { withFileTypes: true })).filter((e) => e.isDirectory() && NAME.test(e.name)).map((e) => e.name);
    } catch {
      return [];
    }
    const out: StoredModel[] = [];
    for (const name of entries.sort()) {
      const base = path.join(this.root, name);
      const unversioned = existsSync(path.join(base, MODEL_CONFIG));
      const versions = unversioned ? [] : await listVersions(base);
      if (!unversioned && versions.length === 0) continue;
      const pinned = unversioned ? null : await this.pinned(name);
      const served = unversioned ? null : (pinned ?? versions[versions.length - 1]!);
      out.push({ name, versions, served, pinned, unversioned });
    }
    return out;
  }

  /**
   * Calls `onChange` whenever the folder {@link resolve} gives for `name` changes (a publish, a
   * pin, an unpin). Polls, which works on network file systems where change events do not.
   */
  watch(name: string, onChange: (model: ResolvedModel) => void, options: { intervalMs?: number } = {}): ModelWatch {
    this.nameDir(name);
    let last: string | undefined;
    let busy = false;
    const check = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        const now = await this.resolve(name).catch(() => undefined);
        const id = now === undefined ? '' : now.dir;
        if (last !== undefined && id !== last && now !== undefined) onChange(now);
        last = id;
      } finally {
        busy = false;
      }
    };
    void check();
    const timer = setInterval(() => void check(), options.intervalMs ?? 1000);
    timer.unref();
    return { close: () => clearInterval(timer) };
  }

  private nameDir(name: string): string {
    if (typeof name !== 'string' || !NAME.test(name) || name.includes('..')) {
      throw new BadInputError(`model store: "${String(name)}" is not a valid model name (letters, digits, '.', '_', '-'; at most 64)`);
    }
    return path.join(this.root, name);
  }

  private async records(base: string): Promise<ModelVersionRecord[]> {
    const out: ModelVersionRecord[] = [];
    for (const version of await listVersions(base)) {
      const record = await readJson<{ publishedAt?: string; idempotencyKey?: string }>(path.join(base, String(version), PUBLISH_RECORD));
      out.push({ version, publishedAt: record?.publishedAt ?? '', ...(record?.idempotencyKey ? { idempotencyKey: record.idempotencyKey } : {}) });
    }
    return out;
  }

  // Versions are never reused, even after a version folder is deleted by hand.
  private async lastVersion(base: string): Promise<number> {
    const manifest = await readJson<{ lastVersion?: unknown }>(path.join(base, VERSIONS_FILE));
    return typeof manifest?.lastVersion === 'number' ? manifest.lastVersion : 0;
  }

  private async removeStaleStaging(base: string): Promise<void> {
    for (const entry of await fs.readdir(base)) {
      if (!entry.startsWith(STAGING_PREFIX)) continue;
      const full = path.join(base, entry);
      const stat = await fs.stat(full).catch(() => undefined);
      if (stat && Date.now() - stat.mtimeMs > this.staleStagingMs) await fs.rm(full, { recursive: true, force: true });
    }
  }

  private async withLock<T>(base: string, fn: () => Promise<T>): Promise<T> {
    const lock = path.join(base, LOCK_FILE);
    for (let attempt = 0; ; attempt++) {
      try {
        const handle = await fs.open(lock, 'wx');
        await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() }));
        await handle.close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        await this.breakStaleLock(lock);
        await new Promise((r) => setTimeout(r, Math.min(200, 5 + attempt * 5) * (0.5 + Math.random())));
      }
    }
    try {
      return await fn();
    } finally {
      await fs.rm(lock, { force: true });
    }
  }

  private async breakStaleLock(lock: string): Promise<void> {
    const stat = await fs.stat(lock).catch(() => undefined);
    if (stat === undefined || Date.now() - stat.mtimeMs < this.staleLockMs) return;
    // Rename first so that of two processes breaking the same stale lock only one removes it.
    const aside = `${lock}.stale-${randomBytes(4).toString('hex')}`;
    try {
      await fs.rename(lock, aside);
      await fs.rm(aside, { force: true });
    } catch {
      /* another process broke or released it */
    }
  }
}

/**
 * The synchronous form of {@link ModelStore.resolve} for model-name lookups that cannot wait
 * (`resolveModelDir`): the folder to load for `<root>/<name>` (itself when unversioned, else
 * the pinned or newest version), or `undefined` when the name has neither.
 */
export function servedModelDir(root: string, name: string): string | undefined {
  const base = path.join(root, name);
  if (existsSync(path.join(base, MODEL_CONFIG))) return base;
  let versions: number[];
  try {
    versions = readdirSync(base, { withFileTypes: true })
      .filter((e) => e.isDirectory() && VERSION_DIR.test(e.name))
      .map((e) => Number(e.name));
  } catch {
    return undefined;
  }
  let pin: unknown;
  try {
    pin = (JSON.parse(readFileSync(path.join(base, PIN_FILE), 'utf8')) as { version?: unknown }).version;
  } catch {
    pin = undefined;
  }
  if (typeof pin === 'number' && versions.includes(pin)) return path.join(base, String(pin));
  return versions.length > 0 ? path.join(base, String(Math.max(...versions))) : undefined;
}

async function listVersions(base: string): Promise<number[]> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(base, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isDirectory() && VERSION_DIR.test(e.name))
    .map((e) => Number(e.name))
    .sort((a, b) => a - b);
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

async function checkModelFolder(fromDir: string): Promise<void> {
  const stat = await fs.stat(fromDir).catch(() => undefined);
  if (stat === undefined || !stat.isDirectory()) throw new BadInputError(`publish: "${fromDir}" is not a folder`);
  if ((await fs.readdir(fromDir)).length === 0) throw new BadInputError(`publish: "${fromDir}" is empty`);
}

/** Puts `fromDir` at `staging`; returns true when it was moved (so a lost race can move it back). */
async function stageFolder(fromDir: string, staging: string, copy: boolean): Promise<boolean> {
  if (!copy) {
    try {
      await fs.rename(fromDir, staging);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    }
  }
  await fs.cp(fromDir, staging, { recursive: true });
  return false;
}

async function unstage(staging: string, fromDir: string, moved: boolean): Promise<void> {
  await fs.rm(path.join(staging, PUBLISH_RECORD), { force: true });
  if (moved && !existsSync(fromDir)) await fs.rename(staging, fromDir);
  else await fs.rm(staging, { recursive: true, force: true });
}

/** The store version of a served folder (`<name>/<version>/`), or `null` for an unversioned folder. */
export function storeVersionOf(dir: string): number | null {
  const last = path.basename(dir);
  return VERSION_DIR.test(last) && !existsSync(path.join(path.dirname(dir), MODEL_CONFIG)) ? Number(last) : null;
}

/** Whether `dir` is a store name folder: version folders inside, no model of its own. */
export function isStoreNameFolder(dir: string): boolean {
  if (existsSync(path.join(dir, MODEL_CONFIG))) return false;
  try {
    return readdirSync(dir).some((e) => VERSION_DIR.test(e));
  } catch {
    return false;
  }
}

/**
 * The task of the model served under `<root>/<name>` (read from its config without loading it),
 * or `undefined` when there is none or it cannot be read: for listings that must not wait.
 */
export function servedModelTask(root: string, name: string): string | undefined {
  const dir = servedModelDir(root, name);
  if (!dir) return undefined;
  try {
    const task = (JSON.parse(readFileSync(path.join(dir, MODEL_CONFIG), 'utf8')) as { task?: unknown }).task;
    return typeof task === 'string' ? task : undefined;
  } catch {
    return undefined;
  }
}
