/**
 * bench:long-docs — the default `seqlab train classifier` on long documents, against the
 * baseline a user would try first, through the CLI exactly as a user runs it:
 *
 *   seqlab train classifier --data train.csv --out DIR --seed S --json
 *   seqlab evaluate classifier --model DIR --data test.csv --baseline --baseline-data train.csv --json
 *
 * Data: Reuters-21578 newswire articles (ModApte, 1,554 train / 604 test, median 86 words, 10%
 * over 280), as shipped in Weka's examples (data/reuters, unmodified ARFF): is the article filed
 * under *grain* (7% of articles), under *corn* (3%)? Documents several times longer than the
 * default model's inputs on SST-2 or TREC, written by other people about other things, with rare
 * positives: the question is whether the defaults, not a tuned recipe, match TF-IDF logistic
 * regression (its L2 penalty chosen on 10% of the training file, then refitted on all of it).
 * Issue 15 asks for this on long reviews, which this machine has none of; these are long news.
 *
 *   npm run bench:long-docs -- [--seeds 1,2,3] [--tasks grain,corn]
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { arg, REPO_ROOT, dataPath, formatTable, median, writeResults } from './lib/report.js';

const SEEDS = arg('seeds', '1,2,3').split(',').map(Number);
const TASKS = arg('tasks', 'grain,corn').split(',');
const command = `npm run bench:long-docs -- --seeds ${SEEDS.join(',')} --tasks ${TASKS.join(',')}`;
console.log(`reproduce: ${command}`);

/** The rows of an ARFF file with one quoted string attribute and a 0/1 class. */
function readArff(text: string, file: string): Array<{ text: string; label: 0 | 1 }> {
  const at = text.search(/^@data\s*$/im);
  if (at < 0) throw new Error(`${file}: no @data section`);
  const rows: Array<{ text: string; label: 0 | 1 }> = [];
  let i = text.indexOf('\n', at) + 1;
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', "'": "'", '"': '"', '\\': '\\' };
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    if (text[i] !== "'") throw new Error(`${file}: row ${rows.length + 1} does not start with a quoted text (offset ${i})`);
    let body = '';
    for (i++; i < text.length && text[i] !== "'"; i++) {
      if (text[i] === '\\') {
        i++;
        body += escapes[text[i]!] ?? text[i]!;
      } else body += text[i]!;
    }
    const m = /^',([01])\s*(?:\n|$)/.exec(text.slice(i, i + 5));
    if (!m) throw new Error(`${file}: row ${rows.length + 1} has no ,0 or ,1 class after its text`);
    rows.push({ text: body, label: m[1] === '1' ? 1 : 0 });
    i += 3;
  }
  return rows;
}

const csvField = (s: string) => `"${s.replace(/\s+/g, ' ').trim().replace(/"/g, '""')}"`;

async function cli(args: string[]): Promise<{ json: Record<string, unknown>; seconds: number }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--conditions=@seqlab/source', '--import', 'tsx', 'apps/cli/src/main.ts', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  if (code !== 0) throw new Error(`seqlab ${args.join(' ')} exited ${code}:\n${err.slice(-2000)}`);
  return { json: JSON.parse(out) as Record<string, unknown>, seconds: (performance.now() - t0) / 1000 };
}

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-long-docs-'));
type Run = { task: string; seed: number; kind: string; accuracy: number; macroF1: number; baselineAccuracy: number; baselineMacroF1: number; trainSeconds: number; truncated: number };
const runs: Run[] = [];
const stats: Record<string, unknown> = {};
try {
  for (const task of TASKS) {
    const name = task[0]!.toUpperCase() + task.slice(1);
    const files: Record<string, string> = {};
    for (const split of ['train', 'test'] as const) {
      const source = dataPath('reuters', `Reuters${name}-${split}.arff`);
      const rows = readArff(await fs.readFile(source, 'utf8'), source);
      files[split] = path.join(tmp, `${task}-${split}.csv`);
      await fs.writeFile(files[split]!, ['text,label', ...rows.map((r) => `${csvField(r.text)},${r.label ? task : 'other'}`)].join('\n') + '\n');
      const words = rows.map((r) => r.text.split(/\s+/).filter(Boolean).length).sort((a, b) => a - b);
      stats[`${task}-${split}`] = { rows: rows.length, positives: rows.filter((r) => r.label).length, medianWords: words[words.length >> 1], p90Words: words[Math.floor(words.length * 0.9)] };
    }
    for (const seed of SEEDS) {
      const out = path.join(tmp, `${task}-model-${seed}`);
      const trained = await cli(['train', 'classifier', '--data', files.train!, '--out', out, '--seed', String(seed), '--json']);
      const evaluated = await cli(['evaluate', 'classifier', '--model', out, '--data', files.test!, '--baseline', '--baseline-data', files.train!, '--json']);
      const e = evaluated.json as { kind: string; accuracy: number; macro: { f1: number }; truncated: number; baseline: { accuracy: number; macroF1: number } };
      runs.push({ task, seed, kind: e.kind, accuracy: e.accuracy, macroF1: e.macro.f1, baselineAccuracy: e.baseline.accuracy, baselineMacroF1: e.baseline.macroF1, trainSeconds: Number(trained.seconds.toFixed(1)), truncated: e.truncated });
      console.log(`${task} seed ${seed}: ${e.kind} accuracy ${e.accuracy.toFixed(4)} macro F1 ${e.macro.f1.toFixed(4)} | TF-IDF LR ${e.baseline.accuracy.toFixed(4)} / ${e.baseline.macroF1.toFixed(4)} | train ${trained.seconds.toFixed(0)} s`);
      await fs.rm(out, { recursive: true, force: true });
    }
  }
} finally {
  await fs.rm(tmp, { recursive: true, force: true });
}

const summary = TASKS.map((task) => {
  const r = runs.filter((x) => x.task === task);
  return {
    task,
    runs: r.length,
    'default kinds': [...new Set(r.map((x) => x.kind))].join(', '),
    'accuracy (median)': Number(median(r.map((x) => x.accuracy)).toFixed(4)),
    'TF-IDF LR accuracy': Number(median(r.map((x) => x.baselineAccuracy)).toFixed(4)),
    'macro F1 (median)': Number(median(r.map((x) => x.macroF1)).toFixed(4)),
    'TF-IDF LR macro F1': Number(median(r.map((x) => x.baselineMacroF1)).toFixed(4)),
    'at least the baseline (accuracy, runs)': `${r.filter((x) => x.accuracy >= x.baselineAccuracy).length}/${r.length}`,
    'train s (median)': Number(median(r.map((x) => x.trainSeconds)).toFixed(0)),
  };
});
console.log(formatTable(summary));
const met = summary.every((s) => s['accuracy (median)'] >= s['TF-IDF LR accuracy']);
const file = await writeResults('long-docs', command, {
  backend: 'wasm (the CLI default when tfjs-node is absent)',
  data: { source: 'data/reuters (Reuters-21578 ModApte via Weka 3.6.14 examples)', ...stats },
  protocol: 'seqlab train classifier with its defaults (--model auto: tfidf-lr, fasttext and rnn fitted, the best on a 10% validation split kept), then seqlab evaluate classifier --baseline on the test file',
  summary,
  runs,
  goal: { note: 'issue 15: default train classifier settings within 30 minutes at least as accurate as TF-IDF logistic regression on the same data (asked for long reviews; measured on long news articles)', met },
});
console.log(`results: ${file}`);
