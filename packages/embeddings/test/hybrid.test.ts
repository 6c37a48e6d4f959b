import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend, modelDigest, saveModel, setGlobalSeed, writeModelConfig } from '@seqlab/core';
import { loadRecurrentTextClassifier, resolveTextClassifierOptions, saveRecurrentTextClassifier, textClassifier } from '@seqlab/rnn';
import { TextVectorizer } from '@seqlab/tokenize';
import {
  EMBEDDING_DIM,
  RnnSentimentFeatures,
  SentimentClassifier,
  fusionHead,
  headProba,
  joinFeatures,
  loadEncoder,
  loadSentimentClassifier,
  trainSentimentHead,
  useSentimentHead,
  type SentenceEncoder,
} from '../src/index.js';

const TEXTS = [
  'a gorgeous , witty film',
  'an utterly charming and moving story',
  'the best movie of the year',
  'tedious , overlong and dull',
  'a boring mess of a movie',
  'the worst script i have seen',
];
const LABELS = [1, 1, 1, 0, 0, 0];
const SENTIMENT = ['negative', 'positive'];
/** BiLSTM folders the removed sentiment saver wrote (task `sentiment`), committed as fixtures of @seqlab/rnn. */
const OLD_FORMAT = path.resolve(import.meta.dirname, '../../rnn/test/fixtures');

let tmp: string;
let rnnDir: string;
let encoder: SentenceEncoder;

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  setGlobalSeed(11);
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-hybrid-'));
  encoder = await loadEncoder();
  // A real (tiny, untrained) binary negative/positive @seqlab/rnn classifier, saved by the text-classification saver.
  rnnDir = path.join(tmp, 'sentiment');
  const vectorizer = await new TextVectorizer({ tokenizer: 'word' }).adapt(TEXTS);
  const architecture = { vocabSize: vectorizer.vocabSize, embeddingDim: 8, units: 6, attentionUnits: 4 };
  const model = textClassifier(architecture);
  await saveRecurrentTextClassifier(rnnDir, model, vectorizer, { architecture: resolveTextClassifierOptions(architecture), classes: SENTIMENT, maxLength: 16 });
  model.dispose();
});

afterAll(async () => {
  encoder?.dispose();
  await fs.rm(tmp, { recursive: true, force: true });
});

/** A hybrid classifier over `head` that records the test RNN directory relative to `modelDir`. */
function hybridClassifier(head: ReturnType<typeof useSentimentHead>, rnn: RnnSentimentFeatures, modelDir: string): SentimentClassifier {
  const metadata = { kind: 'hybrid' as const, labels: ['negative', 'positive'] as ['negative', 'positive'], encoder: 'use-lite' as const, rnnModel: path.relative(modelDir, rnnDir) };
  return new SentimentClassifier(encoder, head, metadata, false, rnn);
}

/**
 * Writes a hybrid directory in the older sentiment format (nothing saves one any more; such
 * directories still load): the head, then config.json naming the RNN model and its digest.
 */
async function writeOldFormatHybrid(head: ReturnType<typeof useSentimentHead>, modelDir: string): Promise<void> {
  await saveModel(head, modelDir);
  await writeModelConfig(modelDir, { task: 'sentiment', kind: 'hybrid' }, { labels: SENTIMENT, encoder: 'use-lite', rnnModel: path.relative(modelDir, rnnDir), rnnModelDigest: await modelDigest(rnnDir) });
}

describe('hybrid USE + BiLSTM-attention sentiment', () => {
  it('extracts attention-pooled BiLSTM features, independent of batch grouping', async () => {
    const rnn = await RnnSentimentFeatures.load(rnnDir);
    try {
      expect(rnn.dim).toBe(12); // 2 directions x 6 units
      const all = await rnn.features(TEXTS, 4);
      expect(all.length).toBe(TEXTS.length * 12);
      expect(all.every(Number.isFinite)).toBe(true);
      const one = await rnn.features([TEXTS[4]!]);
      for (let j = 0; j < 12; j++) expect(one[j]).toBeCloseTo(all[4 * 12 + j]!, 5);
    } finally {
      rnn.dispose();
    }
  });

  it('trains on joined features; an older-format hybrid directory reloads the RNN from the recorded directory; saving one is refused', async () => {
    const rnn = await RnnSentimentFeatures.load(rnnDir);
    const use = await encoder.embed(TEXTS);
    const flat = new Float32Array(TEXTS.length * EMBEDDING_DIM);
    use.forEach((v, i) => flat.set(v, i * EMBEDDING_DIM));
    const x = joinFeatures(flat, await rnn.features(TEXTS), TEXTS.length);
    expect(x.length).toBe(TEXTS.length * (EMBEDDING_DIM + 12));
    const head = useSentimentHead({ hidden: 8, dropout: 0, inputDim: EMBEDDING_DIM + 12, learningRate: 0.01 });
    await trainSentimentHead(head, { x, y: LABELS }, { x, y: LABELS }, { epochs: 40, batchSize: 6, patience: 40 });
    const modelDir = path.join(tmp, 'sentiment-use');
    const clf = hybridClassifier(head, rnn, modelDir);
    const before = await clf.predictProba(TEXTS);
    expect(Array.from(before, (p) => (p >= 0.5 ? 1 : 0))).toEqual(LABELS);
    // The text-classification family has no USE + RNN kind: no directory is written.
    await expect(clf.save(modelDir)).rejects.toMatchObject({ code: 'unsupported', message: expect.stringMatching(/hybrid sentiment model cannot be saved/) });
    await expect(fs.stat(modelDir)).rejects.toMatchObject({ code: 'ENOENT' });
    await writeOldFormatHybrid(head, modelDir);
    clf.dispose();
    const loaded = await loadSentimentClassifier({ modelDir, encoder });
    try {
      expect(loaded.metadata.kind).toBe('hybrid');
      expect(loaded.rnn?.dim).toBe(12);
      const after = await loaded.predictProba(TEXTS);
      after.forEach((p, i) => expect(p).toBeCloseTo(before[i]!, 5));
    } finally {
      loaded.dispose();
    }
    // The RNN model is referred to by content digest: a renamed copy is found, a changed one refused.
    const saved = JSON.parse(await fs.readFile(path.join(modelDir, 'config.json'), 'utf8'));
    expect(saved).toMatchObject({ rnnModel: '../sentiment', rnnModelDigest: await modelDigest(rnnDir) });
    const moved = path.join(tmp, 'sentiment-renamed');
    await fs.cp(rnnDir, moved, { recursive: true });
    const raw = await fs.readFile(path.join(rnnDir, 'config.json'), 'utf8');
    await fs.writeFile(path.join(rnnDir, 'config.json'), JSON.stringify({ ...JSON.parse(raw), maxLength: 12 }));
    const viaDigest = await loadSentimentClassifier({ modelDir, encoder });
    try {
      expect(viaDigest.rnn?.dir).toBe(moved);
      Array.from(await viaDigest.predictProba(TEXTS)).forEach((p, i) => expect(p).toBeCloseTo(before[i]!, 5));
    } finally {
      viaDigest.dispose();
    }
    await fs.rm(moved, { recursive: true });
    const changed = await loadSentimentClassifier({ modelDir, encoder }).catch((e: Error) => e);
    expect(changed).toMatchObject({ code: 'model_file_corrupt' });
    expect((changed as Error).message).toContain(`names RNN model "../sentiment" with digest ${saved.rnnModelDigest}, but that model now has ${await modelDigest(rnnDir)}`);
    await fs.writeFile(path.join(rnnDir, 'config.json'), raw);
    const orphan = useSentimentHead();
    expect(() => new SentimentClassifier(encoder, orphan, { kind: 'hybrid', labels: ['negative', 'positive'], encoder: 'use-lite' })).toThrow(
      /hybrid model needs RNN features/,
    );
    orphan.dispose();
  });

  it('an ensemble directory gives its members\' features side by side', async () => {
    const vectorizer = await new TextVectorizer({ tokenizer: 'word' }).adapt(TEXTS);
    const architecture = resolveTextClassifierOptions({ vocabSize: vectorizer.vocabSize, embeddingDim: 8, units: 6, attentionUnits: 4 });
    const members = [textClassifier(architecture), textClassifier(architecture)];
    const dir = path.join(tmp, 'ensemble');
    const save = (to: string, models: typeof members | (typeof members)[number]) => saveRecurrentTextClassifier(to, models, vectorizer, { architecture, classes: SENTIMENT, maxLength: 16 });
    await save(dir, members);
    for (const [i, m] of members.entries()) await save(path.join(tmp, `member-${i}`), m);
    members.forEach((m) => m.dispose());
    const ens = await RnnSentimentFeatures.load(dir);
    const singles = await Promise.all([0, 1].map((i) => RnnSentimentFeatures.load(path.join(tmp, `member-${i}`))));
    try {
      expect(ens.dim).toBe(24);
      const all = await ens.features(TEXTS);
      const parts = await Promise.all(singles.map((s) => s.features(TEXTS)));
      for (let r = 0; r < TEXTS.length; r++) {
        for (let j = 0; j < 12; j++) {
          expect(all[r * 24 + j]).toBeCloseTo(parts[0]![r * 12 + j]!, 5);
          expect(all[r * 24 + 12 + j]).toBeCloseTo(parts[1]![r * 12 + j]!, 5);
        }
      }
    } finally {
      ens.dispose();
      singles.forEach((s) => s.dispose());
    }
  });

  it('fusion head: frozen USE head and RNN read-out, only the 3 fusion weights train, survives save/load', async () => {
    const rnn = await RnnSentimentFeatures.load(rnnDir);
    const use = await encoder.embed(TEXTS);
    const flat = new Float32Array(TEXTS.length * EMBEDDING_DIM);
    use.forEach((v, i) => flat.set(v, i * EMBEDDING_DIM));
    const useHead = useSentimentHead({ hidden: 8, dropout: 0, learningRate: 0.01 });
    await trainSentimentHead(useHead, { x: flat, y: LABELS }, { x: flat, y: LABELS }, { epochs: 10, batchSize: 6, patience: 10 });
    const rnnX = await rnn.features(TEXTS);
    const x = joinFeatures(flat, rnnX, TEXTS.length);
    const readout = rnn.logitWeights();
    expect(readout.kernel.length).toBe(rnn.dim);
    const head = fusionHead(useHead, readout);
    expect(head.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0)).toBe(3);
    // Untrained fusion (weights 1, 1, bias 0): sigmoid(useLogit + rnnLogit).
    const pUse = headProba(useHead, flat);
    const pFused = headProba(head, x);
    const logit = (p: number) => Math.log(p / (1 - p));
    // The RNN's own probabilities give its logit.
    const full = await loadRecurrentTextClassifier(rnnDir);
    const pRnn = (await full.predict(TEXTS)).map((p) => p.labels.find((c) => c.label === 'positive')!.score);
    full.dispose();
    for (let i = 0; i < TEXTS.length; i++) {
      expect(logit(pFused[i]!)).toBeCloseTo(logit(pUse[i]!) + logit(pRnn[i]!), 3);
    }
    const frozenBefore = head.getLayer('use_hidden').getWeights()[0]!.dataSync().slice();
    await trainSentimentHead(head, { x, y: LABELS }, { x, y: LABELS }, { epochs: 5, batchSize: 6, patience: 5 });
    expect(Array.from(head.getLayer('use_hidden').getWeights()[0]!.dataSync())).toEqual(Array.from(frozenBefore));
    const modelDir = path.join(tmp, 'sentiment-fusion');
    const clf = hybridClassifier(head, rnn, modelDir);
    const before = await clf.predictProba(TEXTS);
    await writeOldFormatHybrid(head, modelDir);
    clf.dispose();
    useHead.dispose();
    const loaded = await loadSentimentClassifier({ modelDir, encoder });
    try {
      const after = await loaded.predictProba(TEXTS);
      after.forEach((p, i) => expect(p).toBeCloseTo(before[i]!, 5));
    } finally {
      loaded.dispose();
    }
  });

  it('reads the features of older sentiment-format RNN folders (single and ensemble)', async () => {
    const single = await RnnSentimentFeatures.load(path.join(OLD_FORMAT, 'sentiment-rnn-v1'));
    const ensemble = await RnnSentimentFeatures.load(path.join(OLD_FORMAT, 'sentiment-rnn-ensemble-v1'));
    try {
      // 2 directions x 3 units per member.
      expect([single.dim, ensemble.dim]).toEqual([6, 12]);
      const f = await single.features(TEXTS);
      expect(f.length).toBe(TEXTS.length * 6);
      expect(f.every(Number.isFinite)).toBe(true);
      expect(f.some((v) => v !== 0)).toBe(true);
    } finally {
      single.dispose();
      ensemble.dispose();
    }
  });

  it('names a missing RNN directory', async () => {
    await expect(RnnSentimentFeatures.load(path.join(tmp, 'nope'))).rejects.toThrow(/nope\/config\.json: file not found/);
  });
});
