import { existingDir } from './options.js';

/** Loads the sentence encoder (bundled USE-lite, or `--encoder DIR`) after the backend is up. */
export async function openEncoder(dir: string | undefined) {
  const modelDir = dir ? existingDir(dir, '--encoder') : undefined;
  const { initBackend } = await import('@seqlab/core');
  await initBackend();
  const { loadEncoder } = await import('@seqlab/embeddings');
  return loadEncoder(modelDir ? { modelDir } : {});
}
