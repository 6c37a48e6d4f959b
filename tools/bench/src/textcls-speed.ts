/**
 * bench:textcls-speed — issue 25's figures: how fast and how lean `train('text-classification')`
 * with its defaults is on a corpus of people's-data size, and how fast the built CLI starts.
 *
 * A generated two-class corpus shaped like movie reviews (textcls-corpus.ts: median about 190
 * words, a long tail past 500, Zipfian vocabulary), `--docs` training documents and `--test-docs`
 * held-out ones, goes through:
 *
 * - `train()` per kind with every other option at its default: tfidf-lr alone and fasttext alone
 *   (median of `--runs`), the rnn for one epoch, and `model: 'auto'` (the default run);
 * - `evaluate()` of each saved model on the held-out documents (test accuracy) and of the auto
 *   model on the whole training file (texts/s and peak RSS of scoring a 25,000-document file);
 * - the built CLI (apps/cli/dist/main.js): `seqlab --version` (median of 5) and a one-text
 *   `classify` with the saved tfidf-lr model (median of `--runs`), each timed as a whole process;
 * - with `--scale10x yes` (default), the same auto training and evaluation on 10x the documents.
 *
 * Every stage runs in its own child process, so each peak RSS (`process.resourceUsage().maxRSS`,
 * read in the child at the end) is that stage's own; CPU seconds (user + system, all threads)
 * sit beside wall seconds, with the load averages before and after, because the machine is shared.
 *
 *   npm run bench:textcls-speed -- [--docs 25000] [--test-docs 5000] [--runs 3] [--scale10x yes|no]
 *                                  [--stages linear,rnn,auto,cli] [--seed 1] [--note TEXT]
 *
 * `--stages` reruns a subset and keeps the other figures of the committed results file (each
 * stage's own figures carry their date, commit and load); `--stages none` only records the file
 * again (headline and goals from its stages, with `--note`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { buildProject } from './lib/build.js';
import { createWriteStream, existsSync, promises as fs } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg, environment, formatTable, hasModel, median, readResultsRun, REPO_ROOT, writeResults } from './lib/report.js';
import { generateTextClassificationCorpus } from './textcls-corpus.js';

const SCRIPT = fileURLToPath(import.meta.url);
const CLI = path.join(REPO_ROOT, 'apps', 'cli', 'dist', 'main.js');

/** What a child process measured of one stage. */
interface StageFigures {
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  loadBefore: number[];
  loadAfter: number[];
  [field: string]: unknown;
}

const round = (x: number, digits = 3) => Number(x.toFixed(digits));
const loadavg = () => os.loadavg().map((x) => round(x, 2));

// ---------------------------------------------------------------- child side

/** Runs `fn` and returns its result with this process's wall and CPU seconds and peak RSS. */
async function measured(fn: () => Promise<Record<string, unknown>>): Promise<StageFigures> {
  const loadBefore = loadavg();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const extra = await fn();
  const wallSeconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { wallSeconds: round(wallSeconds), cpuSeconds: round((cpu.user + cpu.system) / 1e6), peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024), loadBefore, loadAfter: loadavg(), ...extra };
}

/** Plain progress lines on stderr (stage messages and epochs; batches and items are too many). */
function logEvent(e: { type: string; message?: string; epoch?: number; seconds?: number; candidate?: string }): void {
  if (e.type === 'stage') process.stderr.write(`  [${new Date().toISOString().slice(11, 19)}] ${e.message}\n`);
  else if (e.type === 'epoch') process.stderr.write(`  [${new Date().toISOString().slice(11, 19)}] ${e.candidate} epoch ${e.epoch} done in ${e.seconds?.toFixed(1)} s\n`);
}

/** `--child train`: one `train()` call with defaults but `--model` (and one epoch for the rnn alone). */
async function childTrain(): Promise<StageFigures> {
  const { train } = await import('@seqlab/tasks');
  const model = arg('model', 'auto') as 'auto' | 'tfidf-lr' | 'fasttext' | 'rnn';
  const out = arg('out', '');
  return measured(async () => {
    const { report } = await train('text-classification', arg('data', ''), { out, model, ...(model === 'rnn' ? { epochs: 1 } : {}), onProgress: logEvent });
    const candidates = report.candidates.map((c) => ({ kind: c.kind, seconds: round(c.seconds, 2), validationAccuracy: c.metrics.accuracy, settings: c.settings }));
    const d = report.details;
    const epochs = d.history.map((e) => ({ epoch: e.epoch, seconds: round(e.seconds, 2), valAccuracy: e.val_accuracy ?? null, ...(e.partial ? { partial: true } : {}) }));
    return { kind: report.kind, reason: report.reason, reportSeconds: round(report.seconds, 2), stages: report.stages, truncated: report.truncated, trainRows: d.trainRows, validationRows: d.validationRows, lengthStats: d.lengthStats, candidates, epochs, stopReason: d.stopReason };
  });
}

/** `--child evaluate`: `evaluate()` of a saved model on a file, streamed. */
async function childEvaluate(): Promise<StageFigures> {
  const { evaluate } = await import('@seqlab/tasks');
  return measured(async () => {
    const r = await evaluate('text-classification', arg('model', ''), arg('data', ''), {});
    return { kind: r.kind, texts: r.metrics.count, accuracy: r.metrics.accuracy, macroF1: r.metrics.macro.f1, evaluateSeconds: round(r.seconds, 2), textsPerS: round(r.metrics.count / r.seconds, 1) };
  });
}

// ---------------------------------------------------------------- parent side

/** Runs this script as `--child STAGE ...` and returns what the child measured. */
async function stage(name: string, args: string[]): Promise<StageFigures> {
  const result = path.join(os.tmpdir(), `textcls-speed-${process.pid}-${Date.now()}.json`);
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${name} ...`);
  const child = spawn(process.execPath, ['--conditions=@seqlab/source', '--import', 'tsx', SCRIPT, '--child', ...args, '--result', result], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`${name}: child exited ${code}`);
  const figures = JSON.parse(await fs.readFile(result, 'utf8')) as StageFigures;
  await fs.rm(result, { force: true });
  console.log(`  ${name}: ${figures.wallSeconds.toFixed(1)} s wall, ${figures.cpuSeconds.toFixed(1)} CPU s, peak RSS ${figures.peakRssMb} MB, load ${figures.loadBefore.join(' ')} -> ${figures.loadAfter.join(' ')}`);
  return figures;
}

/** Writes documents `from..to` of the seeded corpus as a `text\tlabel` TSV. */
async function writeCorpus(file: string, total: number, from: number, seed: number): Promise<void> {
  const stream = createWriteStream(file);
  stream.write('text\tlabel\n');
  let i = 0;
  for (const { text, label } of generateTextClassificationCorpus({ docs: total, seed })) {
    if (i++ < from) continue;
    if (!stream.write(`${text}\t${label}\n`)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}

/** Wall milliseconds of a whole CLI process, `runs` times (after one untimed warm-up run). */
function timeCli(args: string[], runs: number): number[] {
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`seqlab ${args.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(-1000)}`);
    if (i > 0) times.push(round(ms, 1));
  }
  return times;
}

/** The median run of a repeated stage (by wall seconds), with every run's wall and CPU seconds. */
function medianRun(runs: StageFigures[]): StageFigures & { runs: Array<{ wallSeconds: number; cpuSeconds: number }> } {
  const m = median(runs.map((r) => r.wallSeconds));
  const pick = runs.reduce((b, r) => (Math.abs(r.wallSeconds - m) < Math.abs(b.wallSeconds - m) ? r : b));
  return { ...pick, wallSeconds: round(m), runs: runs.map((r) => ({ wallSeconds: r.wallSeconds, cpuSeconds: r.cpuSeconds })) };
}

interface Setup {
  work: string;
  train: string;
  test: string;
  runs: number;
  docs: number;
}

/** tfidf-lr and fasttext alone, `runs` times each, then their saved models on the test file. */
async function linearStages(s: Setup): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const kind of ['tfidf-lr', 'fasttext']) {
    const runs: StageFigures[] = [];
    for (let i = 0; i < s.runs; i++) runs.push(await stage(`train ${kind} (${i + 1}/${s.runs})`, ['train', '--model', kind, '--data', s.train, '--out', path.join(s.work, kind)]));
    const test = await stage(`evaluate ${kind} on the test file`, ['evaluate', '--model', path.join(s.work, kind), '--data', s.test]);
    out[kind] = { train: medianRun(runs), test, environment: environment() };
  }
  return out;
}

async function rnnStage(s: Setup): Promise<Record<string, unknown>> {
  const trained = await stage('train rnn (1 epoch)', ['train', '--model', 'rnn', '--data', s.train, '--out', path.join(s.work, 'rnn')]);
  const test = await stage('evaluate rnn on the test file', ['evaluate', '--model', path.join(s.work, 'rnn'), '--data', s.test]);
  return { rnn: { train: trained, test, environment: environment() } };
}

async function autoStage(s: Setup, key = 'auto'): Promise<Record<string, unknown>> {
  const dir = path.join(s.work, key);
  const trained = await stage(`train auto (${s.docs} docs)`, ['train', '--model', 'auto', '--data', s.train, '--out', dir]);
  const test = await stage('evaluate auto on the test file', ['evaluate', '--model', dir, '--data', s.test]);
  const whole = await stage(`evaluate auto on the ${s.docs}-document training file (throughput, memory)`, ['evaluate', '--model', dir, '--data', s.train]);
  return { [key]: { train: trained, test, evalWhole: whole, environment: environment() } };
}

async function cliStage(s: Setup): Promise<Record<string, unknown>> {
  // Always: a dist/ left from older sources would time older code (Nx skips what is current).
  console.log('building the CLI and the packages it uses ...');
  buildProject('@seqlab/cli');
  const model = path.join(s.work, 'tfidf-lr');
  if (!(await hasModel(model, 'text-classification'))) await stage('train tfidf-lr (for classify)', ['train', '--model', 'tfidf-lr', '--data', s.train, '--out', model]);
  const loadBefore = loadavg();
  const version = timeCli(['--version'], 5);
  const classify = timeCli(['classify', '--model', model, 'an utterly mivertensto film, kazaquipra and sachiardi from start to end'], s.runs);
  return { cli: { versionMs: version, classifyOneMs: classify, classifyModel: 'tfidf-lr', loadBefore, loadAfter: loadavg(), environment: environment() } };
}

/** 10x the documents through `train()` with defaults, then the auto model scored on that file. */
async function scaleStage(s: Setup, seed: number): Promise<Record<string, unknown>> {
  const docs = 10 * s.docs;
  const big: Setup = { ...s, docs, train: path.join(s.work, `train-${docs}.tsv`), test: path.join(s.work, `test-${docs}.tsv`) };
  // The same seeded stream as the small corpus, ten times as long; its test rows come after them.
  if (!existsSync(big.train)) await writeCorpus(big.train, docs, 0, seed);
  if (!existsSync(big.test)) await writeCorpus(big.test, docs + testDocs, docs, seed);
  const r = await autoStage(big, 'auto10x');
  return r;
}

type Stages = Record<string, Record<string, StageFigures | unknown>>;

const GOALS: Array<[field: string, op: '<=' | '>=', goal: number]> = [
  ['tfidfLrSeconds', '<=', 60],
  ['fasttextSeconds', '<=', 30],
  ['rnnEpochSeconds', '<=', 150],
  ['autoSeconds', '<=', 720],
  ['trainPeakRssMb', '<=', 1024],
  ['evalTextsPerS', '>=', 1000],
  ['evalPeakRssMb', '<=', 600],
  ['cliStartMs', '<=', 300],
  ['classifyOneMs', '<=', 800],
  ['scale10x.seconds', '<=', 3600],
  ['scale10x.peakRssMb', '<=', 2048],
];

const fig = (st: Stages, key: string, part: string): StageFigures | undefined => st[key]?.[part] as StageFigures | undefined;

/** The issue's headline fields from the stages' figures (absent stages give null). */
function headline(st: Stages, docs: number): Record<string, unknown> {
  const kind = (k: string) => {
    const t = fig(st, k, 'train');
    const candidates = t?.candidates as Array<{ seconds: number }> | undefined;
    return { seconds: t?.wallSeconds ?? null, cpu: t?.cpuSeconds ?? null, fit: candidates?.[0]?.seconds ?? null, rss: t?.peakRssMb ?? null };
  };
  const [tf, ft] = [kind('tfidf-lr'), kind('fasttext')];
  const rnnEpochs = fig(st, 'rnn', 'train')?.epochs as Array<{ seconds: number }> | undefined;
  const auto = fig(st, 'auto', 'train');
  const whole = fig(st, 'auto', 'evalWhole');
  const trains = ['tfidf-lr', 'fasttext', 'rnn', 'auto'].map((k) => fig(st, k, 'train')?.peakRssMb).filter((x): x is number => x !== undefined);
  const cli = st.cli as { versionMs?: number[]; classifyOneMs?: number[] } | undefined;
  const test = Object.fromEntries(['tfidf-lr', 'fasttext', 'rnn', 'auto'].map((k) => [k, fig(st, k, 'test')?.accuracy ?? null]));
  return {
    docs,
    tfidfLrSeconds: tf.seconds,
    tfidfLrCpuSeconds: tf.cpu,
    tfidfLrFitSeconds: tf.fit,
    fasttextSeconds: ft.seconds,
    fasttextCpuSeconds: ft.cpu,
    fasttextFitSeconds: ft.fit,
    rnnEpochSeconds: rnnEpochs?.[0]?.seconds ?? null,
    rnnCpuSeconds: fig(st, 'rnn', 'train')?.cpuSeconds ?? null,
    autoSeconds: auto?.wallSeconds ?? null,
    autoCpuSeconds: auto?.cpuSeconds ?? null,
    autoKind: auto?.kind ?? null,
    trainPeakRssMb: trains.length ? Math.max(...trains) : null,
    evalTextsPerS: whole?.textsPerS ?? null,
    evalPeakRssMb: whole?.peakRssMb ?? null,
    cliStartMs: cli?.versionMs ? median(cli.versionMs) : null,
    classifyOneMs: cli?.classifyOneMs ? median(cli.classifyOneMs) : null,
    testAccuracy: test,
    scale10x: scale10xSummary(st),
  };
}

function scale10xSummary(st: Stages): Record<string, unknown> | null {
  const t = fig(st, 'auto10x', 'train');
  if (!t) return null;
  const rnn = (t.candidates as Array<{ kind: string; settings?: Record<string, unknown> }>).find((c) => c.kind === 'rnn');
  const whole = fig(st, 'auto10x', 'evalWhole');
  return {
    docs: t.trainRows !== undefined ? Math.round((t.trainRows as number) + (t.validationRows as number)) : null,
    seconds: t.wallSeconds,
    cpuSeconds: t.cpuSeconds,
    peakRssMb: t.peakRssMb,
    kind: t.kind,
    testAccuracy: fig(st, 'auto10x', 'test')?.accuracy ?? null,
    rnnRowsSeen: rnn?.settings?.rowsSeen ?? null,
    rnnTrainRows: rnn?.settings?.trainRows ?? null,
    rnnStopReason: rnn?.settings?.stopReason ?? null,
    reportTruncated: t.truncated,
    evalTextsPerS: whole?.textsPerS ?? null,
    evalPeakRssMb: whole?.peakRssMb ?? null,
  };
}

function goalRows(h: Record<string, unknown>): Array<Record<string, unknown>> {
  return GOALS.map(([field, op, goal]) => {
    const [a, b] = field.split('.');
    const v = (b ? (h[a!] as Record<string, unknown> | null)?.[b] : h[a!]) as number | null | undefined;
    const met = v === null || v === undefined ? 'not run' : (op === '<=' ? v <= goal : v >= goal) ? 'met' : 'not met';
    return { figure: field, value: v ?? '', goal: `${op} ${goal}`, met };
  });
}

// ---------------------------------------------------------------- main

const docs = Number(arg('docs', '25000'));
const testDocs = Number(arg('test-docs', '5000'));
const seed = Number(arg('seed', '1'));

async function main(): Promise<void> {
  const runs = Number(arg('runs', '3'));
  const scale10x = arg('scale10x', 'yes') !== 'no';
  const all = ['linear', 'rnn', 'auto', 'cli', ...(scale10x ? ['scale10x'] : [])];
  // `--stages none` runs nothing: it records the file's stages again (headline, goals, `--note`).
  const wanted = arg('stages', all.join(',')).split(',').filter((w) => w !== 'none');
  const unknown = wanted.filter((w) => ![...all, 'scale10x'].includes(w));
  if (unknown.length) throw new Error(`--stages: unknown ${unknown.join(', ')}; stages are ${[...all, 'scale10x'].join(', ')}`);
  const command = `npm run bench:textcls-speed -- --docs ${docs} --test-docs ${testDocs} --runs ${runs} --scale10x ${scale10x ? 'yes' : 'no'} --seed ${seed}`;
  console.log(`reproduce: ${command}`);
  const work = path.join(os.tmpdir(), `seqlab-textcls-speed-${docs}-${seed}`);
  await fs.mkdir(work, { recursive: true });
  const s: Setup = { work, train: path.join(work, 'train.tsv'), test: path.join(work, 'test.tsv'), runs, docs };
  if (!existsSync(s.train)) await writeCorpus(s.train, docs, 0, seed);
  if (!existsSync(s.test)) await writeCorpus(s.test, docs + testDocs, docs, seed);
  console.log(`corpus: ${s.train} (${docs} documents), ${s.test} (${testDocs} held out); models under ${work}`);
  // A subset of stages keeps the other stages' figures of the committed run on the same corpus.
  const previous = readResultsRun('textcls-speed');
  const st: Stages = previous && previous.docs === docs && wanted.length < all.length ? { ...(previous.stages as Stages) } : {};
  const steps: Record<string, () => Promise<Record<string, unknown>>> = { linear: () => linearStages(s), rnn: () => rnnStage(s), auto: () => autoStage(s), cli: () => cliStage(s), scale10x: () => scaleStage(s, seed) };
  for (const w of wanted) {
    Object.assign(st, await steps[w]!());
    await record(st, command, wanted.length < all.length);
  }
  if (wanted.length === 0) await record(st, command, true);
}

/**
 * Writes the results; a run of a subset of stages merges its stages into the file as it is now
 * (another subset may have been recorded meanwhile), over the same corpus only.
 */
async function record(mine: Stages, command: string, subset: boolean): Promise<void> {
  const latest = subset ? readResultsRun('textcls-speed') : undefined;
  const st: Stages = latest && latest.docs === docs ? { ...(latest.stages as Stages), ...mine } : mine;
  const h = headline(st, docs);
  const goals = goalRows(h);
  console.log(`\n${formatTable(goals)}\n`);
  const note = h.scale10x ? {} : { scale10xNote: 'not measured in this run (--scale10x no, or its stage has not finished yet)' };
  const said = arg('note', '') || (latest?.note as string | undefined);
  const file = await writeResults('textcls-speed', command, {
    backend: 'wasm',
    ...h,
    ...note,
    ...(said ? { note: said } : {}),
    goals: Object.fromEntries(goals.map((g) => [g.figure, { goal: g.goal, met: g.met }])),
    corpus: { generator: 'tools/bench/src/textcls-corpus.ts', docs, testDocs, seed, shape: 'lognormal lengths (median ~190 words, p90 ~500), Zipfian vocabulary of 50,000 made-up words' },
    measurement: 'each stage in its own child process: wall and CPU seconds (user + system, all threads) of the train()/evaluate() call, peak RSS = process.resourceUsage().maxRSS of that child; CLI figures are whole processes (node apps/cli/dist/main.js), medians; loadBefore/loadAfter are 1/5/15-minute load averages of this shared 2-core machine',
    stages: st,
  });
  console.log(`wrote ${file}`);
}

const child = arg('child', '');
if (child) {
  const figures = child === 'train' ? await childTrain() : child === 'evaluate' ? await childEvaluate() : undefined;
  if (!figures) throw new Error(`--child ${child}: unknown stage`);
  await fs.writeFile(arg('result', ''), JSON.stringify(figures));
  process.exit(0);
} else {
  await main();
}
