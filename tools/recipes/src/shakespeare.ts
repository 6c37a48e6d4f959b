/**
 * Character-level language model on tiny-shakespeare (first 90% train, last 10% validation).
 * Goal: validation loss <= 1.45 nats per character within 60 minutes of training (issue #12; the
 * first goal was 1.70).
 *
 *   npm run recipe:shakespeare -- --seed 1 [--epochs 40 | --steps N] [--minutes M] [--resume] [--results-name NAME --out DIR]
 *
 * Defaults are those of the committed model (2-layer GRU-256 with the fused layers, dropout 0.2,
 * batch 64, Adam 3e-3 halved on plateaus, at most 40 epochs of 6,400 windows: the committed run
 * early-stopped after 34, 3,400 steps, in 35 minutes). The budget is in epochs or steps, so the
 * figure reproduces on any machine, only slower or faster; `--minutes` is an optional wall-clock
 * cap, off by default. The recipe is a list of settings handed
 * to `train('text-generation')`, the same trainer as `seqlab train lm`; the checkpoints are kept
 * (in --checkpoints) so `--resume` can continue a run.
 */
import { readdirSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '@seqlab/core';
import { pipeline, train, type TrainEvent } from '@seqlab/tasks';
import { REPO_ROOT, dataPath, writeResults } from '@seqlab/tools';

const DEFAULT_OUT = path.join(REPO_ROOT, 'models', 'shakespeare-char');
const DEFAULT_CHECKPOINTS = path.join(REPO_ROOT, 'checkpoints', 'shakespeare');
const { values: args } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    cell: { type: 'string', default: 'gru' },
    layers: { type: 'string', default: '2' },
    units: { type: 'string', default: '256' },
    embedding: { type: 'string', default: '64' },
    dropout: { type: 'string', default: '0.2' },
    ema: { type: 'string', default: '0.995' },
    seq: { type: 'string', default: '100' },
    batch: { type: 'string', default: '64' },
    lr: { type: 'string', default: '0.003' },
    clip: { type: 'string', default: '5' },
    // A budget in epochs (default 40) or, with --steps, in optimizer steps.
    epochs: { type: 'string' },
    steps: { type: 'string' },
    'windows-per-epoch': { type: 'string', default: '6400' },
    'val-context': { type: 'string', default: '50' },
    // An optional wall-clock cap (off by default): a cut run's figure depends on the machine.
    minutes: { type: 'string' },
    resume: { type: 'boolean', default: false },
    checkpoints: { type: 'string', default: DEFAULT_CHECKPOINTS },
    out: { type: 'string', default: DEFAULT_OUT },
    'results-name': { type: 'string', default: 'shakespeare' },
  },
});

const num = (k: keyof typeof args): number => {
  const v = Number(args[k]);
  if (!Number.isFinite(v)) throw new Error(`--${String(k)} must be a number, got ${String(args[k])}`);
  return v;
};

const seed = num('seed');
const T = num('seq');
const budget = args.steps !== undefined ? `--steps ${num('steps')}` : `--epochs ${args.epochs ?? 40}`;
const where = [
  args.out !== DEFAULT_OUT ? ` --out ${args.out}` : '',
  args.checkpoints !== DEFAULT_CHECKPOINTS ? ` --checkpoints ${args.checkpoints}` : '',
  args['results-name'] !== 'shakespeare' ? ` --results-name ${args['results-name']}` : '',
].join('');
const command = `npm run recipe:shakespeare -- --seed ${seed} --cell ${args.cell} --layers ${args.layers} --units ${args.units} --embedding ${args.embedding} --dropout ${args.dropout} --seq ${T} --batch ${args.batch} --lr ${args.lr} --clip ${args.clip} --ema ${args.ema} ${budget} --windows-per-epoch ${args['windows-per-epoch']}${args.minutes !== undefined ? ` --minutes ${args.minutes}` : ''}${where}`;

const backend = await initBackend();
console.log(`backend: ${backend.name} (${backend.reason})`);
console.log(`reproduce: ${command}`);

const out = args.out!;
const { report } = await train('text-generation', dataPath('tiny_shakespeare', 'input.txt'), {
  out,
  seed,
  cell: args.cell as 'gru' | 'lstm' | 'simple',
  layers: num('layers'),
  units: num('units'),
  embeddingDim: num('embedding'),
  dropout: num('dropout'),
  seqLength: T,
  batchSize: num('batch'),
  learningRate: num('lr'),
  clipNorm: num('clip'),
  ...(args.steps !== undefined ? { steps: num('steps') } : { epochs: Number(args.epochs ?? 40) }),
  windowsPerEpoch: num('windows-per-epoch'),
  valSplit: 0.1,
  // Every validation character is scored once, each with at least this much history.
  validationContext: num('val-context'),
  patience: 3,
  reduceLrOnPlateau: { factor: 0.5, patience: 1, minLearningRate: 1e-4 },
  // Validation, best/ and the exported model use a moving average of the weights (0 = off).
  ema: num('ema'),
  ...(args.minutes !== undefined ? { timeBudgetSeconds: num('minutes') * 60 } : {}),
  checkpointDir: args.checkpoints!,
  resume: args.resume,
  overwrite: !args.resume,
  keepCheckpoints: true,
  provenance: { data: 'data/tiny_shakespeare/input.txt', command },
  onProgress: progressLogger(),
});
const d = report.details;
const v = d.validation;
console.log(`training stopped: ${d.stopReason}; best epoch ${d.bestEpoch} val loss ${d.history[d.bestEpoch - 1]?.val_loss?.toFixed(4)}`);
console.log(`validation: loss ${v.lossNats.toFixed(4)} nats/char, ${v.bitsPerChar.toFixed(4)} bits/char, perplexity ${v.perplexity.toFixed(3)}, accuracy ${v.accuracy.toFixed(4)} over ${v.characters} chars`);

const samples: { prompt: string; options: Record<string, unknown>; text: string }[] = [];
const generator = await pipeline('text-generation', out);
try {
  for (const [prompt, options] of [
    ['ROMEO:\n', { maxTokens: 300, temperature: 0.8, seed }],
    ['First Citizen:\n', { maxTokens: 300, topP: 0.9, temperature: 1.0, seed }],
    ['KING HENRY:\n', { maxTokens: 200, beam: 4 }],
  ] as const) {
    const r = await generator.generate(prompt, options);
    samples.push({ prompt, options, text: r.text });
    console.log(`--- sample (${JSON.stringify(options)}) ---\n${prompt}${r.text}\n`);
  }
} finally {
  generator.dispose();
}

const sizeBytes = readdirSync(out).reduce((s, f) => s + statSync(path.join(out, f)).size, 0);
const payload = {
  backend: { name: backend.name, simd: backend.simd },
  data: {
    file: 'data/tiny_shakespeare/input.txt',
    chars: d.characters.train + d.characters.validation,
    vocabulary: d.vocabularySize,
    trainChars: d.characters.train,
    validationChars: d.characters.validation,
    split: 'first 90% train, last 10% validation',
  },
  architecture: d.architecture,
  goal: { validationLossNatsPerChar: 1.45, minutes: 60 },
  metrics: {
    validationLoss: v.lossNats,
    bitsPerChar: v.bitsPerChar,
    perplexity: v.perplexity,
    validationAccuracy: v.accuracy,
    evaluation: `stateless windows of ${T} chars, each scored with ${num('val-context')} chars of preceding context`,
  },
  // The goal's 60 minutes are of training on this machine (the final validation pass comes after).
  reachedGoal: v.lossNats <= 1.45 && d.history.reduce((t, h) => t + h.seconds, 0) <= 3600,
  training: {
    stopReason: d.stopReason,
    epochs: d.epochsCompleted,
    // A step budget is spread over equal epochs (see train('text-generation')'s `steps`).
    charsPerEpoch: (args.steps !== undefined ? Math.ceil(num('steps') / d.epochsPlanned) * num('batch') : num('windows-per-epoch')) * T,
    steps: d.steps,
    bestEpoch: d.bestEpoch,
    // Across resumes: each epoch's own time, as the checkpoints recorded it.
    wallTimeSeconds: d.history.reduce((s, h) => s + h.seconds, 0),
    history: d.history,
  },
  modelSizeBytes: sizeBytes,
  samples,
};
const file = await writeResults(args['results-name']!, command, payload);
console.log(`results: ${file}; model: ${out} (${(sizeBytes / 1e6).toFixed(2)} MB)`);
await writeFile(path.join(out, 'README.md'), modelCard(payload, command));

/** Progress lines: running figures at most every 30 s, and one line per epoch. */
function progressLogger(): (e: TrainEvent) => void {
  const started = performance.now();
  let lastLog = 0;
  let batchesRun = 0;
  return (e) => {
    const now = performance.now();
    if (e.type === 'stage') console.log(`[${e.stage}] ${e.message}`);
    if (e.type === 'batch') batchesRun++;
    if (e.type === 'batch' && now - lastLog > 30_000) {
      lastLog = now;
      const minutes = (now - started) / 60_000;
      const cps = (batchesRun * num('batch') * T) / ((now - started) / 1000);
      console.log(
        `epoch ${e.epoch} batch ${e.batch}/${e.batches} loss ${e.metrics.loss?.toFixed(4)} ${cps.toFixed(0)} chars/s (this call) elapsed ${minutes.toFixed(1)} min eta ${((e.etaSeconds ?? NaN) / 60).toFixed(1)} min`,
      );
    } else if (e.type === 'epoch') {
      console.log(`== epoch ${e.epoch}: train loss ${e.metrics.loss?.toFixed(4)} val loss ${e.metrics.val_loss?.toFixed(4)} val acc ${e.metrics.val_accuracy?.toFixed(4)} ${e.seconds.toFixed(1)} s${e.partial ? ' (partial: time budget)' : ''}`);
    }
  };
}

function modelCard(p: typeof payload, cmd: string): string {
  const a = p.architecture;
  const lines = [
    '# shakespeare-char: character-level language model',
    '',
    `A ${a.layers}-layer ${a.cell.toUpperCase()} (${a.units} units, ${a.embeddingDim}-d character embeddings, vocabulary ${a.vocabSize}) trained from scratch on tiny-shakespeare with \`train('text-generation')\` from \`@seqlab/tasks\`. It is the default text generator of the seqlab CLI and API.`,
    '',
    '## Data',
    `\`data/tiny_shakespeare/input.txt\` (${p.data.chars} characters). First 90% (${p.data.trainChars} chars) for training, last 10% (${p.data.validationChars} chars) for validation.`,
    '',
    '## Command',
    '```sh',
    cmd,
    '```',
    `Seed ${seed}; backend ${p.backend.name}${p.backend.simd ? ' (SIMD)' : ''}, 2 shared CPU cores.`,
    '',
    '## Metrics (validation)',
    `| metric | value |`,
    `| --- | --- |`,
    `| loss (nats/char) | ${p.metrics.validationLoss.toFixed(4)} |`,
    `| bits per char | ${p.metrics.bitsPerChar.toFixed(4)} |`,
    `| perplexity | ${p.metrics.perplexity.toFixed(3)} |`,
    `| next-char accuracy | ${p.metrics.validationAccuracy.toFixed(4)} |`,
    '',
    `Goal: <= 1.45 nats/char in 60 minutes (${p.reachedGoal ? 'reached' : 'NOT reached'}). Evaluation: ${p.metrics.evaluation}.`,
    '',
    `Training: ${p.training.epochs} epochs of ${p.training.charsPerEpoch} characters (random windows), ${p.training.steps} Adam steps, stopped by ${p.training.stopReason}; best epoch ${p.training.bestEpoch}. Wall time ${(p.training.wallTimeSeconds / 60).toFixed(1)} min on this machine.`,
    '',
    `Size: ${(p.modelSizeBytes / 1e6).toFixed(2)} MB.`,
    '',
    '## Files',
    '- `model.json`, `weights.bin`: TensorFlow.js LayersModel (logits over the vocabulary).',
    '- `vocabulary.json`: the character vocabulary (id order).',
    '- `config.json`: architecture and training settings.',
    '',
    '## Use',
    '```ts',
    "import { pipeline } from '@seqlab/tasks';",
    "const gen = await pipeline('text-generation', 'shakespeare-char');",
    "const { text } = await gen.generate('ROMEO:\\n', { maxTokens: 200, temperature: 0.8, seed: 1 });",
    '```',
    '',
  ];
  if (p.samples.length) {
    lines.push('## Samples', '');
    for (const s of p.samples) lines.push(`Options ${JSON.stringify(s.options)}:`, '', '```', s.prompt + s.text, '```', '');
  }
  lines.push('## Limitations', 'Trained on one small corpus of Early Modern English plays; it imitates their surface form and knows nothing else. Not for any use beyond demos and tests.', '');
  return lines.join('\n');
}
