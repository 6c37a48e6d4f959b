/**
 * The recurrent classifier's packed training rows: cut as keptPositions cuts, and a fit from the
 * linear kinds' packed corpus the same fit as one that tokenizes the texts itself.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '@seqlab/core';
import { TextVectorizer } from '@seqlab/tokenize';
import { cutRows, encodePacked, rowViews, vocabularyIds } from '../src/classification/packed-ids.js';
import { DEFAULT_CLEAN, decodeText, fitRecurrentTextClassifier, keptPositions, packClassifierTexts, stratifiedSample, type LabelledRows } from '../src/index.js';

const ROOT = path.resolve(__dirname, '../../..');

function trec(file: string): LabelledRows {
  const lines = decodeText(readFileSync(path.join(ROOT, 'data/trec', file)))
    .split('\n')
    .filter((l) => l.trim());
  return { texts: lines.map((l) => l.slice(l.indexOf(' ') + 1)), labels: lines.map((l) => [l.slice(0, l.indexOf(':'))]) };
}

const all = trec('train_5500.label');
const idx = stratifiedSample(all.labels, 600, 3);
const rows: LabelledRows = { texts: idx.map((i) => all.texts[i]!), labels: idx.map((i) => all.labels[i]!) };

beforeAll(async () => {
  await initBackend();
});

describe('packed training rows', () => {
  it('cuts every row as keptPositions keeps it, renaming ids on the way', async () => {
    const vectorizer = await new TextVectorizer({ maxTokens: 300 }).adapt(rows.texts);
    const packed = encodePacked(vectorizer, rows.texts);
    const whole = rows.texts.map((t) => vectorizer.encodeIds(t));
    expect(rowViews(packed).map((r) => [...r])).toEqual(whole);
    const rename = Int32Array.from({ length: vectorizer.vocabSize }, (_, i) => (i * 7) % 101);
    for (const strategy of ['head', 'tail', 'head+tail'] as const) {
      for (const maxLength of [1, 3, 9]) {
        const expected = whole.map((r) => keptPositions(r.length, maxLength, strategy).map((p) => r[p]!));
        expect(rowViews(cutRows(packed, maxLength, strategy)).map((r) => [...r])).toEqual(expected);
        expect(rowViews(cutRows(packed, maxLength, strategy, rename)).map((r) => [...r])).toEqual(expected.map((r) => r.map((id) => rename[id]!)));
      }
    }
  });

  it('reads a packed corpus into the vocabulary and ids that encodeIds gives, UNK and special-looking words included', async () => {
    const texts = [...rows.texts.slice(0, 50), 'a [PAD] and [UNK] question about zyzzyva'];
    const corpus = await packClassifierTexts(texts);
    const vectorizer = new TextVectorizer({ maxTokens: 120, clean: DEFAULT_CLEAN });
    const counts = new Map<string, number>();
    for (const t of corpus.tokens) counts.set(corpus.words[t]!, (counts.get(corpus.words[t]!) ?? 0) + 1);
    vectorizer.adaptCounts(counts);
    const rename = vocabularyIds(corpus, vectorizer);
    const renamed = rowViews({ ids: Int32Array.from(corpus.tokens, (t) => rename[t]!), offsets: corpus.offsets }).map((r) => [...r]);
    expect(renamed).toEqual(texts.map((t) => vectorizer.encodeIds(t)));
    expect(renamed.at(-1)).toContain(vectorizer.vocabulary.unkId);
  });

  it('fits the same classifier from the packed corpus as from the texts, and refuses a corpus of other texts', async () => {
    const options = { embeddingDim: 8, units: 8, epochs: 1, batchSize: 32, seed: 5, maxLength: 12 };
    const fromTexts = await fitRecurrentTextClassifier(rows, options);
    const fromCorpus = await fitRecurrentTextClassifier(rows, { ...options, corpus: await packClassifierTexts(rows.texts) });
    try {
      expect(fromCorpus.classifier.vectorizer.toJSON()).toEqual(fromTexts.classifier.vectorizer.toJSON());
      expect(fromCorpus.lengthStats).toEqual(fromTexts.lengthStats);
      expect(fromCorpus.result.history[0]!.loss).toBe(fromTexts.result.history[0]!.loss);
      const probe = all.texts.slice(0, 20);
      const scores = async (c: typeof fromTexts) => (await c.classifier.predict(probe, { explain: false })).map((r) => r.labels.map((l) => l.score));
      expect(await scores(fromCorpus)).toEqual(await scores(fromTexts));
    } finally {
      fromTexts.classifier.dispose();
      fromCorpus.classifier.dispose();
    }
    const other = await packClassifierTexts(rows.texts.slice(1));
    await expect(fitRecurrentTextClassifier(rows, { ...options, corpus: other })).rejects.toThrow(/corpus: packed 599 texts .* the fit has 600 texts/);
    await expect(fitRecurrentTextClassifier(rows, { ...options, tokenizer: 'bpe', corpus: await packClassifierTexts(rows.texts) })).rejects.toThrow(/tokenizer bpe reads other tokens/);
  }, 120_000);
});
