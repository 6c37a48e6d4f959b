import { TextVectorizer, type CleanTextOptions } from '@seqlab/tokenize';
import { DEFAULT_CLEAN } from './inputs.js';

/** What {@link countTrainingTokens} measures. */
export interface TrainingTokenCounts {
  /** Tokens per text, in order. */
  lengths: number[];
  /** How often each token occurs over all the texts. */
  wordCounts: Map<string, number>;
}

/**
 * The texts as the classifiers tokenize them (word tokens after `clean`, default
 * {@link DEFAULT_CLEAN}), in one pass keeping only the lengths and the word counts (a
 * vocabulary's worth of memory): what the default length and the word vectors' coverage are
 * judged on. Pass the cleaning the classifier will use, or the two see different tokens.
 */
export function countTrainingTokens(texts: readonly string[], clean: CleanTextOptions | false = DEFAULT_CLEAN): TrainingTokenCounts {
  const counter = new TextVectorizer({ tokenizer: 'word', ...(clean ? { clean } : {}) });
  const wordCounts = new Map<string, number>();
  const lengths = texts.map((t) => {
    const tokens = counter.tokenize(t);
    for (const k of tokens) wordCounts.set(k.text, (wordCounts.get(k.text) ?? 0) + 1);
    return tokens.length;
  });
  return { lengths, wordCounts };
}
