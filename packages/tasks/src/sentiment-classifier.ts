import {
  BadInputError,
  classScores,
  SENTIMENT_LABELS,
  type AttributedToken,
  type SentimentPipeline,
  type SentimentResult,
  type TextClassificationPipeline,
  type TextClassificationResult,
} from '@seqlab/core/base';

/**
 * The sentiment task over a binary text classifier whose classes are negative and positive:
 * the same model, the same scores, the {@link SentimentResult} shape (label, score,
 * `[negative, positive]` probabilities and, for models with attention, token weights). An
 * ensemble's explanation comes from its first member with attention.
 *
 * @throws BadInputError when the classifier is not binary over negative/positive.
 */
export class SentimentClassifierPipeline implements SentimentPipeline {
  readonly task = 'sentiment' as const;

  constructor(readonly classifier: TextClassificationPipeline) {
    const classes = [...classifier.classes].sort();
    if (classifier.problem !== 'binary' || classes.join(',') !== SENTIMENT_LABELS.join(',')) {
      throw new BadInputError(
        `model "${classifier.name}" is a ${classifier.problem} classifier of ${classifier.classes.join(', ')}; sentiment needs a binary classifier of negative and positive`,
      );
    }
  }

  get kind(): string {
    return this.classifier.kind;
  }

  get name(): string {
    return this.classifier.name;
  }

  get explains(): boolean {
    return this.classifier.explains;
  }

  async predict(texts: string[]): Promise<SentimentResult[]> {
    return (await this.classifier.predict(texts)).map(toSentiment);
  }

  /** Saves the underlying text classifier (its own format; it loads back under either task). */
  save(dir: string): Promise<void> {
    return this.classifier.save(dir);
  }

  dispose(): void {
    this.classifier.dispose();
  }
}

/** One binary negative/positive classification as a {@link SentimentResult}. */
export function toSentiment(result: TextClassificationResult): SentimentResult {
  const probabilities = classScores(result, SENTIMENT_LABELS);
  // Ties go to positive, as the recurrent sentiment models always decided them.
  const label = probabilities[1]! >= probabilities[0]! ? 'positive' : 'negative';
  const tokens: AttributedToken[] | undefined = result.tokens;
  return { label, score: label === 'positive' ? probabilities[1]! : probabilities[0]!, probabilities, ...(tokens ? { tokens } : {}) };
}
