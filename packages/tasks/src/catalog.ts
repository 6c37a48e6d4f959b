/**
 * The model catalog without TensorFlow.js: where models live, which model each task uses by
 * default, the registry of names and recipes, versioned model stores and what a model folder
 * holds. Import it as `@seqlab/tasks/catalog` where start-up time matters (a CLI listing models
 * or printing help); `@seqlab/tasks` re-exports all of it.
 */
export { MODELS_ENV, checkTask, describeModel, isModelName, modelsDir, repoRoot, resolveModelDir, type ResolveModelOptions } from './models.js';
export {
  DEFAULT_MODELS,
  MODEL_REGISTRY,
  SENTIMENT_DEFAULT_RULE,
  DIGEST_PREFIX,
  defaultModel,
  defaultRecipe,
  registeredModel,
  modelDigest,
  type RegisteredModel,
} from './registry.js';
export {
  ModelStore,
  servedModelDir,
  servedModelTask,
  storeVersionOf,
  isStoreNameFolder,
  VERSIONS_FILE,
  PIN_FILE,
  PUBLISH_RECORD,
  type ModelVersionRecord,
  type PublishOptions,
  type PublishResult,
  type ResolvedModel,
  type StoredModel,
  type ModelStoreOptions,
  type ModelWatch,
} from './store.js';
