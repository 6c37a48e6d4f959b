import { classificationResult, type ClassifyOptions, type SentimentPipeline, type TextClassificationPipeline, type TextClassificationResult } from '@seqlab/core';

/**
 * A sentiment model of a kind without token limits (USE head, hybrid) seen through the
 * text-classification task: binary, classes negative/positive, the same scores. The sentence
 * encoder reads whole texts, so nothing is truncated.
 */
export class SentimentAsTextClassifier implements TextClassificationPipeline {
  readonly task = 'text-classification' as const;
  readonly problem = 'binary' as const;
  readonly classes = Object.freeze(['negative', 'positive']);
  readonly maxLength = Number.POSITIVE_INFINITY;

  constructor(private readonly sentiment: SentimentPipeline) {}

  get kind(): string {
    return this.sentiment.kind;
  }

  get name(): string {
    return this.sentiment.name;
  }

  get explains(): boolean {
    return this.sentiment.explains;
  }

  async predict(texts: string[], _options: ClassifyOptions = {}): Promise<TextClassificationResult[]> {
    const results = await this.sentiment.predict(texts);
    return results.map((r) => classificationResult(this.classes, r.probabilities, 'binary', { truncated: false, ...(r.tokens ? { tokens: r.tokens } : {}) }));
  }

  /** Saves the underlying sentiment model (it loads back under either task). */
  save(dir: string): Promise<void> {
    return this.sentiment.save(dir);
  }

  dispose(): void {
    this.sentiment.dispose();
  }
}
