import type { ClassifyOptions, TextClassificationPipeline, TextClassificationResult } from '@seqlab/tasks';
import { ItemProgress } from './progress.js';

/** Classifies `texts` in slices, with an {@link ItemProgress} on stderr for long lists. */
export async function classifyWithProgress(
  model: TextClassificationPipeline,
  texts: string[],
  options: ClassifyOptions,
  progress: { what: string; quiet: boolean },
): Promise<TextClassificationResult[]> {
  const slice = 256;
  if (texts.length <= slice) return model.predict(texts, options);
  const bar = new ItemProgress(progress.what, texts.length, { quiet: progress.quiet });
  const out: TextClassificationResult[] = [];
  try {
    for (let s = 0; s < texts.length; s += slice) {
      out.push(...(await model.predict(texts.slice(s, s + slice), options)));
      bar.update(out.length);
    }
  } finally {
    bar.stop();
  }
  return out;
}
