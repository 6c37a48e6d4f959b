/** Options of {@link MicroBatcher}. */
export interface MicroBatcherOptions<K> {
  /** How long the first waiting item holds the batch open, in ms. 0 runs every request alone. */
  windowMs: number;
  /** Items per batch; a full batch runs at once without waiting for the window. */
  maxBatchSize: number;
  /** Called with each batch's size when it runs (metrics). */
  onBatch?: (size: number, key: K) => void;
}

interface Pending<I, O> {
  items: I[];
  resolve: (out: O[]) => void;
  reject: (err: unknown) => void;
  signal?: AbortSignal;
}

interface Queue<I, O> {
  pending: Array<Pending<I, O>>;
  size: number;
  timer?: NodeJS.Timeout;
}

/**
 * Dynamic micro-batching: requests that arrive within `windowMs` of each other (or until
 * `maxBatchSize` items are waiting) are merged into one call of `run`, whose outputs are split
 * back per request in order. Requests are grouped by a key (e.g. the model), since only
 * requests for the same model can share a batch.
 *
 * One request's items are never split across batches, so a request larger than
 * `maxBatchSize` runs as a batch of its own.
 *
 * @example
 * ```ts
 * const b = new MicroBatcher((texts: string[]) => model.predict(texts), { windowMs: 5, maxBatchSize: 32 });
 * const [result] = await b.add('default', ['great film']);
 * ```
 */
export class MicroBatcher<I, O, K = string> {
  private readonly queues = new Map<K, Queue<I, O>>();

  constructor(
    private readonly run: (items: I[], key: K) => Promise<O[]>,
    private readonly options: MicroBatcherOptions<K>,
  ) {
    if (!Number.isInteger(options.maxBatchSize) || options.maxBatchSize < 1) {
      throw new RangeError(`maxBatchSize must be a positive integer, got ${options.maxBatchSize}`);
    }
    if (!(options.windowMs >= 0)) throw new RangeError(`windowMs must be >= 0, got ${options.windowMs}`);
  }

  /** Whether batching is effectively on. */
  get enabled(): boolean {
    return this.options.windowMs > 0 && this.options.maxBatchSize > 1;
  }

  /** Queues `items` for model `key`; resolves with one output per item. */
  add(key: K, items: I[], signal?: AbortSignal): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    if (!this.enabled) return this.execute(key, [{ items, resolve: () => {}, reject: () => {} }]).then((r) => r[0]!);
    return new Promise<O[]>((resolve, reject) => {
      let q = this.queues.get(key);
      if (!q) {
        q = { pending: [], size: 0 };
        this.queues.set(key, q);
      }
      // A request that would overflow the waiting batch sends that batch off first.
      if (q.size > 0 && q.size + items.length > this.options.maxBatchSize) this.flush(key);
      q = this.queues.get(key) ?? { pending: [], size: 0 };
      this.queues.set(key, q);
      q.pending.push({ items, resolve, reject, signal });
      q.size += items.length;
      if (q.size >= this.options.maxBatchSize) this.flush(key);
      else if (!q.timer) q.timer = setTimeout(() => this.flush(key), this.options.windowMs);
    });
  }

  /** Runs whatever is waiting now (used at shutdown and when a batch fills up). */
  flushAll(): void {
    for (const key of [...this.queues.keys()]) this.flush(key);
  }

  private flush(key: K): void {
    const q = this.queues.get(key);
    if (!q) return;
    this.queues.delete(key);
    if (q.timer) clearTimeout(q.timer);
    // Requests whose caller gave up (timeout, disconnect) are dropped before the model sees them.
    const live = q.pending.filter((p) => {
      if (p.signal?.aborted) {
        p.reject(p.signal.reason ?? new Error('aborted'));
        return false;
      }
      return true;
    });
    if (live.length === 0) return;
    void this.execute(key, live).then(
      (outs) => live.forEach((p, i) => p.resolve(outs[i]!)),
      (err: unknown) => live.forEach((p) => p.reject(err)),
    );
  }

  private async execute(key: K, batch: Array<Pending<I, O>>): Promise<O[][]> {
    const all = batch.flatMap((p) => p.items);
    this.options.onBatch?.(all.length, key);
    const out = await this.run(all, key);
    if (out.length !== all.length) throw new Error(`batch of ${all.length} items returned ${out.length} results`);
    const split: O[][] = [];
    let at = 0;
    for (const p of batch) {
      split.push(out.slice(at, at + p.items.length));
      at += p.items.length;
    }
    return split;
  }
}
