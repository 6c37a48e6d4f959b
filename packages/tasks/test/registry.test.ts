/**
 * The model registry: names, task defaults and what models/ holds (the shipped defaults only),
 * and content digests that identify a model's files.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModelConfig, TASK_NAMES } from '@seqlab/core';
import { defaultModel, defaultRecipe, DEFAULT_MODELS, MODEL_REGISTRY, modelDigest, modelsDir, registeredModel, repoRoot, resolveModelDir } from '../src/index.js';

describe('the model registry', () => {
  it('resolves every task default to a committed model of that task', async () => {
    for (const task of TASK_NAMES) {
      const name = defaultModel(task);
      expect(name).toBe(DEFAULT_MODELS[task]);
      if (name === undefined) continue;
      const entry = registeredModel(name)!;
      expect(entry).toMatchObject({ name, shipped: true });
      expect(defaultRecipe(task)).toBe(entry.recipe);
      const config = await readModelConfig(resolveModelDir(name, { allowPaths: false }).dir);
      // The sentiment default may be stored in either format of the text-classification family.
      expect(task === 'sentiment' ? ['sentiment', 'text-classification'] : [task]).toContain(config.task);
    }
    expect(() => defaultModel('summarize' as never)).toThrow(/unknown task "summarize"; valid tasks: sentiment/);
  });

  it('models/ commits the shipped models only: at most 30 MB in all, no file over 10 MB', () => {
    // What git tracks (recipes may have regenerated experiment models beside them, untracked).
    const root = repoRoot()!;
    const files = execFileSync('git', ['ls-files', '-z', 'models'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean).map((f) => path.join(root, f));
    const folders = [...new Set(files.map((f) => path.relative(modelsDir(), f).split(path.sep)[0]!))].sort();
    expect(folders).toEqual(MODEL_REGISTRY.filter((m) => m.shipped).map((m) => m.name).sort());
    const sizes = files.map((f) => statSync(f).size);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(30 * 1024 * 1024);
    files.forEach((f, i) => expect({ file: path.relative(modelsDir(), f), over10MB: sizes[i]! > 10 * 1024 * 1024 }).toEqual({ file: path.relative(modelsDir(), f), over10MB: false }));
    for (const m of MODEL_REGISTRY.filter((e) => !e.shipped)) expect(m.recipe).toMatch(/^npm run recipe:/);
  });

  it('gives a model directory one digest wherever it lies, and another once a file it loads changes', async () => {
    const dir = resolveModelDir('question-type', { allowPaths: false }).dir;
    const digest = await modelDigest(dir);
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const copy = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-digest-')), 'renamed');
    try {
      await fs.cp(dir, copy, { recursive: true });
      expect(await modelDigest(copy)).toBe(digest);
      // The model card is not part of the model.
      await fs.appendFile(path.join(copy, 'README.md'), '\nedited\n');
      expect(await modelDigest(copy)).toBe(digest);
      const vectorizer = path.join(copy, 'members/2-rnn/vectorizer.json');
      expect(existsSync(vectorizer)).toBe(true);
      await fs.appendFile(vectorizer, ' ');
      expect(await modelDigest(copy)).not.toBe(digest);
    } finally {
      await fs.rm(path.dirname(copy), { recursive: true, force: true });
    }
  });
});
