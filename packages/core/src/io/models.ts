import { loadGraphModel as tfLoadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { loadLayersModel as tfLoadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import type { io } from '@tensorflow/tfjs-core';
import { fileSystem, type SharedWeightsOptions } from './file-system.js';
import { quantizeArtifacts, type WeightPrecision } from './quantize.js';
import { BadInputError } from '../errors.js';

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /** Also save the optimizer's state (needed to resume training exactly). Default false. */
  includeOptimizer?: boolean;
  /**
   * Storage precision of the model's float32 weights. `'float16'` halves the file (any
   * TensorFlow.js loader decodes it back to float32; predictions change by about 1e-3 relative).
   * Optimizer state is always kept at full precision. Default `'float32'`.
   */
  precision?: WeightPrecision;
  /**
   * Store large weights once for models saved side by side (see {@link SharedWeightsOptions}):
   * they go to content-addressed files in the model directory's parent.
   */
  sharedWeights?: SharedWeightsOptions;
}

function handlerFor(location: string, precision: WeightPrecision, sharedWeights?: SharedWeightsOptions): io.IOHandler {
  const target = fileSystem(location, sharedWeights ? { sharedWeights } : {});
  if (precision === 'float32') return target;
  return { save: (artifacts) => target.save!(quantizeArtifacts(artifacts, precision)) };
}

/**
 * Saves a LayersModel to a directory atomically: a crash mid-save leaves the previous model
 * in that directory loadable.
 */
export async function saveModel(model: LayersModel, location: string, options: SaveModelOptions = {}): Promise<void> {
  const includeOptimizer = options.includeOptimizer ?? false;
  const precision = options.precision ?? 'float32';
  if (precision !== 'float32' && precision !== 'float16') throw new BadInputError(`saveModel: precision must be 'float32' or 'float16', got ${String(precision)}`);
  const optimizer = includeOptimizer ? (model.optimizer as unknown as OptimizerWithWeights | undefined) : undefined;
  if (!optimizer || typeof optimizer.getWeights !== 'function') {
    await model.save(handlerFor(location, precision, options.sharedWeights), { includeOptimizer });
    return;
  }
  // tf.Optimizer#getWeights() returns a freshly created `iter` scalar (plus views of its
  // variables); LayersModel#save never disposes it, leaking one tensor per checkpoint.
  const original = optimizer.getWeights;
  const created: Array<{ dispose(): void }> = [];
  optimizer.getWeights = async function (this: OptimizerWithWeights) {
    const weights = await original.call(this);
    for (const w of weights) if (w.name === 'iter') created.push(w.tensor);
    return weights;
  };
  try {
    await model.save(handlerFor(location, precision, options.sharedWeights), { includeOptimizer });
  } finally {
    optimizer.getWeights = original;
    for (const t of created) t.dispose();
  }
}

interface OptimizerWithWeights {
  getWeights(): Promise<Array<{ name: string; tensor: { dispose(): void } }>>;
}

/** Loads a LayersModel from a directory, `model.json` path or `file://` URL. */
export async function loadLayersModel(location: string, options: { strict?: boolean } = {}): Promise<LayersModel> {
  const model = await tfLoadLayersModel(fileSystem(location), { strict: options.strict ?? true });
  // A model saved with its optimizer comes back compiled with a restored optimizer that
  // tfjs-layers does not count as the model's own, so model.dispose() would leave its state
  // (Adam: two tensors per weight) behind. The loader created it; the model owns it.
  if (model.optimizer) (model as unknown as { isOptimizerOwned: boolean }).isOptimizerOwned = true;
  return model;
}

/** Loads a GraphModel (converted from TensorFlow) from a directory, `model.json` path or `file://` URL. */
export async function loadGraphModel(location: string): Promise<GraphModel> {
  return tfLoadGraphModel(fileSystem(location));
}
