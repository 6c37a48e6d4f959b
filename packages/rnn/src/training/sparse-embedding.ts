import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { LazyAdam, supportsInPlaceUpdates, type SparseRowGradient } from '@seqlab/core';

/**
 * The one trainable embedding layer that reads the model's (single) input ids directly, whose
 * gradient can therefore be taken over the rows a batch uses; `undefined` when the model has
 * none, several, or one behind other layers.
 */
export function sparseEmbeddingOf(model: tfl.LayersModel): tfl.layers.Layer | undefined {
  if (model.inputs.length !== 1) return undefined;
  const found = model.layers.filter((l) => l.getClassName() === 'Embedding' && l.trainable && l.trainableWeights.length === 1);
  if (found.length !== 1) return undefined;
  const layer = found[0]!;
  return layer.inboundNodes.length === 1 && layer.input === model.inputs[0] ? layer : undefined;
}

/**
 * A {@link LazyAdam} for a model with a sparse embedding ({@link sparseEmbeddingOf}), or
 * `undefined` when the model has none or the backend cannot update in place.
 */
export function lazyAdamFor(model: tfl.LayersModel, learningRate: number): LazyAdam | undefined {
  const layer = sparseEmbeddingOf(model);
  if (!layer || !supportsInPlaceUpdates()) return undefined;
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  return new LazyAdam({ learningRate, variables, sparse: [layer.trainableWeights[0]!.read() as tf.Variable] });
}

/** A batch's ids renumbered over the rows it touches (id 0, padding, stays row 0 so masks hold). */
export interface TouchedRows {
  /** The distinct ids, row 0 first. */
  rows: Int32Array;
  /** Each id's position in `rows`. */
  local: Int32Array;
}

/**
 * Renumbers `ids` over the distinct ids. `slot` (one entry per vocabulary id, all -1) is scratch
 * reused across batches and left all -1 again.
 */
export function touchedRows(ids: ArrayLike<number>, slot: Int32Array): TouchedRows {
  const rows: number[] = [0];
  slot[0] = 0;
  const local = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!(id >= 0 && id < slot.length)) {
      for (const r of rows) slot[r] = -1;
      throw new RangeError(`embedding id ${id} is outside the vocabulary (${slot.length} ids)`);
    }
    let s = slot[id]!;
    if (s < 0) {
      s = rows.length;
      slot[id] = s;
      rows.push(id);
    }
    local[i] = s;
  }
  for (const r of rows) slot[r] = -1;
  return { rows: Int32Array.from(rows), local };
}

/**
 * Runs `fn` with the embedding layer reading `table` (the touched rows) in place of its whole
 * matrix, so its lookups (of renumbered ids) and their gradient stay the size of the batch.
 * tfjs-layers' Embedding reads its matrix through `embeddings.read()` on every call; that
 * method is what is replaced, on this object only, for the duration of `fn`.
 */
export function withEmbeddingTable<T>(layer: tfl.layers.Layer, table: tf.Tensor, fn: () => T): T {
  const holder = (layer as unknown as { embeddings: { read(): tf.Tensor } }).embeddings;
  holder.read = () => table;
  try {
    return fn();
  } finally {
    delete (holder as { read?: unknown }).read;
  }
}

/** The gradient of a sparse step: the dense variables' and the embedding's touched rows. */
export interface SparseGradients {
  value: tf.Scalar;
  dense: tf.NamedTensorMap;
  table: tf.Tensor;
}

/**
 * The loss of `lossOf(localIds)` and its gradients with respect to the dense trainable weights
 * and to the batch's embedding rows (call inside a tidy). `lossOf` runs the model on the
 * renumbered ids.
 */
export function sparseGradients(model: tfl.LayersModel, layer: tfl.layers.Layer, ids: tf.Tensor, rows: TouchedRows, lossOf: (x: tf.Tensor) => tf.Scalar): SparseGradients {
  const embedding = layer.trainableWeights[0]!.read();
  const dense = model.trainableWeights.map((w) => w.read() as tf.Variable).filter((v) => v !== embedding);
  const table = tf.gather(embedding, tf.tensor1d(rows.rows, 'int32'));
  const x = tf.tensor(rows.local, ids.shape, 'int32');
  const { value, grads } = withEmbeddingTable(layer, table, () => tf.engine().gradients(() => lossOf(x), [table, ...dense], undefined, true));
  const named: tf.NamedTensorMap = {};
  dense.forEach((v, i) => {
    const g = grads[i + 1];
    if (g) named[v.name] = g;
  });
  return { value: value as tf.Scalar, dense: named, table: grads[0] ?? tf.zerosLike(table) };
}

/**
 * Clips by the global L2 norm over the dense gradients and the embedding rows together (the
 * rows hold the whole embedding gradient, so the norm is the dense one's) and takes the lazy
 * Adam step. Call inside a tidy.
 */
export function applySparseStep(optimizer: LazyAdam, layer: tfl.layers.Layer, rows: TouchedRows, grads: SparseGradients, clipNorm: number | undefined): void {
  let dense = grads.dense;
  let table = grads.table;
  if (clipNorm !== undefined) {
    const norm = tf.sqrt(tf.addN([tf.sum(tf.square(table)), ...Object.values(dense).map((g) => tf.sum(tf.square(g)))]));
    const scale = tf.div(clipNorm, tf.maximum(norm, clipNorm));
    dense = Object.fromEntries(Object.entries(dense).map(([k, g]) => [k, tf.mul(g, scale)]));
    table = tf.mul(table, scale);
  }
  const sparse: SparseRowGradient = { rows: rows.rows, values: table.dataSync() as Float32Array };
  optimizer.step(dense, new Map([[layer.trainableWeights[0]!.read() as tf.Variable, sparse]]));
}
