import * as tf from '@tensorflow/tfjs-core';
import { BadInputError } from '../errors.js';

/**
 * The gradient of a row-indexed variable (an embedding matrix) as the rows a batch touched and
 * their gradient rows: `values` holds `rows.length * width` numbers, row `k` of them belonging
 * to variable row `rows[k]`. Rows must be distinct (sum the gradients of a repeated id first).
 */
export interface SparseRowGradient {
  rows: Int32Array;
  values: Float32Array;
}

/** Options of {@link LazyAdam}. */
export interface LazyAdamOptions {
  learningRate: number;
  /** Every trainable variable, in the model's order (the order of the saved optimizer state). */
  variables: readonly tf.Variable[];
  /** The 2-D variables whose gradients come as {@link SparseRowGradient}s (embedding matrices). */
  sparse: readonly tf.Variable[];
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default: the backend's epsilon, as `tf.train.adam`. */
  epsilon?: number;
}

/** A named tensor, as optimizers save and restore their state. */
type NamedTensor = { name: string; tensor: tf.Tensor };

// The typed array holding a tensor's values on backends that keep them in CPU-addressable memory
// (wasm: a view of its heap; cpu: the stored array). Writing it changes the tensor in place.
interface HeapBackend {
  typedArrayFromHeap?(t: tf.TensorInfo): Float32Array;
  data?: { get(dataId: object): { values: Float32Array } | undefined };
  refCount(dataId: object): number;
}

function backendOf(): HeapBackend {
  return tf.backend() as unknown as HeapBackend;
}

/** Whether {@link LazyAdam} can update variables in place on the current backend (wasm, cpu). */
export function supportsInPlaceUpdates(): boolean {
  const name = tf.getBackend();
  return name === 'wasm' || name === 'cpu';
}

function valuesOf(t: tf.Tensor): Float32Array {
  const backend = backendOf();
  if (backend.typedArrayFromHeap) return backend.typedArrayFromHeap(t);
  const values = backend.data?.get(t.dataId)?.values;
  if (!(values instanceof Float32Array)) throw new BadInputError(`LazyAdam: backend ${tf.getBackend()} keeps no float32 array for this tensor`);
  return values;
}

/**
 * Adam whose row-indexed variables (embedding matrices) are updated lazily: only the rows a
 * batch touched, in place, as TensorFlow's `LazyAdamOptimizer` and PyTorch's `SparseAdam` do.
 * The dense variables follow `tf.train.adam` exactly (a `tf.train.adam` does their steps).
 *
 * The difference from dense Adam, well known and documented by both: the moments of a row that
 * a batch does not touch are not decayed in that step, and the row does not move (dense Adam
 * keeps moving it by its decaying momentum). A row touched in every step gets exactly dense
 * Adam's update. On a 20,000 x 100 embedding whose batches touch a few thousand rows this
 * replaces a dozen passes over two million numbers per step with a pass over the touched rows.
 *
 * The state is saved in `tf.train.adam`'s layout and class name (`iter`, then every variable's
 * first moment, then every second moment, in `variables` order), so a checkpoint written with
 * it loads as a plain Adam and the other way round.
 *
 * Needs a backend whose tensors live in CPU-addressable memory ({@link supportsInPlaceUpdates}).
 * A variable whose data is shared with another tensor (a clone kept as the best weights) is
 * first given a private copy, so that tensor keeps its values.
 */
export class LazyAdam extends tf.Optimizer {
  static get className(): string {
    // Saved as Adam: the state has Adam's layout and a loaded model gets a plain Adam.
    return 'Adam';
  }
  /**
   * A prototype check: tf.Optimizer answers `instanceof` by duck typing (any optimizer would
   * pass), and callers tell a LazyAdam apart to take its sparse steps.
   */
  static override [Symbol.hasInstance](x: unknown): boolean {
    return typeof x === 'object' && x !== null && Object.prototype.isPrototypeOf.call(LazyAdam.prototype, x);
  }
  private readonly dense: tf.AdamOptimizer;
  private readonly variables: tf.Variable[];
  private readonly sparseIndex = new Map<tf.Variable, number>();
  private readonly moments = new Map<tf.Variable, { m: tf.Variable; v: tf.Variable }>();
  // The data each in-place tensor had when it was last made private, to notice re-assignment.
  private readonly owned = new WeakMap<tf.Variable, object>();
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly epsilon: number;
  private lr: number;
  private steps = 0;

  constructor(options: LazyAdamOptions) {
    super();
    this.lr = options.learningRate;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? tf.backend().epsilon();
    if (!(this.lr > 0)) throw new BadInputError(`LazyAdam: learningRate must be positive, got ${this.lr}`);
    if (!supportsInPlaceUpdates()) throw new BadInputError(`LazyAdam: backend ${tf.getBackend()} keeps tensors out of reach; use wasm or cpu`);
    this.variables = [...options.variables];
    this.dense = tf.train.adam(this.lr, this.beta1, this.beta2, this.epsilon);
    for (const s of options.sparse) {
      const at = this.variables.indexOf(s);
      if (at < 0) throw new BadInputError(`LazyAdam: sparse variable ${s.name} is not one of the variables`);
      if (s.rank !== 2 || s.dtype !== 'float32') throw new BadInputError(`LazyAdam: sparse variable ${s.name} must be a 2-D float32 matrix, got rank ${s.rank} ${s.dtype}`);
      this.sparseIndex.set(s, at);
      // In a tidy: a variable made from a tensor shares its data, and the tensor itself would stay behind.
      this.moments.set(s, { m: tf.tidy(() => tf.zeros(s.shape).variable(false)), v: tf.tidy(() => tf.zeros(s.shape).variable(false)) });
    }
  }

  /** The learning rate of both the dense and the lazy updates (schedules and plateaus set it). */
  get learningRate(): number {
    return this.lr;
  }
  set learningRate(lr: number) {
    this.lr = lr;
    (this.dense as unknown as { learningRate: number }).learningRate = lr;
  }

  /** Optimizer steps taken (restored with the state). */
  get stepsTaken(): number {
    return this.steps;
  }

  /** A dense step for the dense variables only (the sparse ones need {@link applySparseGradients}). */
  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    this.step(variableGradients, new Map());
  }

  /**
   * One optimizer step: Adam on the dense gradients (named by variable name, as
   * `tf.variableGrads` returns them) and lazy Adam on each sparse variable's touched rows.
   * `scale` multiplies the sparse values first (the global-norm clipping factor).
   */
  step(dense: tf.NamedTensorMap | NamedTensor[], sparse: ReadonlyMap<tf.Variable, SparseRowGradient>, scale = 1): void {
    const named = Array.isArray(dense) ? Object.fromEntries(dense.map((d) => [d.name, d.tensor])) : dense;
    // In model order, so the dense Adam's moments line up with `variables` when saved.
    const ordered: tf.NamedTensorMap = {};
    for (const v of this.variables) if (!this.sparseIndex.has(v) && named[v.name]) ordered[v.name] = named[v.name]!;
    if (Object.keys(ordered).length > 0) this.dense.applyGradients(ordered as unknown as Parameters<tf.AdamOptimizer['applyGradients']>[0]);
    this.steps++;
    for (const [variable, grad] of sparse) this.applyRows(variable, grad, scale);
    this.incrementIterations();
  }

  private applyRows(variable: tf.Variable, grad: SparseRowGradient, scale: number): void {
    const state = this.moments.get(variable);
    if (!state) throw new BadInputError(`LazyAdam: ${variable.name} was not declared sparse`);
    const [height, width] = variable.shape as [number, number];
    if (grad.values.length !== grad.rows.length * width) throw new BadInputError(`LazyAdam: ${grad.rows.length} rows need ${grad.rows.length * width} values for ${variable.name}, got ${grad.values.length}`);
    for (const t of [variable, state.m, state.v]) this.makePrivate(t);
    // Views taken after every allocation above: growing the wasm heap detaches older views.
    const w = valuesOf(variable);
    const m = valuesOf(state.m);
    const v = valuesOf(state.v);
    const { beta1, beta2, epsilon, lr } = this;
    const c1 = 1 - Math.pow(beta1, this.steps);
    const c2 = 1 - Math.pow(beta2, this.steps);
    const g = grad.values;
    for (let k = 0; k < grad.rows.length; k++) {
      const row = grad.rows[k]!;
      if (row < 0 || row >= height) throw new BadInputError(`LazyAdam: row ${row} is outside ${variable.name} (${height} rows)`);
      const base = row * width;
      const src = k * width;
      for (let j = 0; j < width; j++) {
        const gj = g[src + j]! * scale;
        const mj = beta1 * m[base + j]! + (1 - beta1) * gj;
        const vj = beta2 * v[base + j]! + (1 - beta2) * gj * gj;
        m[base + j] = mj;
        v[base + j] = vj;
        w[base + j] = w[base + j]! - (lr * (mj / c1)) / (Math.sqrt(vj / c2) + epsilon);
      }
    }
  }

  // Gives `t` data of its own before it is written in place: after `assign` it shares the
  // assigned tensor's data, and a clone (best weights, a snapshot) shares it too.
  private makePrivate(t: tf.Variable): void {
    if (this.owned.get(t) === t.dataId && backendOf().refCount(t.dataId) === 1) return;
    const copy = tf.tidy(() => tf.add(t, tf.scalar(0)));
    t.assign(copy);
    copy.dispose();
    this.owned.set(t, t.dataId);
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const denseState = await this.dense.getWeights();
    const [iter, ...rest] = denseState;
    iter!.tensor.dispose();
    const half = rest.length / 2;
    const firsts: NamedTensor[] = [];
    const seconds: NamedTensor[] = [];
    let d = 0;
    for (const v of this.variables) {
      const state = this.moments.get(v);
      if (state) {
        firsts.push({ name: `${v.name}/m`, tensor: state.m });
        seconds.push({ name: `${v.name}/v`, tensor: state.v });
      } else if (d < half) {
        firsts.push(rest[d]!);
        seconds.push(rest[half + d]!);
        d++;
      }
    }
    return [await this.saveIterations(), ...firsts, ...seconds];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const rest = await this.extractIterations(weightValues);
    this.steps = this.iterations;
    const half = rest.length / 2;
    if (half !== this.variables.length) throw new BadInputError(`LazyAdam: the saved state has moments for ${half} variables, the optimizer has ${this.variables.length}`);
    const firsts: NamedTensor[] = [];
    const seconds: NamedTensor[] = [];
    this.variables.forEach((v, i) => {
      const state = this.moments.get(v);
      if (state) {
        state.m.assign(rest[i]!.tensor);
        state.v.assign(rest[half + i]!.tensor);
      } else {
        firsts.push(rest[i]!);
        seconds.push(rest[half + i]!);
      }
    });
    const iter = tf.scalar(this.iterations);
    try {
      await this.dense.setWeights([{ name: 'iter', tensor: iter }, ...firsts, ...seconds]);
    } finally {
      iter.dispose();
    }
  }

  override getConfig(): tf.serialization.ConfigDict {
    return this.dense.getConfig();
  }

  override dispose(): void {
    this.dense.dispose();
    for (const { m, v } of this.moments.values()) tf.dispose([m, v]);
    this.moments.clear();
    super.dispose();
  }
}
