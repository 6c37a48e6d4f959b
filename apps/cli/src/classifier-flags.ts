import type { Command } from 'commander';
import { z } from 'zod';
import { isSeqlabError, SeqlabError } from '@seqlab/core/base';
import type { TextClassificationTrainOptions } from '@seqlab/tasks';
import { optionFlag } from './errors.js';
import { commonSchema, fraction, int, nonNegative, number, oneOf, positive, positiveInt, seed } from './options.js';

/*
 * The flags of `seqlab train classifier`, as data: declared once for commander, checked by one
 * zod schema (string to typed value), and mapped to the options of train('text-classification'),
 * which checks ranges and combinations and owns every default that is not a flag default here.
 */

const FLAGS: [string, string, string?][] = [
  ['--data <file>', 'CSV, TSV or JSONL; delimiter, header and columns detected (e.g. data/sst2/train.tsv)'],
  ['--out <dir>', 'the model folder (its run folder, with checkpoints, is DIR.run beside it)'],
  ['--resume <dir>', 'continue the interrupted run of model folder DIR (its options are reused; flags given now override)'],
  ['--validation <file>', 'validation file (default: a stratified --val-split of --data)'],
  ['--text-col <name>', 'text column (default: text, sentence, review, question, content, ... or the longest)'],
  ['--no-header', 'the file has no header row: read every row as data (columns column1, column2, ...)'],
  ['--label-col <name>', 'label column (default: label, class, category, target, sentiment, ...)'],
  ['--model <kind>', 'auto (tfidf-lr, fasttext and rnn, with --encoder use also use and hybrid; for one-label data also their weighted ensemble, kept only when its cross-fitted validation accuracy beats the best kind alone) | rnn | fasttext | tfidf-lr | use | hybrid', 'auto'],
  ['--encoder <name>', 'none | use: Universal Sentence Encoder vectors (offline) with a trained head (kind use) or with TF-IDF n-grams (kind hybrid); --model auto then fits them beside the other kinds', 'none'],
  ['--head-hidden <sizes>', 'use/hybrid: head sizes tried on validation, 0 = logistic regression', '0,256'],
  ['--class-weights <how>', 'none | balanced (weigh classes by inverse frequency)', 'none'],
  ['--epochs <n>', 'rnn: maximum epochs (counting epochs done before a resume)', '5'],
  ['--cell <type>', 'rnn: recurrent cell lstm|gru|simple', 'lstm'],
  ['--layers <n>', 'rnn: stacked bidirectional layers', '1'],
  ['--units <n>', 'rnn: units per direction', '64'],
  ['--freeze-embeddings', 'rnn: keep the pre-trained word vectors fixed (default: fine-tune them); on SST-2 frozen GloVe did better, on TREC fine-tuned'],
  ['--open-vocabulary <n>', "rnn with --freeze-embeddings: also carry the word vectors' N most frequent words missing from the training texts (0 = off)", '20000'],
  ['--embedding-dim <n>', "rnn: word embedding size (default 64, or the word vectors' size)"],
  ['--word-vectors <name>', 'rnn: pre-trained vectors the embedding starts from: auto (GloVe 6B 100-d when installed and it knows enough of the training tokens; the report says why) | none | glove-6b-100d | a GloVe/word2vec/.vec text file', 'auto'],
  ['--attention <kind>', 'rnn: pooling (attention pooling) | self (self-attention, then pooling)', 'pooling'],
  ['--dropout <r>', 'rnn: dropout after the embedding and before the output', '0.3'],
  ['--vocab-size <n>', 'rnn: largest word vocabulary', '20000'],
  ['--max-length <n>', 'rnn: tokens read at once (default: the 90th percentile of the training texts, 16..256)'],
  ['--truncation <how>', 'rnn: tokens kept from longer texts: head+tail | head | tail', 'head+tail'],
  ['--batch-size <n>', 'rnn: texts per batch', '32'],
  ['--lr <rate>', 'rnn: Adam learning rate', '0.002'],
  ['--clip <norm>', 'rnn: clip gradients to this global norm', '5'],
  ['--val-split <f>', 'fraction of --data held out (stratified) when --validation is not given', '0.1'],
  ['--limit <n>', 'train on N rows: a stratified, seeded sample (quick runs)'],
  ['--thresholds <how>', 'multi-label decision thresholds: f1 (each label the threshold that maximises its F1 on the validation rows) or one number for every label, e.g. 0.5', 'f1'],
  ['--no-refit', 'keep the chosen fasttext/tfidf-lr model as fitted on the training rows (default: refit it on training + validation rows once validation has chosen it)'],
  ['--patience <n>', 'rnn: early stopping, epochs without a better --monitor (0 = off)', '2'],
  ['--monitor <metric>', 'rnn: what picks the best epoch on validation: accuracy (subset accuracy for multi-label) | loss', 'accuracy'],
  ['--time-budget <seconds>', 'rnn: stop cleanly (checkpoint, save) after this many seconds (default under --model auto: 1500)'],
  ['--keep-checkpoints', 'keep the run folder (DIR.run: checkpoints) after a successful run'],
  ['--seed <n>', 'random seed', '1'],
  ['--plot <file>', 'rnn training-curve plot (.png or .svg; default DIR/training-curve.png)'],
  ['--force', 'start over even if DIR.run holds an unfinished run'],
];

/** Declares the flags on `cmd`. */
export function declareClassifierFlags(cmd: Command): Command {
  for (const [flags, description, fallback] of FLAGS) cmd.option(flags, description, fallback);
  return cmd;
}

const sizes = z.string().transform((s, ctx) => {
  const list = s.split(',').map((x) => Number(x.trim()));
  if (list.some((n) => !Number.isInteger(n) || n < 0 || n > 4096)) {
    ctx.addIssue({ code: 'custom', message: `expected comma-separated layer sizes in 0..4096 (0 = logistic regression), got "${s}"` });
    return z.NEVER;
  }
  return list;
});
const thresholds = z.string().transform((s, ctx) => {
  if (s === 'f1') return 'f1' as const;
  const n = Number(s);
  if (s.trim() === '' || !(n > 0 && n < 1)) {
    ctx.addIssue({ code: 'custom', message: `expected f1 or a number between 0 and 1 (exclusive), got "${s}"` });
    return z.NEVER;
  }
  return n;
});

/** Strings to typed values; ranges and combinations are train()'s to check. */
export const classifierSchema = commonSchema.extend({
  data: z.string({ error: 'required unless --resume is given' }),
  out: z.string({ error: 'required unless --resume is given' }),
  validation: z.string().optional(),
  textCol: z.string().optional(),
  header: z.boolean().optional(),
  labelCol: z.string().optional(),
  model: oneOf(['auto', 'rnn', 'fasttext', 'tfidf-lr', 'use', 'hybrid'] as const, 'a model kind, one of'),
  encoder: oneOf(['none', 'use'] as const, 'a sentence encoder, one of'),
  headHidden: sizes,
  classWeights: oneOf(['none', 'balanced'] as const, 'one of'),
  epochs: positiveInt,
  cell: oneOf(['lstm', 'gru', 'simple'] as const, 'a cell type, one of'),
  layers: int(1, 4),
  units: positiveInt,
  embeddingDim: positiveInt.optional(),
  wordVectors: z.string(),
  freezeEmbeddings: z.boolean().default(false),
  openVocabulary: int(0),
  attention: oneOf(['pooling', 'self'] as const, 'an attention kind, one of'),
  dropout: number('a number in [0, 1)', (n) => n >= 0 && n < 1),
  vocabSize: int(16),
  maxLength: int(2, 10_000).optional(),
  truncation: oneOf(['head+tail', 'head', 'tail'] as const, 'one of'),
  batchSize: positiveInt,
  lr: positive,
  clip: positive,
  valSplit: fraction,
  limit: positiveInt.optional(),
  patience: int(0),
  monitor: oneOf(['accuracy', 'loss'] as const, 'one of'),
  timeBudget: nonNegative.optional(),
  keepCheckpoints: z.boolean().default(false),
  seed,
  plot: z.string().optional(),
  force: z.boolean().default(false),
  refit: z.boolean().default(true),
  thresholds,
});
export type ClassifierFlags = z.output<typeof classifierSchema>;

/** The flags as train('text-classification') options (paths already resolved by the caller). */
export function trainOptionsOf(o: ClassifierFlags, paths: { out: string; validation?: string }): TextClassificationTrainOptions {
  const { json: _j, verbose: _v, data: _d, out: _o, validation: _val, textCol, labelCol, header, lr, clip, timeBudget, plot: _p, force, ...rest } = o;
  return {
    ...rest,
    out: paths.out,
    ...(paths.validation ? { validation: paths.validation } : {}),
    ...(textCol ? { textColumn: textCol } : {}),
    ...(labelCol ? { labelColumn: labelCol } : {}),
    // Commander's --no-header leaves header true unless given: only an explicit "no" is passed, so a header is still detected.
    ...(header === false ? { header: false } : {}),
    learningRate: lr,
    clipNorm: clip,
    ...(timeBudget !== undefined ? { timeBudgetSeconds: timeBudget } : {}),
    overwrite: force,
  };
}

const FLAG_OF: Record<string, string> = { learningRate: '--lr', clipNorm: '--clip', timeBudgetSeconds: '--time-budget', textColumn: '--text-col', labelColumn: '--label-col' };

/**
 * train()'s messages name its options (`embeddingDim 24 differs from ... wordVectors`); a CLI
 * user typed flags, so the option names in a message become the flags (`--embedding-dim`).
 * `optionKeys` are train()'s option names (passed in, so that declaring the flags does not load
 * the task package).
 */
export function inFlagTerms(err: unknown, optionKeys: readonly string[]): unknown {
  if (!isSeqlabError(err) || err.code !== 'bad_input') return err;
  // Any option leading a message (`dropout: expected ...`); camel-case names anywhere, which prose never uses.
  const camel = optionKeys.filter((k) => /[A-Z]/.test(k));
  const pattern = new RegExp(`^(${optionKeys.join('|')})(?=:)|\\b(${camel.join('|')})\\b`, 'g');
  const message = err.message.replace(pattern, (m) => FLAG_OF[m] ?? optionFlag(m));
  return message === err.message ? err : new SeqlabError(err.code, message, { cause: err });
}
