import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom } from '@seqlab/core';
import { positiveInt, RnnArgumentError } from '../errors.js';

/**
 * One training batch: integer inputs, integer class labels, and optional per-label weights
 * (0 excludes a position from the loss, e.g. padding or burn-in context).
 */
export interface Batch {
  x: tf.Tensor;
  y: tf.Tensor;
  weights?: tf.Tensor;
}

/**
 * A source of batches. `batches(epoch)` is called once per epoch and may reshuffle; each batch is
 * disposed by the caller after use.
 */
export interface BatchSource {
  /** Batches per epoch (for progress and ETA). */
  readonly batchesPerEpoch: number;
  batches(epoch: number): Iterable<Batch>;
}

/** Options of {@link arrayData}. */
export interface ArrayDataOptions {
  batchSize?: number;
  /** Shuffle rows every epoch (seeded by `seed` + epoch). Default true. */
  shuffle?: boolean;
  seed?: number;
}

/**
 * Batches from in-memory rows: `x` is `[rows][time]` token ids (equal lengths), `y` one class id
 * per row (classification) or `[rows][time]` ids (sequence labelling / language modelling).
 */
export function arrayData(
  x: ArrayLike<ArrayLike<number>>,
  y: ArrayLike<number> | ArrayLike<ArrayLike<number>>,
  options: ArrayDataOptions = {},
): BatchSource {
  const n = x.length;
  if (n === 0) throw new RnnArgumentError('arrayData: x has no rows');
  if (y.length !== n) throw new RnnArgumentError(`arrayData: x has ${n} rows but y has ${y.length}`);
  const batchSize = positiveInt('arrayData: batchSize', options.batchSize ?? 32);
  const width = x[0]!.length;
  for (let i = 0; i < n; i++) {
    if (x[i]!.length !== width) throw new RnnArgumentError(`arrayData: row ${i} of x has length ${x[i]!.length}, row 0 has ${width}; pad rows to one length`);
  }
  const seqY = typeof y[0] !== 'number';
  const yWidth = seqY ? (y[0] as ArrayLike<number>).length : 1;
  const shuffle = options.shuffle ?? true;
  const seed = options.seed ?? 0;
  return {
    batchesPerEpoch: Math.ceil(n / batchSize),
    *batches(epoch: number): Iterable<Batch> {
      const order = shuffle ? new SeededRandom(`${seed}:${epoch}`).permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
      for (let start = 0; start < n; start += batchSize) {
        const rows = order.subarray(start, Math.min(n, start + batchSize));
        const xb = new Int32Array(rows.length * width);
        const yb = new Int32Array(rows.length * yWidth);
        rows.forEach((r, i) => {
          xb.set(x[r]!, i * width);
          if (seqY) yb.set((y as ArrayLike<ArrayLike<number>>)[r]!, i * yWidth);
          else yb[i] = (y as ArrayLike<number>)[r]!;
        });
        yield {
          x: tf.tensor2d(xb, [rows.length, width], 'int32'),
          y: seqY ? tf.tensor2d(yb, [rows.length, yWidth], 'int32') : tf.tensor1d(yb, 'int32'),
        };
      }
    },
  };
}

/** Options of {@link languageModelData}. */
export interface LanguageModelDataOptions {
  /** Predicted tokens per window (truncated-BPTT length). Default 100. */
  sequenceLength?: number;
  batchSize?: number;
  /**
   * Tokens of context fed before each window whose predictions are not scored. Used for
   * evaluation so every scored token sees at least this much history. Default 0.
   */
  context?: number;
  /**
   * Training: windows start at a random offset each epoch and are shuffled. Evaluation
   * (`false`): fixed, non-overlapping windows covering the ids once. Default true.
   */
  shuffle?: boolean;
  /** Limit the windows per epoch (a shorter "epoch" means more frequent validation/checkpoints). */
  windowsPerEpoch?: number;
  seed?: number;
}

/**
 * Next-token batches from one long id sequence: `x = ids[i .. i+T)`, `y = ids[i+1 .. i+T+1)`.
 */
export function languageModelData(ids: ArrayLike<number>, options: LanguageModelDataOptions = {}): BatchSource {
  const T = positiveInt('languageModelData: sequenceLength', options.sequenceLength ?? 100);
  const B = positiveInt('languageModelData: batchSize', options.batchSize ?? 32);
  const C = options.context ?? 0;
  if (!Number.isInteger(C) || C < 0) throw new RnnArgumentError(`languageModelData: context must be a non-negative integer, got ${C}`);
  const shuffle = options.shuffle ?? true;
  const seed = options.seed ?? 0;
  if (ids.length < T + 2) throw new RnnArgumentError(`languageModelData: need at least ${T + 2} ids for sequenceLength ${T}, got ${ids.length}`);
  const fullWindows = Math.floor((ids.length - 1) / T);
  const perEpoch = options.windowsPerEpoch ? Math.min(options.windowsPerEpoch, fullWindows) : fullWindows;
  return {
    batchesPerEpoch: Math.ceil(perEpoch / B),
    *batches(epoch: number): Iterable<Batch> {
      let starts: number[];
      if (shuffle) {
        const rng = new SeededRandom(`${seed}:${epoch}`);
        const offset = rng.int(T);
        const count = Math.floor((ids.length - 1 - offset) / T);
        const perm = rng.permutation(count);
        starts = Array.from(perm.subarray(0, Math.min(perEpoch, count)), (w) => offset + w * T);
      } else {
        starts = Array.from({ length: perEpoch }, (_, w) => w * T);
      }
      const L = T + C;
      for (let b = 0; b < starts.length; b += B) {
        const group = starts.slice(b, b + B);
        const xb = new Int32Array(group.length * L);
        const yb = new Int32Array(group.length * L);
        const wb = new Float32Array(group.length * L);
        group.forEach((s, r) => {
          for (let t = 0; t < L; t++) {
            const pos = s - C + t;
            if (pos < 0) continue; // before the text: padded with id 0 and weight 0
            xb[r * L + t] = ids[pos]!;
            yb[r * L + t] = ids[pos + 1]!;
            wb[r * L + t] = t >= C ? 1 : 0;
          }
        });
        yield {
          x: tf.tensor2d(xb, [group.length, L], 'int32'),
          y: tf.tensor2d(yb, [group.length, L], 'int32'),
          ...(C > 0 ? { weights: tf.tensor2d(wb, [group.length, L], 'float32') } : {}),
        };
      }
    },
  };
}

/** Options of {@link bucketedData}: those of {@link arrayData}, and a minimum row length. */
export interface BucketedDataOptions extends ArrayDataOptions {
  /**
   * Minimum padded row length. Default 2: tfjs-layers cannot back-propagate through a masked
   * RNN over a single time step (its Unpack gradient receives a null), and one padded position
   * costs nothing because it is masked.
   */
  minLength?: number;
}

/**
 * Classification batches from variable-length id rows: rows of similar length are batched
 * together and padded with 0 (the mask id) only to their batch's longest row, so short texts
 * do not pay for long ones. Batch order is shuffled each epoch. `labels` are one class id per
 * row, or (multi-label, for sigmoid outputs) one multi-hot row of 0s and 1s per row, all of
 * one width; those batch as float32 `[batch, classes]`.
 */
export function bucketedData(
  rows: ReadonlyArray<ArrayLike<number>>,
  labels: ArrayLike<number> | ReadonlyArray<ArrayLike<number>>,
  options: BucketedDataOptions = {},
): BatchSource {
  const n = rows.length;
  if (n === 0) throw new RnnArgumentError('bucketedData: no rows');
  if (labels.length !== n) throw new RnnArgumentError(`bucketedData: ${n} rows but ${labels.length} labels`);
  const multiHot = typeof labels[0] !== 'number';
  const classes = multiHot ? (labels[0] as ArrayLike<number>).length : 1;
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    if (multiHot) {
      if (typeof l === 'number' || l.length !== classes) {
        throw new RnnArgumentError(`bucketedData: label ${i} must be a multi-hot row of ${classes} values like label 0, got ${typeof l === 'number' ? l : `${l.length} values`}`);
      }
      for (let c = 0; c < classes; c++) {
        if (l[c] !== 0 && l[c] !== 1) throw new RnnArgumentError(`bucketedData: label ${i}, class ${c} must be 0 or 1, got ${l[c]}`);
      }
    } else if (typeof l !== 'number' || !Number.isInteger(l) || l < 0) {
      throw new RnnArgumentError(`bucketedData: label ${i} must be a non-negative integer class id, got ${typeof l === 'number' ? l : 'a list'}`);
    }
  }
  const batchSize = positiveInt('bucketedData: batchSize', options.batchSize ?? 32);
  const shuffle = options.shuffle ?? true;
  const seed = options.seed ?? 0;
  const minLength = options.minLength ?? 2;
  return {
    batchesPerEpoch: Math.ceil(n / batchSize),
    *batches(epoch: number): Iterable<Batch> {
      const rng = new SeededRandom(`${seed}:${epoch}`);
      // Random tie-breaking inside equal lengths, then sort by length.
      const order = shuffle ? Array.from(rng.permutation(n)) : Array.from({ length: n }, (_, i) => i);
      order.sort((a, b) => rows[a]!.length - rows[b]!.length);
      const groups: number[][] = [];
      for (let s = 0; s < n; s += batchSize) groups.push(order.slice(s, s + batchSize));
      if (shuffle) rng.shuffle(groups);
      for (const g of groups) {
        const width = Math.max(minLength, ...g.map((r) => rows[r]!.length));
        const xb = new Int32Array(g.length * width);
        g.forEach((r, i) => xb.set(rows[r]!, i * width));
        const x = tf.tensor2d(xb, [g.length, width], 'int32');
        if (multiHot) {
          const yb = new Float32Array(g.length * classes);
          g.forEach((r, i) => yb.set((labels as ReadonlyArray<ArrayLike<number>>)[r]!, i * classes));
          yield { x, y: tf.tensor2d(yb, [g.length, classes], 'float32') };
        } else {
          yield { x, y: tf.tensor1d(Int32Array.from(g, (r) => (labels as ArrayLike<number>)[r]!), 'int32') };
        }
      }
    },
  };
}
