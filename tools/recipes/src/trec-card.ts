import type { TextClassificationEvaluation } from '@seqlab/tasks';

/** What the TREC recipe kept as models/question-type, for its card. */
export interface QuestionTypeChoice {
  kind: string;
  validationAccuracy: number;
  /** The ensemble's member weights, chosen on the held-out 10%. */
  weights?: Record<string, number>;
  /** Sentence-encoder kinds: what the held-out 10% chose. */
  chosen?: { labels: 'coarse' | 'fine'; hidden: number; headEpochs: number; useWeight?: number; refit: boolean };
  metrics: TextClassificationEvaluation['metrics'];
  bytes: number;
  seed: number;
  backend: string;
  /** The best TREC-6 test accuracy of any kind in the run (issue 15's goal is 95%). */
  trec6Best: number;
}

function ensembleLine(weights: Record<string, number> | undefined): string {
  if (!weights) return '';
  return `- The ensemble averages the class probabilities of its two members (\`members/\`), weighted as chosen on that 10%: the hybrid ${weights['hybrid']}, the BiLSTM over GloVe 6B 100-d word vectors (fine-tuned; trained on the other 90%, early-stopped on the 10%) ${weights['rnn-glove']}. Explanations (attention weights) come from the BiLSTM. The 10% also stopped the BiLSTM's training, so its share is chosen on rows it is tuned to; the hybrid's validation probabilities are from before its refit.\n`;
}

function encoderLines(chosen: QuestionTypeChoice['chosen']): string {
  if (!chosen) return '';
  const labels = chosen.labels === 'fine' ? 'trained on the 50 fine labels, a coarse class scoring the sum of its fine ones' : 'trained on the 6 coarse labels';
  const head = chosen.hidden === 0 ? 'logistic regression' : `MLP with ${chosen.hidden} hidden units`;
  const weight = chosen.useWeight !== undefined ? `; USE probabilities weighted ${chosen.useWeight}, TF-IDF n-gram probabilities ${(1 - chosen.useWeight).toFixed(2)}` : '';
  return `- Settings chosen on that 10%: ${labels}; head ${head} for ${chosen.headEpochs} epochs${weight}. Then fitted again with those settings on every training question.
- The sentence encoder (USE-lite, 27 MB) is not in this directory: config.json names it with the SHA-256 of its model.json and the loader takes it from @seqlab/embeddings (the installed, verified files).
`;
}

/** The README.md of models/question-type: what it is, how it was chosen, its test figures and limits. */
export function questionTypeCard(q: QuestionTypeChoice): string {
  const m = q.metrics;
  const fitted = q.weights ? 'the hybrid: all of it after the choices; the BiLSTM: the 90%' : q.chosen?.refit ? 'all of it after the choices' : '90% used for fitting';
  return `# question-type

The question-type classifier of \`seqlab classify\` and \`POST /v1/classify\`: which kind of
answer a question asks for, one of the 6 coarse TREC classes — ABBR (abbreviation), DESC
(description), ENTY (entity), HUM (person or group), LOC (location), NUM (number, date, amount).

- Task \`text-classification\`, kind \`${q.kind}\` (chosen among tfidf-lr, fasttext, a BiLSTM with
  attention from random or GloVe-started embeddings, a head on Universal Sentence Encoder vectors (use), its hybrid
  with TF-IDF n-grams, and an ensemble of the hybrid and the GloVe BiLSTM, by accuracy on a stratified 10% of the
  training questions, seed ${q.seed}: ${(q.validationAccuracy * 100).toFixed(2)}%).
${ensembleLine(q.weights)}${encoderLines(q.chosen)}- Data: TREC question classification (Li & Roth, COLING 2002), \`data/trec/train_5500.label\`
  (${fitted}), tested on \`data/trec/TREC_10.label\`.
- TREC-6 test accuracy ${(m.accuracy * 100).toFixed(2)}%, macro F1 ${m.macro.f1.toFixed(4)} (500 questions).
  Per class: ${m.perClass.map((c) => `${c.label} F1 ${c.f1.toFixed(3)} (${c.support})`).join(', ')}.
- Files: ${(q.bytes / 1e6).toFixed(2)} MB. Made by \`npm run recipe:trec -- --seed ${q.seed}\` on backend ${q.backend}.
- Limits: trained on short English factoid questions from the late 1990s; other text (statements,
  long documents, other languages) gets a class anyway. The goal of issue 15 (TREC-6 >= 95%) is
  ${q.trec6Best >= 0.95 ? 'met' : 'not met yet'} by this recipe's best kind (${(q.trec6Best * 100).toFixed(2)}%).

\`\`\`sh
npm run seqlab -- classify --model question-type "How far is it from Denver to Aspen ?"
\`\`\`
`;
}
