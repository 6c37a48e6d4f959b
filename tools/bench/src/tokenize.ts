/**
 * bench:tokenize - encoding throughput of the @seqlab/tokenize tokenizers against natural's own
 * WordTokenizer on the same text, in the same process, plus subword training time.
 *
 * Corpora: tiny-shakespeare (one line per line of the file) and SST-2 train (one sentence per
 * line). Every encoder maps each line to ids with `TextVectorizer.encodeIds` (normalization,
 * tokenization, offsets and vocabulary lookup included); natural's WordTokenizer only splits
 * (no normalization, no offsets, no ids). Figures are medians of RUNS timed passes after one
 * warm-up pass. MB/s counts UTF-8 bytes of the input; `vs natural` is MB/s over natural's MB/s
 * on the same corpus; the `(cpu)` columns use this process's CPU time instead of wall time.
 * BPE/WordPiece are trained on the corpus they encode (vocabulary 8000).
 *
 *   npm run bench:tokenize [-- --quick]
 */
import { readFileSync } from 'node:fs';
import natural from 'natural/lib/natural/tokenizers/index.js';
import { TextVectorizer, WordTokenizer, type TextVectorizerOptions } from '@seqlab/tokenize';
import { dataPath, formatTable, median, writeResults } from './lib/report.js';

const QUICK = process.argv.includes('--quick');
const RUNS = QUICK ? 2 : 5;
const TRAIN_RUNS = QUICK ? 1 : 3;
const VOCAB = 8000;

const corpora: Record<string, string[]> = {
  'tiny-shakespeare': readFileSync(dataPath('tiny_shakespeare', 'input.txt'), 'utf8').split('\n'),
  'sst2-train': readFileSync(dataPath('sst2', 'train.tsv'), 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t')[0]!),
};

/**
 * Median wall and CPU seconds of `runs` timed calls of `f` after one warm-up; returns the last
 * result too. CPU time (user + system of this process) is reported beside wall time because the
 * benchmark machine is shared: wall time then measures the neighbours as much as the code.
 */
function timeIt<T>(f: () => T, runs: number): { seconds: number; cpuSeconds: number; result: T } {
  let result = f();
  const times: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    result = f();
    const c = process.cpuUsage(c0);
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    cpu.push((c.user + c.system) / 1e6);
  }
  return { seconds: median(times), cpuSeconds: median(cpu), result };
}

async function timeAsync(f: () => Promise<unknown>, runs: number): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    await f();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(times);
}

const encoders: Array<{ name: string; options: () => TextVectorizerOptions; trained?: boolean }> = [
  { name: 'word (treebank, NFKC+lower)', options: () => ({ tokenizer: 'word' }) },
  { name: "word (natural's rules, no normalization)", options: () => ({ tokenizer: new WordTokenizer({ method: 'word' }), normalize: false }) },
  { name: 'char', options: () => ({ tokenizer: 'char' }) },
  { name: `bpe (byte-level, ${VOCAB})`, options: () => ({ tokenizer: 'bpe', maxTokens: VOCAB }), trained: true },
  { name: `wordpiece (${VOCAB})`, options: () => ({ tokenizer: 'wordpiece', maxTokens: VOCAB }), trained: true },
];

/** Timed passes of `tokenize` over every line; the result is the number of tokens. */
function timeTokens(lines: string[], tokenize: (line: string) => ArrayLike<unknown>): ReturnType<typeof timeIt<number>> {
  return timeIt(() => {
    let n = 0;
    for (const l of lines) n += tokenize(l).length;
    return n;
  }, RUNS);
}

/** One row of the throughput table: `mb` of input encoded in `run`, compared with natural's MB/s on the same corpus. */
function throughputRow(corpus: string, encoder: string, mb: number, run: { seconds: number; cpuSeconds: number; result: number }, natural: { mbs: number; cpuMbs: number }, vocab: number | ''): Record<string, unknown> {
  const mbs = mb / run.seconds;
  return {
    corpus,
    encoder,
    tokens: run.result,
    'tokens/s': Math.round(run.result / run.seconds),
    'MB/s': Number(mbs.toFixed(2)),
    'vs natural': Number((mbs / natural.mbs).toFixed(2)),
    'MB/s (cpu)': Number((mb / run.cpuSeconds).toFixed(2)),
    'vs natural (cpu)': Number((mb / run.cpuSeconds / natural.cpuMbs).toFixed(2)),
    vocab,
  };
}

const rows: Array<Record<string, unknown>> = [];
const training: Array<Record<string, unknown>> = [];

for (const [corpusName, lines] of Object.entries(corpora)) {
  const mb = Buffer.byteLength(lines.join('\n'), 'utf8') / 1e6;
  const baseline = new natural.WordTokenizer();
  const base = timeTokens(lines, (l) => baseline.tokenize(l));
  const naturalSpeed = { mbs: mb / base.seconds, cpuMbs: mb / base.cpuSeconds };
  rows.push(throughputRow(corpusName, 'natural WordTokenizer (split only)', mb, base, naturalSpeed, ''));
  const treebank = new natural.TreebankWordTokenizer();
  rows.push(throughputRow(corpusName, 'natural TreebankWordTokenizer (split only)', mb, timeTokens(lines, (l) => treebank.tokenize(l)), naturalSpeed, ''));
  for (const enc of encoders) {
    const tv = new TextVectorizer(enc.options());
    if (enc.trained) {
      const seconds = await timeAsync(() => new TextVectorizer(enc.options()).adapt(lines), TRAIN_RUNS);
      training.push({ corpus: corpusName, tokenizer: enc.name, 'train s': Number(seconds.toFixed(2)), vocab: VOCAB });
    }
    await tv.adapt(lines);
    const run = timeTokens(lines, (l) => tv.encodeIds(l));
    rows.push(throughputRow(corpusName, enc.name, mb, run, naturalSpeed, tv.vocabSize));
    console.error(`${corpusName} / ${enc.name}: ${(run.result / run.seconds / 1e6).toFixed(2)} M tokens/s`);
  }
}

// The padded batch path (what a model's input pipeline calls): 64 lines per call, length 64.
const batchRows: Array<Record<string, unknown>> = [];
{
  const lines = corpora['sst2-train']!;
  const tv = await new TextVectorizer().adapt(lines);
  const run = timeIt(() => {
    let n = 0;
    for (let i = 0; i < lines.length; i += 64) n += tv.encode(lines.slice(i, i + 64), { maxLength: 64, addBos: true }).ids.length;
    return n;
  }, RUNS);
  batchRows.push({ corpus: 'sst2-train', call: 'encode(batch 64, maxLength 64, BOS)', 'sentences/s': Math.round(lines.length / run.seconds), 'ids/s': Math.round(run.result / run.seconds) });
}

console.log('\nEncoding throughput (median of %d passes; backend: none, pure TypeScript)\n', RUNS);
console.log(formatTable(rows));
console.log('\nSubword training time (median of %d runs)\n', TRAIN_RUNS);
console.log(formatTable(training));
console.log('\nPadded batches\n');
console.log(formatTable(batchRows));

const file = await writeResults('tokenize', `npm run bench:tokenize${QUICK ? ' -- --quick' : ''}`, {
  backend: 'none (pure TypeScript, no TensorFlow.js)',
  runs: RUNS,
  trainRuns: TRAIN_RUNS,
  notes:
    'encodeIds per line = normalization + tokenization + offsets + vocabulary lookup; natural WordTokenizer = split only. ' +
    "'vs natural' = MB/s over natural's MB/s on the same corpus in the same run; '(cpu)' columns use process CPU time (shared machine).",
  encoding: rows,
  training,
  batches: batchRows,
});
console.log(`\nwrote ${file}`);
