import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors } from '@seqlab/core/testing';
import { evaluateLmCommand } from '../src/commands/evaluate-lm.js';
import { generateCommand } from '../src/commands/generate.js';
import { trainLmCommand } from '../src/commands/train-lm.js';
import { dataFile, run } from './helpers.js';

const SHAKESPEARE = dataFile('tiny_shakespeare', 'input.txt');
// GRU: building an LSTM with unitForgetBias leaks tfjs-layers' bias-initializer temporaries
// (4 tensors per model, outside the CLI's control), which would hide leaks of our own.
const TINY = ['--cell', 'gru', '--max-chars', '4000', '--units', '16', '--embedding-dim', '8', '--seq-len', '16', '--windows-per-epoch', '32', '--batch-size', '16'];

describe('seqlab train lm + generate', () => {
  const root = mkdtempSync(join(tmpdir(), 'seqlab-lm-'));
  const model = join(root, 'tiny-lm');
  let summary: Record<string, unknown>;

  beforeAll(async () => {
    const r = await run(trainLmCommand(), ['--data', SHAKESPEARE, '--out', model, '--epochs', '2', ...TINY, '--keep-checkpoints', '--json']);
    expect(r.stderr).not.toMatch(/seqlab:/);
    expect(r.exitCode).toBe(0);
    summary = JSON.parse(r.stdout);
  });

  it('saves a loadable model directory with a training curve, its checkpoints in the run folder beside it', () => {
    expect(summary).toMatchObject({ task: 'lm', epochsCompleted: 2, stopReason: 'epochs', resumedFromEpoch: null, checkpoints: `${model}.run` });
    for (const f of ['model.json', 'config.json', 'vocabulary.json', 'training.json', 'training-curve.png']) expect(existsSync(join(model, f)), f).toBe(true);
    for (const f of ['run.json', 'state.json', 'last/model.json', 'best/model.json']) expect(existsSync(join(`${model}.run`, f)), f).toBe(true);
    for (const f of ['run.json', 'state.json', 'last', 'checkpoints']) expect(existsSync(join(model, f)), f).toBe(false);
    const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ task: 'text-generation', tokenizer: 'char', architecture: { cell: 'gru', units: 16, embeddingDim: 8 } });
    // A 2-epoch model is bad but must beat uniform guessing over its vocabulary.
    const metrics = summary.metrics as { validationLoss: number };
    expect(metrics.validationLoss).toBeLessThan(Math.log(config.architecture.vocabSize));
  });

  it('a time budget that stops mid-epoch is reported as a partial epoch in the console, the JSON and the plot', async () => {
    const out = join(root, 'budget');
    const svg = join(root, 'budget.svg');
    // 3 epochs of 20,000 windows take far longer than the 1 s budget, so an epoch is cut short
    // (which one depends on the machine's speed).
    const args = ['--data', SHAKESPEARE, '--epochs', '3', ...TINY, '--max-chars', '400000', '--windows-per-epoch', '20000', '--time-budget', '1'];
    const json = await run(trainLmCommand(), [...args, '--out', out, '--plot', svg, '--json']);
    expect(json.exitCode).toBe(0);
    const summary = JSON.parse(json.stdout);
    expect(summary).toMatchObject({ stopReason: 'time-budget', lastEpochPartial: true });
    expect(summary.epochsCompleted).toBeLessThan(3);
    expect(readFileSync(svg, 'utf8')).toContain('partial epoch (time budget)');
    const text = await run(trainLmCommand(), [...args, '--out', join(root, 'budget-text')]);
    expect(text.stdout).toMatch(/epoch \d was cut short by the time budget: partial/);
  });

  it('generates the same text for the same seed and different text for another', async () => {
    const args = ['--model', model, '--prompt', 'ROMEO:', '--max-tokens', '60', '--temperature', '1'];
    const a = await run(generateCommand(), [...args, '--seed', '7']);
    const b = await run(generateCommand(), [...args, '--seed', '7']);
    const c = await run(generateCommand(), [...args, '--seed', '8']);
    expect(a.exitCode).toBe(0);
    expect(a.stdout.length).toBeGreaterThan(20);
    expect(a.stdout).toBe(b.stdout);
    expect(c.stdout).not.toBe(a.stdout);
    const json = await run(generateCommand(), [...args, '--seed', '7', '--json']);
    const out = JSON.parse(json.stdout);
    // Streaming and one-shot generation give the same text.
    expect(`${out.text}\n`).toBe(a.stdout);
    expect(out.tokens).toBe(60);
    expect(out.options.seed).toBe(7);
  });

  it('train lm (with checkpoints and resume), generate and evaluate lm leave no tensors behind', async () => {
    await expectNoLeakedTensors(async () => {
      const other = join(root, 'leak-check');
      expect((await run(trainLmCommand(), ['--data', SHAKESPEARE, '--out', other, '--epochs', '1', ...TINY, '--keep-checkpoints'])).exitCode).toBe(0);
      expect((await run(trainLmCommand(), ['--resume', other, '--epochs', '2', '--no-keep-checkpoints'])).exitCode).toBe(0);
      // A successful run without --keep-checkpoints leaves no run folder.
      expect(existsSync(`${other}.run`)).toBe(false);
      expect((await run(generateCommand(), ['--model', model, '--prompt', 'a', '--max-tokens', '30', '--seed', '1'])).exitCode).toBe(0);
      expect((await run(generateCommand(), ['--model', model, '--prompt', 'a', '--max-tokens', '5', '--beam', '2'])).exitCode).toBe(0);
      expect((await run(evaluateLmCommand(), ['--model', model, '--data', SHAKESPEARE, '--max-chars', '500', '--seq-len', '16'])).exitCode).toBe(0);
    });
  });

  it('greedy decoding and beam search are deterministic without a seed', async () => {
    const greedy = ['--model', model, '--prompt', 'the ', '--max-tokens', '20', '--temperature', '0'];
    expect((await run(generateCommand(), greedy)).stdout).toBe((await run(generateCommand(), greedy)).stdout);
    const beam = ['--model', model, '--prompt', 'the ', '--max-tokens', '10', '--beam', '3'];
    const r = await run(generateCommand(), beam);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe((await run(generateCommand(), beam)).stdout);
  });

  it('refuses to overwrite a run without --force and resumes with --resume', async () => {
    const again = await run(trainLmCommand(), ['--data', SHAKESPEARE, '--out', model, ...TINY]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/already holds a training run; continue it with --resume/);
    const resumed = await run(trainLmCommand(), ['--resume', model, '--epochs', '3']);
    expect(resumed.exitCode).toBe(0);
    expect(resumed.stdout).toMatch(/^resumed from epoch 2\ntrained 3 epochs \(epochs\)/);
    expect(resumed.stderr).toContain('resuming from epoch 2 (2 of 3 epochs done)');
    const json = await run(trainLmCommand(), ['--resume', model, '--epochs', '4', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ resumedFromEpoch: 3, epochsCompleted: 4 });
  });

  it.each([
    [['--prompt', 'x', '--model', join(root, 'missing')], 3, /model directory not found|unknown model/],
    [['--prompt', 'x', '--model', root], 3, /config\.json: file not found \(not a seqlab model directory\)/],
    [['--prompt', 'x', '--top-p', '2'], 2, /--top-p: expected a number in \(0, 1\], got "2"/],
    [['--prompt', 'x', '--max-tokens', '0'], 2, /--max-tokens: expected an integer between 1 and 100000, got "0"/],
    [['--prompt', ''], 2, /--prompt: the prompt must not be empty/],
  ])('generate %j -> exit %i', async (argv, code, message) => {
    const r = await run(generateCommand(), argv);
    expect(r.exitCode).toBe(code);
    expect(r.stderr).toMatch(message);
  });

  it('evaluate lm reports bits per character and perplexity consistent with each other', async () => {
    const r = await run(evaluateLmCommand(), ['--model', model, '--data', SHAKESPEARE, '--max-chars', '3000', '--seq-len', '32', '--json']);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.characters).toBeGreaterThan(2500);
    expect(out.bitsPerChar).toBeCloseTo(out.lossNats / Math.LN2, 6);
    expect(out.perplexity).toBeCloseTo(Math.exp(out.lossNats), 4);
    expect(out.accuracy).toBeGreaterThan(0);
  });

  it('train lm reports a bad resume directory', async () => {
    const r = await run(trainLmCommand(), ['--resume', join(root, 'nothing-here')]);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/--resume: run directory not found: .*nothing-here\.run/);
  });

  it('train lm takes a budget in steps', async () => {
    const r = await run(trainLmCommand(), ['--data', SHAKESPEARE, '--out', join(root, 'steps'), ...TINY, '--steps', '5', '--json']);
    expect(r.exitCode).toBe(0);
    const out = JSON.parse(r.stdout);
    // 32 windows of 16 make 2 batches an epoch: 5 steps are 3 epochs of 2 steps (rounded up to equal epochs).
    expect(out.epochsCompleted).toBe(3);
    expect(out.history.length).toBe(3);
  });
});
