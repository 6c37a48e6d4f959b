import type { TaskName } from './io/model-config.js';

/**
 * What every pipeline returned by `pipeline(task, model)` has: the task, the model kind within
 * the task, the model's name, a saver that writes the directory format the task loads, and
 * `dispose`.
 */
export interface Pipeline {
  readonly task: TaskName;
  /** Model kind within the task (the `kind` of the directory's config.json). */
  readonly kind: string;
  /** The model's name as users call it (a folder name under the models folder, or a registry name). */
  readonly name: string;
  /** Writes the model to `dir` in the format this task loads back. */
  save(dir: string): Promise<void>;
  /** Frees the model's tensors. Idempotent. */
  dispose(): void;
}

/** One token of an explained prediction, with offsets into the input text. */
export interface AttributedToken {
  text: string;
  start: number;
  end: number;
  /** Attention weight of the token (the weights of one text sum to 1). */
  weight: number;
}

/** The labels of a sentiment model, in probability order. */
export const SENTIMENT_LABELS = Object.freeze(['negative', 'positive'] as const);

/** The one sentiment result, whatever the model kind (recurrent, USE head, hybrid). */
export interface SentimentResult {
  label: 'negative' | 'positive';
  /** Probability of `label`, in [0.5, 1]. */
  score: number;
  /** Class probabilities in label order `[negative, positive]`. */
  probabilities: number[];
  /** Attention weight per token; only models with attention (kind `rnn`) give them. */
  tokens?: AttributedToken[];
}

/** A loaded sentiment model of any kind. */
export interface SentimentPipeline extends Pipeline {
  readonly task: 'sentiment';
  /** Whether results carry per-token attention weights. */
  readonly explains: boolean;
  predict(texts: string[]): Promise<SentimentResult[]>;
}

/** A result from a positive-class probability. */
export function sentimentFromPositive(positive: number): SentimentResult {
  return positive >= 0.5
    ? { label: 'positive', score: positive, probabilities: [1 - positive, positive] }
    : { label: 'negative', score: 1 - positive, probabilities: [1 - positive, positive] };
}
