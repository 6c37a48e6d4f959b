import type { TaskName } from './io/model-config.js';
import { BadInputError } from './errors.js';

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

/** One token's additive share of a class's score (see {@link LabelTokens}). */
export interface TokenContribution {
  text: string;
  start: number;
  end: number;
  /** Added to the class's logit (log-odds) by this token: positive for, negative against. */
  contribution: number;
}

/** Per-class evidence of a multi-label result: how each token moved one class's score. */
export interface LabelTokens {
  label: string;
  /** Tokens in text order. */
  tokens: TokenContribution[];
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

/** What a text classifier predicts: one class of two, one of many, or any subset of its classes. */
export type ClassificationProblem = 'binary' | 'multi-class' | 'multi-label';

/** Every {@link ClassificationProblem}, in the order they are listed to users. */
export const CLASSIFICATION_PROBLEMS: readonly ClassificationProblem[] = Object.freeze(['binary', 'multi-class', 'multi-label']);

/** One class and its score. */
export interface ClassScore {
  label: string;
  /** Probability of the class: softmax over the classes (binary, multi-class) or independent (multi-label). */
  score: number;
}

/** The one text-classification result, whatever the model kind. */
export interface TextClassificationResult {
  /** Every class with its score, highest first. */
  labels: ClassScore[];
  /** The top class. */
  label: string;
  /** Score of {@link label}. */
  score: number;
  /**
   * The predicted classes: `[label]` for binary and multi-class models; for multi-label models
   * every class whose score reaches the model's threshold (possibly none).
   */
  predicted: string[];
  /** Attention weight per token; only models with attention (kind `rnn`) give them. */
  tokens?: AttributedToken[];
  /**
   * Multi-label models with attention (kind `rnn`): for each predicted class, each token's
   * additive contribution to that class's logit. The attention in {@link tokens} is shared by all
   * classes; these say which tokens pushed which class.
   */
  labelTokens?: LabelTokens[];
  /** Whether the text was longer than the model reads at once (cut, or read in chunks and pooled). */
  truncated: boolean;
}

/** Options of {@link TextClassificationPipeline.predict}. */
export interface ClassifyOptions {
  /**
   * What to do with texts longer than the model's length: `'truncate'` keeps the head and the
   * tail (the model's truncation), `'chunks'` reads the whole text in model-length windows and
   * averages their probabilities. Default: the model's setting.
   */
  longTexts?: 'truncate' | 'chunks';
  /** Texts per batch. */
  batchSize?: number;
  /**
   * `false` leaves out per-token explanations (`tokens`, `labelTokens`) for callers that need
   * only labels and scores, such as an evaluation: less work and memory per text. Default true.
   */
  explain?: boolean;
  /**
   * Token lists of these very texts, shared by models that tokenize the same way: an ensemble
   * passes one {@link SharedTokens} to each of its members so a batch is tokenized once, not
   * once per member. Models that tokenize otherwise ignore what others stored.
   */
  sharedTokens?: SharedTokens;
  /**
   * The texts the caller will classify next, with the {@link SharedTokens} it will pass then: a
   * model may tokenize them while it waits on its kernels (side work), so the next call finds
   * them tokenized. A scoring loop that reads one batch ahead passes it.
   */
  lookahead?: { texts: string[]; sharedTokens: SharedTokens };
}

/**
 * One batch's tokenizations, by tokenization: what the first model computes under a key, the
 * next model with the same key reuses. Valid for one `texts` array, unchanged between calls.
 */
export interface SharedTokens {
  /**
   * The value stored under `key` for `texts`, or `compute(texts)` stored under it. A call with
   * another array (not the same object) recomputes and replaces the entry. After {@link prefill},
   * `compute` gets only the texts not filled yet, and must map each text on its own.
   */
  get<T>(texts: readonly string[], key: string, compute: (texts: readonly string[]) => T[]): T[];
  /**
   * Fills the entry under `key` for `texts` one text at a time: each call of the returned
   * function computes `one` of the next text and returns true, then false once all are done
   * (a side-work item; see `withSideWork`).
   */
  prefill<T>(texts: readonly string[], key: string, one: (text: string) => T): () => boolean;
}

/** A {@link SharedTokens} for one call over one batch (held by the caller, dropped with it). */
export function sharedTokens(): SharedTokens {
  const entries = new Map<string, { texts: readonly string[]; values: unknown[] }>();
  return {
    get<T>(texts: readonly string[], key: string, compute: (texts: readonly string[]) => T[]): T[] {
      const hit = entries.get(key);
      if (hit && hit.texts === texts) {
        if (hit.values.length < texts.length) hit.values.push(...compute(texts.slice(hit.values.length)));
        return hit.values as T[];
      }
      const values = compute(texts);
      entries.set(key, { texts, values });
      return values;
    },
    prefill<T>(texts: readonly string[], key: string, one: (text: string) => T): () => boolean {
      let entry = entries.get(key);
      if (!entry || entry.texts !== texts) entries.set(key, (entry = { texts, values: [] }));
      const filling = entry;
      return () => {
        if (entries.get(key) !== filling || filling.values.length >= texts.length) return false;
        filling.values.push(one(texts[filling.values.length]!));
        return true;
      };
    },
  };
}

/** A loaded text classifier of any kind. */
export interface TextClassificationPipeline extends Pipeline {
  readonly task: 'text-classification';
  readonly problem: ClassificationProblem;
  /** Class names in score order of the model's outputs. */
  readonly classes: readonly string[];
  /** Whether results carry per-token attention weights. */
  readonly explains: boolean;
  /** Tokens the model reads at once (texts longer than this are truncated or chunked). */
  readonly maxLength: number;
  /** Multi-label models that keep one: the decision threshold of each class, in class order. */
  readonly thresholds?: readonly number[];
  predict(texts: string[], options?: ClassifyOptions): Promise<TextClassificationResult[]>;
  /**
   * The results of {@link predict}, computed one text at a time as the iterator is pulled, on
   * the calling thread with no backend or kernels: offered by models on plain arrays, so an
   * ensemble can score them in the waits of a member whose kernels run on a helper thread.
   */
  predictEach?(texts: string[], options?: ClassifyOptions): Iterator<TextClassificationResult>;
}

/**
 * The class scores of a {@link TextClassificationResult} in the order of `classes` (the inverse
 * of {@link classificationResult}), e.g. to combine models whose outputs list classes differently.
 *
 * @throws BadInputError when the result has no score for one of `classes`.
 */
export function classScores(result: TextClassificationResult, classes: readonly string[]): number[] {
  const byLabel = new Map(result.labels.map((l) => [l.label, l.score]));
  return classes.map((c) => {
    const score = byLabel.get(c);
    if (score === undefined) throw new BadInputError(`no score for class ${JSON.stringify(c)}; the result has ${result.labels.map((l) => l.label).join(', ')}`);
    return score;
  });
}

/**
 * Turns one row of class probabilities into a {@link TextClassificationResult} (labels sorted
 * by score, the predicted set chosen by the problem type). `threshold` (multi-label only) is one
 * decision threshold for every class, or one per class in class order; default 0.5.
 */
export function classificationResult(
  classes: readonly string[],
  probabilities: ArrayLike<number>,
  problem: ClassificationProblem,
  extra: { truncated: boolean; tokens?: AttributedToken[]; threshold?: number | ArrayLike<number> },
): TextClassificationResult {
  const t = extra.threshold ?? 0.5;
  const thresholdOf = typeof t === 'number' ? () => t : (i: number) => t[i] ?? 0.5;
  const labels = Array.from(classes, (label, i) => ({ label, score: probabilities[i]! })).sort((a, b) => b.score - a.score);
  const top = labels[0]!;
  const chosen = problem === 'multi-label' ? new Set(classes.filter((_, i) => probabilities[i]! >= thresholdOf(i))) : undefined;
  const predicted = chosen ? labels.filter((l) => chosen.has(l.label)).map((l) => l.label) : [top.label];
  return { labels, label: top.label, score: top.score, predicted, ...(extra.tokens ? { tokens: extra.tokens } : {}), truncated: extra.truncated };
}
