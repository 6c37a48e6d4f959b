import type { TextClassificationEvaluation, TextClassificationTrainOptions } from '@seqlab/tasks';

/** What the model card of a recipe:sst2 model says. */
export interface Sst2CardInput {
  name: string;
  command: string;
  seed: number;
  settings: Partial<TextClassificationTrainOptions>;
  metrics: TextClassificationEvaluation['metrics'];
  holdoutAccuracy: number;
  members: Array<Record<string, unknown>>;
  bytes: number;
  backend: string;
  trainRows: number;
}

/** README.md of a model recipe:sst2 ships under models/. */
export function sst2Card(c: Sst2CardInput): string {
  const s = c.settings;
  const vectors = s.wordVectors && s.wordVectors !== 'none' ? `${s.wordVectors}${s.freezeEmbeddings ? ', kept frozen' : ', fine-tuned'}${s.openVocabulary ? `, and ${s.openVocabulary.toLocaleString('en')} more of its most frequent words the training phrases lack, carried with their vectors (an open vocabulary)` : ''}` : 'trained from scratch';
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  return `# ${c.name}: SST-2 BiRNN + attention classifier

An ensemble of ${c.members.length} bidirectional ${String(s.cell).toUpperCase()} classifiers (${s.units} units per direction, attention pooling, dropout ${s.dropout}),
seeds ${c.members.map((m) => m.seed).join(', ')}, that average their probabilities and attention weights. Word embeddings: ${vectors}.
Weights stored as ${s.precision}. Kind \`rnn\` of the text-classification task; predictions come with per-token attention weights.

## Data
GLUE SST-2: ${c.trainRows.toLocaleString('en')} training phrases; early stopping (and learning-rate plateaus) on 500 sentence-like phrases held out
of training, with every training phrase tied to them left out. GLUE dev (872 sentences) is scored once, after training.

## Metrics (GLUE dev)
| metric | value |
| --- | --- |
| accuracy | ${pct(c.metrics.accuracy)} |
| macro F1 | ${c.metrics.macro.f1.toFixed(4)} |
| ROC-AUC | ${c.metrics.rocAuc?.toFixed(4) ?? 'n/a'} |
| early-stopping holdout accuracy | ${pct(c.holdoutAccuracy)} |

Members: ${c.members.map((m) => `seed ${m.seed}: ${m.epochs} epochs, best ${m.bestEpoch}`).join('; ')}. Size ${(c.bytes / 1e6).toFixed(2)} MB.

## Reproduce
\`\`\`sh
${c.command}
\`\`\`
Seed ${c.seed}, backend ${c.backend}; budgets in epochs, so the figure reproduces on any machine, only slower or faster.

## Use
\`\`\`ts
import { pipeline } from '@seqlab/tasks';
const model = await pipeline('text-classification', 'models/${c.name}');
const [r] = await model.predict(['a gorgeous, witty film']);
console.log(r.label, r.score);
\`\`\`

## Limitations
English movie-review snippets only; binary labels (no neutral); attention weights show what the pooling looked at, which is not a
faithful causal explanation. Sarcasm and negation scope remain hard.
`;
}
