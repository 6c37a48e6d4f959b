import { loadGraphModel as tfLoadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { loadLayersModel as tfLoadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { fileSystem } from './file-system.js';

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /** Also save the optimizer's state (needed to resume training exactly). Default false. */
  includeOptimizer?: boolean;
}

/**
 * Saves a LayersModel to a directory atomically: a crash mid-save leaves the previous model
 * in that directory loadable.
 */
export async function saveModel(model: LayersModel, location: string, options: SaveModelOptions = {}): Promise<void> {
  const includeOptimizer = options.includeOptimizer ?? false;
  const optimizer = includeOptimizer ? (model.optimizer as unknown as OptimizerWithWeights | undefined) : undefined;
  if (!optimizer || typeof optimizer.getWeights !== 'function') {
    await model.save(fileSystem(location), { includeOptimizer });
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
    await model.save(fileSystem(location), { includeOptimizer });
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
  return tfLoadLayersModel(fileSystem(location), { strict: options.strict ?? true });
}

/** Loads a GraphModel (converted from TensorFlow) from a directory, `model.json` path or `file://` URL. */
export async function loadGraphModel(location: string): Promise<GraphModel> {
  return tfLoadGraphModel(fileSystem(location));
}
