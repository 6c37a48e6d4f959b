import { cpSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODELS, defaultRecipe } from '@seqlab/tasks';
import { KNOWN, TINY_CLASSIFIER, sst2Slices } from '../test/fixtures.js';
import { REPO_ROOT, seqlab } from './cli.js';

describe('train classifier -> sentiment on known sentences (built binary)', () => {
  const root = mkdtempSync(join(tmpdir(), 'seqlab-e2e-clf-'));
  const model = join(root, 'clf');

  beforeAll(async () => {
    const { train, dev } = sst2Slices();
    // The recurrent kind: the sentiment command's explanations need its attention weights. Head
    // truncation as in the unit tests' known-sentence model (a model this small is sensitive to
    // how its few long training phrases are cut).
    const r = await seqlab(['train', 'classifier', '--data', train, '--validation', dev, '--out', model, '--model', 'rnn', '--epochs', '3', ...TINY_CLASSIFIER, '--truncation', 'head']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/rnn: epoch 1\/3 \| loss [\d.]+ \| accuracy [\d.]+ \| val_loss [\d.]+ \| val_accuracy [\d.]+/);
    expect(r.stdout).toMatch(/validation \(200 texts\): accuracy 0\.\d+/);
  });

  it('labels known sentences given as arguments', async () => {
    const r = await seqlab(['sentiment', '--model', model, ...KNOWN.map(([t]) => t)]);
    expect(r.code, r.stderr).toBe(0);
    const labels = r.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0]);
    expect(labels).toEqual(KNOWN.map(([, label]) => label));
  });

  it('reads stdin one text per line and explains with --explain', async () => {
    const r = await seqlab(['sentiment', '--model', model, '--explain', '--json'], { input: `${KNOWN.map(([t]) => t).join('\n')}\n` });
    expect(r.code, r.stderr).toBe(0);
    const { results } = JSON.parse(r.stdout);
    expect(results.map((x: { text: string }) => x.text)).toEqual(KNOWN.map(([t]) => t));
    expect(results.map((x: { label: string }) => x.label)).toEqual(KNOWN.map(([, label]) => label));
    for (const x of results) {
      const words = x.explanation.map((w: { word: string }) => w.word);
      expect(words.length).toBeGreaterThan(0);
      for (const w of words) expect(x.text).toContain(w);
    }
  });

  it('the default sentiment model (committed, or a tiny stand-in under SEQLAB_MODELS) answers without --model', async () => {
    const name = DEFAULT_MODELS.sentiment!;
    const committed = join(REPO_ROOT, 'models', name);
    let env: Record<string, string> = {};
    if (!existsSync(join(committed, 'config.json'))) {
      const models = join(root, 'models');
      mkdirSync(models, { recursive: true });
      cpSync(model, join(models, name), { recursive: true });
      env = { SEQLAB_MODELS: models };
      process.stderr.write(`note: ${committed} is absent; testing default-model resolution with a tiny model in ${models}\n`);
    }
    const r = await seqlab(['sentiment', '--json', ...KNOWN.map(([t]) => t)], { env });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.model).toBe(name);
    expect(out.results.map((x: { label: string }) => x.label)).toEqual(KNOWN.map(([, label]) => label));
  });

  it('a missing default model is a one-line not-found error naming the recipe', async () => {
    const r = await seqlab(['sentiment', 'fine'], { env: { SEQLAB_MODELS: join(root, 'empty-models') } });
    expect(r.code).toBe(3);
    const expected = `the default sentiment model is not at ${join(root, 'empty-models', DEFAULT_MODELS.sentiment!)}; create it with \`${defaultRecipe('sentiment')}\` or pass --model DIR`;
    expect(r.stderr.trim()).toBe(`seqlab: ${expected}`);
  });
});
