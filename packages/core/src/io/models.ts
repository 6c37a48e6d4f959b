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
  await model.save(fileSystem(location), { includeOptimizer: options.includeOptimizer ?? false });
}

/** Loads a LayersModel from a directory, `model.json` path or `file://` URL. */
export async function loadLayersModel(location: string, options: { strict?: boolean } = {}): Promise<LayersModel> {
  return tfLoadLayersModel(fileSystem(location), { strict: options.strict ?? true });
}

/** Loads a GraphModel (converted from TensorFlow) from a directory, `model.json` path or `file://` URL. */
export async function loadGraphModel(location: string): Promise<GraphModel> {
  return tfLoadGraphModel(fileSystem(location));
}
