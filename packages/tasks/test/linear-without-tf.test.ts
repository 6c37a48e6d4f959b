/**
 * A linear text classifier (tfidf-lr, fasttext) loads and predicts through the pipeline entry
 * without TensorFlow.js being imported: what makes a one-text `seqlab classify` of such a model
 * start fast. Checked in a fresh Node process, where nothing else has loaded the runtime.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { train } from '../src/index.js';
import { coarse, trecRows, useScratchDir } from './trec-fixtures.js';

const fixture = fileURLToPath(new URL('./fixtures/classify-without-tf.ts', import.meta.url));
const scratch = useScratchDir('seqlab-linear-no-tf-');

function classifyInFreshProcess(dir: string, text: string, mode?: 'with-core'): { label: string; kind: string; tensorflowLoaded: boolean } {
  const run = spawnSync(process.execPath, ['--conditions=@seqlab/source', '--import', 'tsx', fixture, dir, text, ...(mode ? [mode] : [])], { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`fixture exited ${String(run.status)}: ${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as { label: string; kind: string; tensorflowLoaded: boolean };
}

describe('linear classifiers without TensorFlow.js', () => {
  for (const kind of ['tfidf-lr', 'fasttext'] as const) {
    it(`a saved ${kind} model classifies through @seqlab/tasks/pipeline with the runtime never imported`, async () => {
      const rows = trecRows('train_5500.label').slice(0, 1500).map(coarse);
      const { dir } = await train('text-classification', rows, { out: scratch(kind), model: kind, seed: 1 });
      const question = 'How many miles is it from London to Paris ?';
      const plain = classifyInFreshProcess(dir, question);
      expect(plain).toEqual({ label: 'NUM', kind, tensorflowLoaded: false });
      // The same probe sees the runtime once something imports it (so the check above can fail).
      expect(classifyInFreshProcess(dir, question, 'with-core')).toEqual({ label: 'NUM', kind, tensorflowLoaded: true });
    }, 120_000);
  }
});
