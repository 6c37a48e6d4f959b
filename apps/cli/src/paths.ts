/*
 * Where the CLI finds the repository and the models folder: @seqlab/tasks decides, so the CLI
 * and the API read the same `SEQLAB_MODELS` variable the same way.
 */
export { repoRoot, modelsDir as modelsRoot } from '@seqlab/tasks/catalog';
