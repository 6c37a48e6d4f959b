/**
 * POST /v1/classify: any text classifier under the models folder through the text-classification
 * pipeline (the same numbers as calling the pipeline directly, which `seqlab classify` does),
 * with the service's text limits and error table.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeText, fitLinearTextClassifier, fitRecurrentTextClassifier } from '@seqlab/rnn';
import { pipeline } from '@seqlab/tasks';
import { REPO_ROOT, createApp, createConfig, createModelServices, type Config, type Services } from '../src/index.js';
import { startService, stopService, type TestService } from './service-helpers.js';

let dir: string;
let config: Config;
let services: Services;
let app: TestService['app'];
const QUESTIONS = ['How far is it from Denver to Aspen ?', 'Who wrote Hamlet ?', 'What does NASA stand for ?'];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'seqlab-api-classify-'));
  const lines = decodeText(readFileSync(path.join(REPO_ROOT, 'data/trec/train_5500.label'))).split('\n').filter((l) => l.trim());
  const model = await fitLinearTextClassifier(
    { texts: lines.map((l) => l.slice(l.indexOf(' ') + 1)), labels: lines.map((l) => [l.slice(0, l.indexOf(':'))]) },
    { kind: 'fasttext', seed: 1 },
  );
  await model.save(path.join(dir, 'questions'));
  // A sentence-encoder hybrid on a slice of the same questions (the encoder is not copied into it).
  const { fitUseTextClassifier } = await import('@seqlab/embeddings');
  const some = lines.slice(0, 600);
  const hybrid = await fitUseTextClassifier(
    { texts: some.map((l) => l.slice(l.indexOf(' ') + 1)), labels: some.map((l) => [l.slice(0, l.indexOf(':'))]) },
    { kind: 'hybrid', hidden: [0], epochs: 15, patience: 3, seed: 1 },
  );
  await hybrid.classifier.save(path.join(dir, 'questions-use'));
  hybrid.classifier.dispose();
  // A small recurrent multi-label model: each question labelled with its coarse and fine type.
  const tagged = (ls: string[]) => ({ texts: ls.map((l) => l.slice(l.indexOf(' ') + 1)), labels: ls.map((l) => [l.slice(0, l.indexOf(':')), l.slice(0, l.indexOf(' '))]) });
  const multi = await fitRecurrentTextClassifier(
    tagged(lines.filter((_, i) => i % 4 === 0)),
    {
      validation: tagged(lines.filter((_, i) => i % 4 === 1).slice(0, 400)),
      embeddingDim: 24,
      units: 16,
      epochs: 6,
      learningRate: 0.02,
      seed: 1,
    },
  );
  await multi.classifier.save(path.join(dir, 'questions-multi'));
  multi.classifier.dispose();
  ({ config, services, app } = await startService({ modelsDir: dir, sentimentModel: 'off', generatorModel: 'off', embeddings: false, workers: 1, rateLimitMax: 0, logLevel: 'silent', maxTexts: 4, maxTextLength: 200 }));
}, 120_000);

afterAll(() => stopService(services, dir));

describe('POST /v1/classify', () => {
  it('answers with the classes of a saved classifier, the same as the pipeline', async () => {
    const res = await request(app).post('/v1/classify').send({ texts: QUESTIONS, model: 'questions', labels: 2 }).expect(200);
    expect(res.body).toMatchObject({ model: 'questions', kind: 'fasttext', problem: 'multi-class', classes: ['ABBR', 'DESC', 'ENTY', 'HUM', 'LOC', 'NUM'], truncated: 0 });
    expect(res.body.results.map((r: { label: string }) => r.label)).toEqual(['NUM', 'HUM', 'ABBR']);
    const direct = await pipeline('text-classification', path.join(dir, 'questions'));
    const expected = await direct.predict(QUESTIONS);
    direct.dispose();
    res.body.results.forEach((r: { score: number; labels: unknown[]; truncated: boolean; predicted: string[] }, i: number) => {
      expect(r.score).toBeCloseTo(expected[i]!.score, 10);
      expect(r.labels).toHaveLength(2);
      expect(r.predicted).toEqual([expected[i]!.label]);
      expect(r.truncated).toBe(false);
    });
  });

  it('serves a sentence-encoder hybrid the same as the pipeline', async () => {
    const res = await request(app).post('/v1/classify').send({ texts: QUESTIONS, model: 'questions-use' }).expect(200);
    expect(res.body).toMatchObject({ model: 'questions-use', kind: 'hybrid', problem: 'multi-class', classes: ['ABBR', 'DESC', 'ENTY', 'HUM', 'LOC', 'NUM'], truncated: 0 });
    const direct = await pipeline('text-classification', path.join(dir, 'questions-use'));
    const expected = await direct.predict(QUESTIONS);
    direct.dispose();
    expect(res.body.results.map((r: { label: string }) => r.label)).toEqual(expected.map((r) => r.label));
    res.body.results.forEach((r: { score: number }, i: number) => expect(r.score).toBeCloseTo(expected[i]!.score, 6));
  });

  it('serves a recurrent multi-label model: label sets, per-class thresholds, attention weights, the same as the pipeline', async () => {
    const res = await request(app).post('/v1/classify').send({ texts: QUESTIONS, model: 'questions-multi', labels: 100, explain: true }).expect(200);
    expect(res.body).toMatchObject({ model: 'questions-multi', kind: 'rnn', problem: 'multi-label', truncated: 0 });
    const config = JSON.parse(readFileSync(path.join(dir, 'questions-multi', 'config.json'), 'utf8'));
    expect(res.body.classes).toEqual(config.classes);
    expect(res.body.thresholds).toEqual(Object.fromEntries(config.classes.map((c: string, i: number) => [c, config.thresholds[i]])));
    const direct = await pipeline('text-classification', path.join(dir, 'questions-multi'));
    const expected = await direct.predict(QUESTIONS);
    direct.dispose();
    res.body.results.forEach((r: { predicted: string[]; labels: { label: string; score: number }[]; tokens: { weight: number }[]; labelTokens: unknown }, i: number) => {
      expect(r.predicted).toEqual(expected[i]!.predicted);
      expect(r.predicted).toEqual(r.labels.filter((l) => l.score >= res.body.thresholds[l.label]).map((l) => l.label));
      r.labels.forEach((l, j) => expect(l.score).toBeCloseTo(expected[i]!.labels[j]!.score, 6));
      expect(r.tokens.reduce((s, t) => s + t.weight, 0)).toBeCloseTo(1, 4);
      expect(r.labelTokens).toEqual(expected[i]!.labelTokens!.map((l) => ({ label: l.label, tokens: l.tokens.map((t) => ({ ...t, contribution: expect.closeTo(t.contribution, 5) })) })));
    });
    // Who wrote Hamlet ? asks for a person.
    expect(res.body.results[1].predicted).toContain('HUM');
    const single = await request(app).post('/v1/classify').send({ texts: QUESTIONS, model: 'questions' }).expect(200);
    expect(single.body.thresholds).toBeNull();
    const before = services.numTensors();
    for (let i = 0; i < 5; i++) await request(app).post('/v1/classify').send({ texts: QUESTIONS, model: 'questions-multi', explain: true }).expect(200);
    expect(services.numTensors()).toBe(before);
  });

  it('applies the text limits and the error table', async () => {
    const many = await request(app).post('/v1/classify').send({ texts: ['a', 'b', 'c', 'd', 'e'], model: 'questions' }).expect(400);
    expect(many.body.error.message).toMatch(/at most 4 texts per request/);
    await request(app).post('/v1/classify').send({ texts: ['x'.repeat(201)], model: 'questions' }).expect(400);
    const unknown = await request(app).post('/v1/classify').send({ texts: ['x'], model: 'nope' }).expect(404);
    expect(unknown.body.error.message).toMatch(/no text classifier named "nope"; text classifiers: questions, questions-multi, questions-use/);
    const traversal = await request(app).post('/v1/classify').send({ texts: ['x'], model: '../questions' }).expect(400);
    expect(traversal.body.error.message).not.toContain(dir);
    await request(app).post('/v1/classify').send({ texts: ['x'], model: 'questions', top: 3 }).expect(400);
    await request(app).get('/v1/classify').expect(405);
  });

  it('serves the committed question-type model by default from the repository models folder', async () => {
    // The models folder is the workers' (they resolve names), so this needs services of its own.
    const repoModels = createConfig({ ...config, modelsDir: path.join(REPO_ROOT, 'models') });
    const repoServices = createModelServices(repoModels);
    try {
      await repoServices.whenReady();
      const repoApp = createApp(repoModels, repoServices).app;
      const res = await request(repoApp).post('/v1/classify').send({ texts: ['Where is the Taj Mahal ?'] }).expect(200);
      // Whatever kind recipe:trec committed (its config.json says which).
      const { kind } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'models/question-type/config.json'), 'utf8'));
      expect(res.body).toMatchObject({ model: 'question-type', kind, results: [{ label: 'LOC', truncated: false }] });
    } finally {
      await repoServices.close(2000);
    }
  });

  it('runs in the model workers: no tensors left behind in them after many requests', async () => {
    await request(app).post('/v1/classify').send({ texts: QUESTIONS, model: 'questions' }).expect(200);
    const before = services.numTensors();
    for (let i = 0; i < 20; i++) await request(app).post('/v1/classify').send({ texts: QUESTIONS, model: 'questions' }).expect(200);
    expect(services.numTensors()).toBe(before);
  });

  it('is documented in the OpenAPI document', async () => {
    const doc = await request(app).get('/openapi.json').expect(200);
    expect(Object.keys(doc.body.paths)).toContain('/v1/classify');
  });
});
