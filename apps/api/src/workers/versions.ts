/**
 * Hot reload inside a model worker: each model name is served from the folder the model store
 * resolves for it (its pin, else its newest version, else the unversioned folder). The folder is
 * looked up again at most every `recheckMs`; when it changed, the new version loads beside the
 * old one, which keeps answering until the new one is ready and is disposed after its last
 * in-flight request. The same rule as @seqlab/tasks' ServedModels, keeping the worker's own
 * loaders (a shared sentence encoder, names in messages).
 */
import { isStoreNameFolder, storeVersionOf } from '@seqlab/tasks';

interface Version<P> {
  dir: string;
  pipeline: Promise<P>;
  inFlight: number;
  retired: boolean;
  disposed?: boolean;
}

interface Slot<P> {
  current?: Version<P>;
  loading?: Version<P>;
  checkedAt: number;
}

/** What {@link VersionedPipelines.use} hands the caller with the pipeline. */
export interface ServedFolder {
  dir: string;
  /** The store version (`<name>/<version>/`), or `null` for an unversioned folder. */
  version: number | null;
}

/** The version number of a served folder, or `null` when it is not a `<name>/<version>/` folder. */
export const versionOf = storeVersionOf;

/** Whether `dir` is a model-store name folder (version folders, no model of its own). */
export const isVersionedFolder = isStoreNameFolder;

/** Loaded pipelines by key (task and model), following the store's served version. */
export class VersionedPipelines<P extends { dispose(): void }> {
  private readonly slots = new Map<string, Slot<P>>();

  constructor(private readonly recheckMs: number) {}

  /**
   * Runs `fn` with the pipeline of the folder `resolveDir()` gives for `key`, loading it with
   * `load` when it is new. A failed load is not kept: the next request tries again.
   */
  async use<R>(key: string, resolveDir: () => string, load: (dir: string) => Promise<P>, fn: (pipeline: P, served: ServedFolder) => Promise<R> | R): Promise<R> {
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = { checkedAt: 0 };
      this.slots.set(key, slot);
    }
    const now = Date.now();
    if ((slot.current === undefined && slot.loading === undefined) || now - slot.checkedAt >= this.recheckMs) {
      slot.checkedAt = now;
      const dir = resolveDir();
      if ((slot.loading ?? slot.current)?.dir !== dir) this.startLoading(key, slot, dir, load);
    }
    // The old version keeps answering while the new one loads.
    const version = slot.current ?? slot.loading!;
    version.inFlight++;
    try {
      const pipeline = await version.pipeline;
      return await fn(pipeline, { dir: version.dir, version: versionOf(version.dir) });
    } finally {
      version.inFlight--;
      if (version.retired && version.inFlight === 0) dispose(version);
    }
  }

  /** Disposes every loaded pipeline (after its in-flight requests). */
  clear(): void {
    for (const slot of this.slots.values()) for (const v of [slot.current, slot.loading]) if (v) retire(v);
    this.slots.clear();
  }

  private startLoading(key: string, slot: Slot<P>, dir: string, load: (dir: string) => Promise<P>): void {
    const next: Version<P> = { dir, pipeline: load(dir), inFlight: 0, retired: false };
    slot.loading = next;
    next.pipeline.then(
      () => {
        if (slot.loading !== next) return retire(next);
        const old = slot.current;
        slot.current = next;
        slot.loading = undefined;
        if (old) retire(old);
      },
      () => {
        if (slot.loading === next) slot.loading = undefined;
        // With a version still serving, the broken one is tried again at the next check (not at
        // every request); with none, the next request tries again.
        if (slot.current === undefined && this.slots.get(key) === slot) this.slots.delete(key);
      },
    );
  }
}

function retire<P extends { dispose(): void }>(version: Version<P>): void {
  version.retired = true;
  if (version.inFlight === 0) dispose(version);
}

function dispose<P extends { dispose(): void }>(version: Version<P>): void {
  if (version.disposed) return;
  version.disposed = true;
  void version.pipeline.then(
    (p) => p.dispose(),
    () => undefined,
  );
}
