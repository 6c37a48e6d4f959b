/**
 * bench:api - load test of the HTTP service on loopback with autocannon.
 *
 * Starts `apps/api` as two child processes (exactly like `npm start`): with micro-batching
 * (BATCH_WINDOW_MS=5, BATCH_MAX_SIZE=32) and without (BATCH_WINDOW_MS=0). Measures
 * single-sentence POST /v1/sentiment at 1, 16 and 64 connections on each (median of 3 timed runs
 * after a warm-up, the two modes' runs alternating), then generation tokens/s, then sends 10,000
 * requests and checks that live tensors and RSS stay flat. Writes results/api.json.
 *
 * Uses the default models under models/ when they exist; otherwise (or with --tiny) trains a
 * tiny sentiment model and generator into a temp dir first and says so in the results.
 *
 *   npm run bench:api [-- --tiny] [-- --quick]
 *   npm run bench:api -- --generation-only   # re-measure only generation (e.g. once the default
 *                                            # generator exists) and update results/api.json
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { initBackend, setGlobalSeed, writeJsonAtomic } from '@seqlab/core';
import * as rnn from '@seqlab/rnn';
import { TextVectorizer } from '@seqlab/tokenize';
import { REPO_ROOT, dataPath, defaultModelDir, formatTable, hasModel, median, writeResults } from './lib/report.js';
import { sst2DevSentences, startApi, type ApiProcess } from './lib/server.js';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const RUN_SECONDS = QUICK ? 3 : 8;
const RUNS = QUICK ? 1 : 3;
const CONCURRENCY = [1, 16, 64];
const MEMORY_REQUESTS = QUICK ? 2000 : 10_000;

/** Starts the API like `npm start`, without rate limiting (the load test is one client sending many requests). */
function startServer(env: Record<string, string>): Promise<ApiProcess> {
  return startApi({ RATE_LIMIT_MAX: '0', ...env });
}

interface LoadResult {
  requestsPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function load(url: string, connections: number, options: { duration?: number; amount?: number }): Promise<LoadResult> {
  const texts = sst2DevSentences();
  const result = await autocannon({
    url: `${url}/v1/sentiment`,
    connections,
    // Unbatched at 64 connections queues for many seconds on a busy 2-core machine; count those
    // answers instead of dropping them as timeouts.
    timeout: 60,
    ...(options.amount ? { amount: options.amount } : { duration: options.duration ?? RUN_SECONDS }),
    requests: texts.slice(0, 50).map((t) => ({ method: 'POST', path: '/v1/sentiment', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ texts: [t] }) })),
  });
  return {
    requestsPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

async function scrape(url: string): Promise<{ tensors: number; rssMb: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} ([0-9.e+]+)`, 'm').exec(text)?.[1] ?? NaN);
  return { tensors: value('seqlab_tensors_in_memory'), rssMb: value('seqlab_process_resident_memory_bytes') / 2 ** 20 };
}

async function generationSpeed(url: string): Promise<{ tokensPerSec: number; streamTokensPerSec: number; firstTokenMs: number }> {
  const json: number[] = [];
  const streamed: number[] = [];
  const first: number[] = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const body = { prompt: 'ROMEO:', maxTokens: 200, temperature: 0.8, seed: i };
    let t0 = performance.now();
    const res = await fetch(`${url}/v1/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const out = (await res.json()) as { tokens: number };
    if (i > 0) json.push(out.tokens / ((performance.now() - t0) / 1000));
    t0 = performance.now();
    const sse = await fetch(`${url}/v1/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify(body),
    });
    const reader = sse.body!.getReader();
    let tokens = 0;
    let firstAt = 0;
    const decoder = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const chunk = decoder.decode(value);
      const n = chunk.split('event: token').length - 1;
      if (n > 0 && firstAt === 0) firstAt = performance.now() - t0;
      tokens += n;
    }
    if (i > 0) {
      streamed.push(tokens / ((performance.now() - t0) / 1000));
      first.push(firstAt);
    }
  }
  return { tokensPerSec: median(json), streamTokensPerSec: median(streamed), firstTokenMs: median(first) };
}

// Tiny stand-ins for missing default models (same directory formats as the recipes write);
// the results say when they were used.
async function tinySentiment(dir: string): Promise<string> {
  await initBackend();
  const out = path.join(dir, 'sentiment');
  const rows = readFileSync(dataPath('sst2', 'train.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1, 4001)
    .map((l) => l.split('\t'));
  const texts = rows.map((r) => r[0]!.trim());
  const labels = rows.map((r) => Number(r[1]));
  const maxLength = 40;
  const vectorizer = await new TextVectorizer({ maxTokens: 4000, maxLength }).adapt(texts);
  const enc = vectorizer.encode(texts, { padding: 'post', truncation: 'post', maxLength });
  const [n, width] = enc.shape;
  const x = Array.from({ length: n }, (_, i) => enc.ids.subarray(i * width, (i + 1) * width));
  const arch: rnn.TextClassifierOptions = { vocabSize: vectorizer.vocabSize, embeddingDim: 32, cell: 'gru', bidirectional: true, units: 32, attentionUnits: 32 };
  setGlobalSeed(3);
  const clf = rnn.textClassifier(arch);
  await rnn.train(clf, rnn.arrayData(x, labels, { batchSize: 32, seed: 3 }), { epochs: 2, learningRate: 0.005, seed: 3 });
  // A binary negative/positive text classifier, which the sentiment task serves.
  await rnn.saveRecurrentTextClassifier(out, clf, vectorizer, { architecture: rnn.resolveTextClassifierOptions(arch), classes: ['negative', 'positive'], maxLength, truncation: 'head' });
  clf.dispose();
  return out;
}

async function tinyGenerator(dir: string): Promise<string> {
  await initBackend();
  const out = path.join(dir, 'generator');
  const text = readFileSync(dataPath('tiny_shakespeare', 'input.txt'), 'utf8').slice(0, 100_000);
  const vocab = rnn.CharVocabulary.fromText(text);
  const lm: rnn.LanguageModelOptions = { vocabSize: vocab.size, cell: 'lstm', layers: 1, units: 128, embeddingDim: 32 };
  setGlobalSeed(3);
  const model = rnn.languageModel(lm);
  await rnn.train(model, rnn.languageModelData(vocab.encode(text), { sequenceLength: 64, batchSize: 32, windowsPerEpoch: 320, seed: 3 }), {
    epochs: 1,
    learningRate: 0.005,
    seed: 3,
  });
  await rnn.saveTextGenerator(out, model, vocab, { architecture: rnn.resolveLanguageModelOptions(lm) });
  model.dispose();
  return out;
}

// Re-measures generation against the default generator and updates that part of results/api.json.
async function generationOnly(): Promise<void> {
  const dir = path.join(REPO_ROOT, 'models/shakespeare-char');
  if (!(await hasModel(dir, 'text-generation'))) throw new Error('--generation-only needs the default generator in models/shakespeare-char');
  const file = path.join(REPO_ROOT, 'results/api.json');
  const previous = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const server = await startServer({ SENTIMENT_MODEL: 'off', GENERATOR_MODEL: dir, EMBEDDINGS: 'off' });
  try {
    const generation = await generationSpeed(server.url);
    console.log(`generation with models/shakespeare-char: ${generation.tokensPerSec.toFixed(1)} tokens/s JSON, ${generation.streamTokensPerSec.toFixed(1)} SSE`);
    await writeJsonAtomic(file, {
      ...previous,
      generation: { ...generation, model: 'models/shakespeare-char (default)', measured: new Date().toISOString(), command: 'npm run bench:api -- --generation-only', loadAverage: os.loadavg() },
      generationBefore: previous.generation,
    });
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  if (args.has('--generation-only')) return generationOnly();
  const defaultSentiment = defaultModelDir('sentiment');
  const defaultGenerator = defaultModelDir('text-generation');
  let tmp: string | undefined;
  const tinyRequested = args.has('--tiny');
  const useDefaultSentiment = !tinyRequested && (await hasModel(defaultSentiment, 'sentiment'));
  const useDefaultGenerator = !tinyRequested && (await hasModel(defaultGenerator, 'text-generation'));
  let sentimentModel = defaultSentiment;
  let generatorModel = defaultGenerator;
  if (!useDefaultSentiment || !useDefaultGenerator) tmp = await mkdtemp(path.join(os.tmpdir(), 'seqlab-bench-api-'));
  if (!useDefaultSentiment) sentimentModel = await tinySentiment(tmp!);
  if (!useDefaultGenerator) generatorModel = await tinyGenerator(tmp!);
  const modelNote = `sentiment: ${useDefaultSentiment ? `${path.relative(REPO_ROOT, defaultSentiment)} (default)` : 'TINY stand-in trained by the bench (BiGRU 32, 4k SST-2 rows, 2 epochs)'}; generator: ${
    useDefaultGenerator ? 'models/shakespeare-char (default)' : 'TINY stand-in trained by the bench (LSTM 128, 1 short epoch)'
  }`;
  const loadBefore = os.loadavg();
  console.log(`bench:api - ${modelNote}; ${RUNS} run(s) of ${RUN_SECONDS} s per point, ${os.cpus().length} CPUs`);

  const modes = [
    { name: 'batched', env: { BATCH_WINDOW_MS: '5', BATCH_MAX_SIZE: '32' } },
    { name: 'unbatched', env: { BATCH_WINDOW_MS: '0', BATCH_MAX_SIZE: '1' } },
  ];
  const points: Record<string, Record<number, LoadResult>> = { batched: {}, unbatched: {} };
  let generation: Awaited<ReturnType<typeof generationSpeed>> | undefined;
  const memory: Array<{ requests: number; tensors: number; rssMb: number }> = [];
  // Both servers stay up and their timed runs alternate, so background load on this shared
  // machine hits both modes alike instead of whichever phase it happened to overlap.
  const servers: Record<string, ApiProcess> = {};
  let backend: string;
  try {
    for (const mode of modes) {
      servers[mode.name] = await startServer({ SENTIMENT_MODEL: sentimentModel, GENERATOR_MODEL: generatorModel, EMBEDDINGS: 'off', ...mode.env });
    }
    backend = ((await (await fetch(`${servers.batched!.url}/readyz`)).json()) as { backend: string }).backend;
    for (const c of CONCURRENCY) {
      const runs: Record<string, LoadResult[]> = { batched: [], unbatched: [] };
      for (const mode of modes) await load(servers[mode.name]!.url, c, { duration: 2 }); // warm-up
      for (let r = 0; r < RUNS; r++) {
        for (const mode of modes) runs[mode.name]!.push(await load(servers[mode.name]!.url, c, { duration: RUN_SECONDS }));
      }
      for (const mode of modes) {
        const rs = runs[mode.name]!;
        const point: LoadResult = {
          requestsPerSec: median(rs.map((x) => x.requestsPerSec)),
          p50: median(rs.map((x) => x.p50)),
          p99: median(rs.map((x) => x.p99)),
          errors: rs.reduce((a, x) => a + x.errors, 0),
          non2xx: rs.reduce((a, x) => a + x.non2xx, 0),
        };
        points[mode.name]![c] = point;
        console.log(`${mode.name} c=${c}: ${point.requestsPerSec.toFixed(0)} req/s p50 ${point.p50} ms p99 ${point.p99} ms (runs: ${rs.map((x) => x.requestsPerSec.toFixed(0)).join(', ')})`);
      }
    }
    await servers.unbatched!.stop();
    delete servers.unbatched;
    const server = servers.batched!;
    generation = await generationSpeed(server.url);
    console.log(`generation: ${generation.tokensPerSec.toFixed(1)} tokens/s (JSON), ${generation.streamTokensPerSec.toFixed(1)} (SSE)`);
    memory.push({ requests: 0, ...(await scrape(server.url)) });
    const step = MEMORY_REQUESTS / 5;
    for (let done = 0; done < MEMORY_REQUESTS; done += step) {
      const r = await load(server.url, 16, { amount: step });
      if (r.errors || r.non2xx) throw new Error(`memory run had ${r.errors} errors and ${r.non2xx} non-2xx answers`);
      memory.push({ requests: done + step, ...(await scrape(server.url)) });
    }
    console.log('memory', memory);
  } finally {
    for (const server of Object.values(servers)) await server.stop();
  }
  if (tmp) await rm(tmp, { recursive: true, force: true });

  const rows = CONCURRENCY.map((c) => {
    const b = points.batched![c]!;
    const u = points.unbatched![c]!;
    return {
      connections: c,
      'batched req/s': b.requestsPerSec,
      'batched p50 ms': b.p50,
      'batched p99 ms': b.p99,
      'unbatched req/s': u.requestsPerSec,
      'unbatched p50 ms': u.p50,
      'unbatched p99 ms': u.p99,
      'ratio (req/s)': u.requestsPerSec > 0 ? b.requestsPerSec / u.requestsPerSec : null,
      errors: b.errors + u.errors + b.non2xx + u.non2xx,
    };
  });
  const first = memory[0]!;
  const last = memory.at(-1)!;
  // RSS moves by tens of MB as V8 collects garbage, so "flat" is judged by the trend (least-squares
  // slope over the samples) next to the range, not by two end points.
  const xs = memory.map((m) => m.requests / 1000);
  const ys = memory.map((m) => m.rssMb);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const slope = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  const flat = {
    tensorsFlat: memory.every((m) => m.tensors === first.tensors),
    rssStartMb: first.rssMb,
    rssEndMb: last.rssMb,
    rssRangeMb: Math.max(...ys) - Math.min(...ys),
    rssSlopeMbPer1kRequests: slope,
  };
  console.log(`\nPOST /v1/sentiment, one sentence per request, backend ${backend}, ${modelNote}; load average ${loadBefore.map((l) => l.toFixed(1)).join(' ')}`);
  console.log(formatTable(rows));
  console.log(
    `\ngeneration (200 tokens, 1 stream): ${generation!.tokensPerSec.toFixed(1)} tokens/s JSON, ${generation!.streamTokensPerSec.toFixed(1)} tokens/s SSE, first token ${generation!.firstTokenMs.toFixed(0)} ms`,
  );
  console.log(formatTable(memory.map((m) => ({ requests: m.requests, 'tf.memory().numTensors': m.tensors, 'RSS MB': m.rssMb }))));
  console.log(
    `tensors flat: ${flat.tensorsFlat}; RSS ${flat.rssStartMb.toFixed(1)} -> ${flat.rssEndMb.toFixed(1)} MB, range ${flat.rssRangeMb.toFixed(1)} MB, trend ${flat.rssSlopeMbPer1kRequests.toFixed(2)} MB per 1000 requests`,
  );
  const file = await writeResults('api', `npm run bench:api${args.size ? ` -- ${[...args].join(' ')}` : ''}`, {
    backend,
    models: modelNote,
    // Other jobs share this machine; its load average says how much of the CPU the bench had.
    loadAverage: { before: loadBefore, after: os.loadavg() },
    settings: { runSeconds: RUN_SECONDS, runs: RUNS, workers: 2, batched: modes[0]!.env, unbatched: modes[1]!.env },
    sentiment: rows,
    generation,
    memory,
    flat,
  });
  console.log(`wrote ${path.relative(REPO_ROOT, file)}`);
}

await main();
