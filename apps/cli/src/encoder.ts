import { existingDir } from './options.js';

/**
 * The embedding task's pipeline: the bundled USE-lite through `pipeline('embedding')`, or the
 * encoder in `--encoder DIR`.
 */
export async function openEncoder(dir: string | undefined) {
  const modelDir = dir ? existingDir(dir, '--encoder') : undefined;
  const { pipeline, embeddingPipelineFromEncoderFolder } = await import('@seqlab/tasks');
  return modelDir ? embeddingPipelineFromEncoderFolder(modelDir) : pipeline('embedding');
}
