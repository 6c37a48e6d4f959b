import { existingDir } from './options.js';

/**
 * The embedding task's pipeline: the bundled USE-lite through `pipeline('embedding')`, or the
 * encoder in `--encoder DIR`.
 */
export async function openEncoder(dir: string | undefined) {
  const modelDir = dir ? existingDir(dir, '--encoder') : undefined;
  if (!modelDir) {
    const { pipeline } = await import('@seqlab/tasks');
    return pipeline('embedding');
  }
  const { initBackend } = await import('@seqlab/core');
  await initBackend();
  const { EmbeddingPipeline, SemanticIndex, loadEncoder } = await import('@seqlab/embeddings');
  const encoder = await loadEncoder({ modelDir });
  return new EmbeddingPipeline(encoder, new SemanticIndex(encoder), 'custom-encoder', true);
}
