import type { EmbeddingPipeline } from '@seqlab/embeddings';

/**
 * The embedding task's pipeline over a sentence encoder read from a folder holding a USE-lite
 * `model.json`, its weight shards and `vocab.json` (an encoder, not a seqlab model folder, so
 * `pipeline('embedding', dir)` does not take it), with an empty semantic index. The pipeline
 * owns the encoder: disposing it frees the encoder.
 *
 * @throws ModelFileError when the folder's files are missing or do not verify.
 */
export async function embeddingPipelineFromEncoderFolder(modelDir: string): Promise<EmbeddingPipeline> {
  const { initBackend } = await import('@seqlab/core');
  await initBackend();
  const { EmbeddingPipeline, SemanticIndex, loadEncoder } = await import('@seqlab/embeddings');
  const encoder = await loadEncoder({ modelDir });
  return new EmbeddingPipeline(encoder, new SemanticIndex(encoder), 'custom-encoder', true);
}
