/** Options of {@link MicroBatcher}. */
export interface MicroBatcherOptions<K> {
  /** How long the first waiting item holds the batch open, in ms. 0 runs every request alone. */
  windowMs: number;
  /** Items per batch; a full batch runs at once without waiting for the window. */
  maxBatchSize: number;
  /**
   * Batches allowed to run at once (e.g. the number of model workers). While that many run, a
   * partly filled batch keeps gathering past its window and goes as soon as one finishes, so a
   * busy server sends fewer, fuller batches instead of queueing many small ones. Full batches
   * always go at once. Default: unlimited.
   */
  maxInFlight?: number;
  /**
   * Full batches wait for a free slot too (`maxInFlight` is then a hard limit): requests beyond a
   * full batch queue up and leave `maxBatchSize` at a time as slots free. For a machine where the
   * model workers and the HTTP thread share few cores, so that model work never takes the HTTP
   * thread's core and answers keep a steady latency. Default false (full batches go at once).
   */
  strictInFlight?: boolean;
  /**
   * When no batch is running, send a request at once instead of waiting out the window: an idle
   * server answers single requests without added latency, while under load requests still gather
   * (behind running batches and for `windowMs`). Default false.
   */
  immediateWhenIdle?: boolean;
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
  /** The window has passed; the batch waits only for a free slot. */
  due?: boolean;
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
  private running = 0;

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
      const strict = this.options.strictInFlight === true;
      let q = this.queues.get(key);
      if (!q) {
        q = { pending: [], size: 0 };
        this.queues.set(key, q);
      }
      // A request that would overflow the waiting batch sends that batch off first (unless slots
      // are a hard limit: then the queue holds it and the next batch starts with this request).
      if (!strict && q.size > 0 && q.size + items.length > this.options.maxBatchSize) this.flush(key, true);
      q = this.queues.get(key) ?? { pending: [], size: 0 };
      this.queues.set(key, q);
      q.pending.push({ items, resolve, reject, signal });
      q.size += items.length;
      if (q.size >= this.options.maxBatchSize) this.flush(key, !strict);
      else if (this.options.immediateWhenIdle && this.running === 0) this.flush(key, false);
      else if (!q.timer && !q.due) q.timer = setTimeout(() => this.flush(key, false), this.options.windowMs);
    });
  }

  /** Runs whatever is waiting now (used at shutdown and when a batch fills up). */
  flushAll(): void {
    for (const key of [...this.queues.keys()]) this.flush(key, true);
  }

  /** Batches currently running. */
  get inFlight(): number {
    return this.running;
  }

  private flush(key: K, force: boolean): void {
    const q = this.queues.get(key);
    if (!q) return;
    if (q.timer) clearTimeout(q.timer);
    q.timer = undefined;
    if (!force && this.running >= (this.options.maxInFlight ?? Infinity)) {
      q.due = true;
      return;
    }
    // At most maxBatchSize items leave (whole requests, at least one); the rest stay queued, due
    // at the next free slot (they are past a full batch, so the window no longer applies).
    let take = 0;
    let size = 0;
    while (take < q.pending.length && (take === 0 || size + q.pending[take]!.items.length <= this.options.maxBatchSize)) {
      size += q.pending[take]!.items.length;
      take++;
    }
    const batch = q.pending.splice(0, take);
    q.size -= size;
    if (q.pending.length === 0) this.queues.delete(key);
    else q.due = true;
    // Requests whose caller gave up (timeout, disconnect) are dropped before the model sees them.
    const live = batch.filter((p) => {
      if (p.signal?.aborted) {
        p.reject(p.signal.reason ?? new Error('aborted'));
        return false;
      }
      return true;
    });
    if (live.length > 0) {
      void this.execute(key, live).then(
        (outs) => live.forEach((p, i) => p.resolve(outs[i]!)),
        (err: unknown) => live.forEach((p) => p.reject(err)),
      );
    }
    if (q.pending.length > 0 && (force || this.running < (this.options.maxInFlight ?? Infinity))) this.flush(key, force);
  }

  private async execute(key: K, batch: Array<Pending<I, O>>): Promise<O[][]> {
    const all = batch.flatMap((p) => p.items);
    this.options.onBatch?.(all.length, key);
    this.running++;
    let out: O[];
    try {
      out = await this.run(all, key);
    } finally {
      this.running--;
      // A slot is free: the oldest batch whose window has passed goes now.
      const idle = this.options.immediateWhenIdle && this.running === 0;
      const next = [...this.queues.entries()].find(([, q]) => q.due || idle);
      if (next) this.flush(next[0], false);
    }
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
