/**
 * Hot model versions for a serving replica: each name's served version (the pin, else the
 * newest) is loaded once and used by every request; when the store's choice changes, the new
 * version is loaded beside the old one, requests switch to it, and the old one is disposed only
 * after its last in-flight request finishes. No restart, and no request fails for the swap.
 */
import type { TaskName } from '@seqlab/core';
import { pipeline, type PipelineByTask } from './pipeline.js';
import type { ModelStore, ModelWatch, ResolvedModel } from './store.js';

/** What {@link ServedModels.use} tells the caller about the version it got. */
export interface ServedVersion {
  name: string;
  /** `null` for an unversioned folder. */
  version: number | null;
  dir: string;
}

/** Options of {@link ServedModels}. */
export interface ServedModelsOptions {
  /** How often each served name's store folder is checked for a new version or pin. Default 1000 ms. */
  intervalMs?: number;
  /** Called when a new version is served, or when loading one failed (the old one stays). */
  onSwap?: (event: { name: string; from: number | null; to: number | null; error?: unknown }) => void;
}

interface Loaded {
  task: TaskName;
  model: ResolvedModel;
  pipeline: PipelineByTask[TaskName];
  inFlight: number;
  retired: boolean;
}

interface Entry {
  task: TaskName;
  current: Promise<Loaded>;
  watch?: ModelWatch;
}

/**
 * Loaded pipelines of models in a {@link ModelStore}, swapped to new versions as they appear.
 *
 * @example
 * ```ts
 * const served = new ServedModels(new ModelStore(modelsDir()));
 * const results = await served.use('text-classification', 'topics', (clf) => clf.predict(texts));
 * ```
 */
export class ServedModels {
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(
    readonly store: ModelStore,
    private readonly options: ServedModelsOptions = {},
  ) {}

  /**
   * Runs `fn` with the served version of `name`, loading it on first use; the version stays
   * loaded until `fn` settles even if a newer one is served meanwhile.
   *
   * @throws NotFoundError when the store has no such model; BadInputError for a model of another task.
   */
  async use<T extends TaskName, R>(task: T, name: string, fn: (pipeline: PipelineByTask[T], version: ServedVersion) => Promise<R> | R): Promise<R> {
    if (this.closed) throw new Error('ServedModels is closed');
    const loaded = await this.entry(task, name).current;
    loaded.inFlight++;
    try {
      return await fn(loaded.pipeline as PipelineByTask[T], { name, version: loaded.model.version, dir: loaded.model.dir });
    } finally {
      loaded.inFlight--;
      if (loaded.retired && loaded.inFlight === 0) loaded.pipeline.dispose();
    }
  }

  /** The version each loaded name serves now. */
  async served(): Promise<ServedVersion[]> {
    const out: ServedVersion[] = [];
    for (const [name, entry] of this.entries) {
      const loaded = await entry.current.catch(() => undefined);
      if (loaded) out.push({ name, version: loaded.model.version, dir: loaded.model.dir });
    }
    return out;
  }

  /** Stops watching and disposes every model once its in-flight requests finish. */
  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.entries.values()) {
      entry.watch?.close();
      const loaded = await entry.current.catch(() => undefined);
      if (loaded) retire(loaded);
    }
    this.entries.clear();
  }

  private entry(task: TaskName, name: string): Entry {
    const existing = this.entries.get(name);
    if (existing !== undefined && existing.task === task) return existing;
    const entry: Entry = { task, current: this.store.resolve(name).then((model) => load(task, model)) };
    this.entries.set(name, entry);
    // A failed first load is not cached: the next request tries again.
    entry.current.then(
      () => {
        if (!this.closed && this.entries.get(name) === entry) entry.watch = this.store.watch(name, (model) => void this.swap(name, entry, model), { intervalMs: this.options.intervalMs ?? 1000 });
      },
      () => {
        if (this.entries.get(name) === entry) this.entries.delete(name);
      },
    );
    return entry;
  }

  private async swap(name: string, entry: Entry, model: ResolvedModel): Promise<void> {
    const old = await entry.current;
    if (old.model.dir === model.dir) return;
    let next: Loaded;
    try {
      next = await load(entry.task, model);
    } catch (error) {
      this.options.onSwap?.({ name, from: old.model.version, to: model.version, error });
      return;
    }
    if (this.closed || this.entries.get(name) !== entry) {
      next.pipeline.dispose();
      return;
    }
    entry.current = Promise.resolve(next);
    retire(old);
    this.options.onSwap?.({ name, from: old.model.version, to: model.version });
  }
}

async function load(task: TaskName, model: ResolvedModel): Promise<Loaded> {
  return { task, model, pipeline: await pipeline(task, model.dir), inFlight: 0, retired: false };
}

function retire(loaded: Loaded): void {
  loaded.retired = true;
  if (loaded.inFlight === 0) loaded.pipeline.dispose();
}
