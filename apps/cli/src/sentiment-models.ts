import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NotFoundError } from './errors.js';

/** A sentiment prediction from either kind of saved model. */
export interface SentimentResult {
  label: 'negative' | 'positive';
  score: number;
  /** `[negative, positive]`. */
  probabilities: number[];
  /** Attention weight per token; only recurrent attention models have them. */
  tokens?: { text: string; start: number; end: number; weight: number }[];
}

/** A loaded sentiment model of either kind. */
export interface OpenSentiment {
  /** `rnn`: @seqlab/rnn BiRNN + attention (explainable); `use`: @seqlab/embeddings USE head or hybrid. */
  kind: 'rnn' | 'use';
  predict(texts: string[]): Promise<SentimentResult[]>;
  dispose(): void;
}

/** Which loader a saved sentiment directory needs, judged from its files. */
export function sentimentKind(dir: string): 'rnn' | 'use' | undefined {
  if (existsSync(join(dir, 'config.json'))) return 'rnn';
  const modelJson = join(dir, 'model.json');
  if (!existsSync(modelJson)) return undefined;
  try {
    const meta = (JSON.parse(readFileSync(modelJson, 'utf8')) as { userDefinedMetadata?: { seqlab?: { kind?: string } } }).userDefinedMetadata?.seqlab;
    return meta?.kind === 'use-head' || meta?.kind === 'hybrid' ? 'use' : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Loads a sentiment model directory: the from-scratch recurrent model (`config.json`, what
 * `recipe:sst2` and `train classifier` write) or a Universal-Sentence-Encoder head
 * (`recipe:sst2-use`, metadata inside `model.json`). Call after `initBackend()`.
 */
export async function openSentiment(dir: string): Promise<OpenSentiment> {
  const kind = sentimentKind(dir);
  if (kind === 'rnn') {
    const { loadSentimentModel } = await import('@seqlab/rnn');
    const model = await loadSentimentModel(dir);
    return { kind, predict: (texts) => model.predict(texts), dispose: () => model.dispose() };
  }
  if (kind === 'use') {
    const { loadSentimentClassifier } = await import('@seqlab/embeddings');
    const clf = await loadSentimentClassifier({ modelDir: dir });
    return {
      kind,
      predict: async (texts) =>
        (await clf.predict(texts)).map((p) => ({ label: p.label, score: p.score, probabilities: [1 - p.positive, p.positive] })),
      dispose: () => clf.dispose(),
    };
  }
  throw new NotFoundError(`${dir} is not a saved sentiment model: no config.json (recurrent model) and no seqlab metadata in model.json (USE model)`);
}
