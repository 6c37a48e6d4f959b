/**
 * bench:abuse - the HTTP service under abuse, in one bounded loopback run (about two minutes).
 *
 * Starts `apps/api` like `npm start` (default models, 2 workers, FAULT_INJECTION=on so that
 * POST /debug/fault can make a worker hit a real wasm trap, FORECAST_NEURAL=on so neural option
 * abuse reaches validation). Then:
 *   1. warm-up: WARMUP_SECONDS of the abuse below (heaps and caches reach their working size);
 *   2. unloaded: one client, in a thread of its own, sends single-sentence sentiment requests
 *      back to back (p50 / p99);
 *   3. abuse, for ABUSE_SECONDS, all at once:
 *      - a fuzz mix of malformed requests (bad JSON, wrong types, out-of-range and overflowing
 *        numbers, oversized bodies, path-traversal model names, over-limit costs, ...);
 *      - a flood of valid, expensive requests (beam search, long streams, near-limit forecasts)
 *        whose clients abandon them after 50-400 ms;
 *      - a worker fault injected every FAULT_EVERY_MS, timing how long until a replacement is ready;
 *      - the same sentiment probe, measuring latency under abuse;
 *   4. after a cool-down: the unloaded probe again, live tensors and RSS against the start.
 * Goals: 0 5xx answers to bad input, sentiment p99 under abuse <= 3x unloaded (the probes before
 * and after pooled: other jobs on a shared machine come and go), every fault followed by a ready
 * replacement within 5 s, tensors and RSS flat. Writes results/abuse.json.
 *
 *   npm run bench:abuse [-- --quick]
 */
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { SeededRandom } from '@seqlab/core';
import { REPO_ROOT, defaultModelDir, formatTable, hasModel, writeResults } from './lib/report.js';
import { sst2DevSentences, startApi } from './lib/server.js';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const PROBE_SECONDS = QUICK ? 8 : 20;
const WARMUP_SECONDS = QUICK ? 8 : 15;
const ABUSE_SECONDS = QUICK ? 20 : 60;
const FAULT_EVERY_MS = QUICK ? 6_000 : 12_000;
const FUZZ_CLIENTS = 2;
const FLOOD_CLIENTS = 6;
const WORKERS = 2;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** One HTTP request as the fuzzer sends it. */
interface Req {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
}

const json = (name: string, route: string, body: unknown): Req => ({
  name,
  path: route,
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

function seasonal(n: number, scale = 1): number[] {
  return Array.from({ length: n }, (_, i) => Math.round(scale * (100 + 10 * Math.sin((2 * Math.PI * i) / 12) + (i % 7))));
}

/** Malformed or over-limit requests: every one must get a 4xx. */
function fuzzCases(): Req[] {
  const nested = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
  const s = seasonal(200);
  return [
    json('invalid JSON', '/v1/sentiment', '{"texts": ["unterminated'),
    json('JSON array body', '/v1/sentiment', '[1, 2, 3]'),
    json('JSON null body', '/v1/sentiment', 'null'),
    json('NaN literal', '/v1/forecast', '{"series": [1, NaN, 3], "horizon": 2}'),
    json('number overflowing to Infinity', '/v1/forecast', '{"series": [1, 2, 3, 4], "horizon": 1e400}'),
    json('deeply nested JSON', '/v1/sentiment', nested),
    { name: 'text/plain body', path: '/v1/sentiment', headers: { 'content-type': 'text/plain' }, body: 'hello' },
    { name: 'utf-16 charset', path: '/v1/sentiment', headers: { 'content-type': 'application/json; charset=utf-16' }, body: '{"texts":["x"]}' },
    { name: 'gzip claimed, garbage sent', path: '/v1/sentiment', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: 'not gzip' },
    { name: 'invalid UTF-8', path: '/v1/sentiment', headers: { 'content-type': 'application/json' }, body: new Uint8Array([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
    json('200 KB body', '/v1/sentiment', { texts: ['x'.repeat(200_000)] }),
    json('texts not an array', '/v1/sentiment', { texts: 'hello' }),
    json('empty texts', '/v1/sentiment', { texts: [] }),
    json('too many texts', '/v1/sentiment', { texts: Array.from({ length: 1000 }, () => 'a') }),
    json('text too long', '/v1/sentiment', { texts: ['y'.repeat(2001)] }),
    json('unknown field', '/v1/sentiment', { texts: ['ok'], extra: 1 }),
    json('path traversal model', '/v1/sentiment', { texts: ['ok'], model: '../../etc/passwd' }),
    json('unknown model', '/v1/sentiment', { texts: ['ok'], model: 'no-such-model' }),
    json('empty prompt', '/v1/generate', { prompt: '' }),
    json('prompt over the cap', '/v1/generate', { prompt: 'p'.repeat(3000) }),
    json('negative maxTokens', '/v1/generate', { prompt: 'x', maxTokens: -1 }),
    json('huge maxTokens', '/v1/generate', { prompt: 'x', maxTokens: 1e9 }),
    json('string temperature', '/v1/generate', { prompt: 'x', temperature: 'hot' }),
    json('beam too wide', '/v1/generate', { prompt: 'x', beam: 9 }),
    json('streamed beam search', '/v1/generate', { prompt: 'x', beam: 2, stream: true }),
    json('generation over the step limit (422)', '/v1/generate', { prompt: 'q'.repeat(2000), beam: 8, maxTokens: 500 }),
    json('horizon 0', '/v1/forecast', { series: s, horizon: 0 }),
    json('non-numeric values', '/v1/forecast', { series: [1, 'two', 3], horizon: 1 }),
    json('series and columns', '/v1/forecast', { series: s, columns: { a: s }, horizon: 2 }),
    json('ragged columns', '/v1/forecast', { columns: { a: s, b: s.slice(1) }, horizon: 2 }),
    json('bad model name', '/v1/forecast', { series: s, horizon: 2, model: 'Nope!' }),
    json('unknown forecaster', '/v1/forecast', { series: s, horizon: 2, model: 'prophet' }),
    json('segrnn hidden 1e9', '/v1/forecast', { series: s, horizon: 2, model: 'segrnn', options: { hidden: 1e9 } }),
    json('segrnn hidden 4096 (422)', '/v1/forecast', { series: s, horizon: 2, model: 'segrnn', options: { hidden: 4096 } }),
    json('learningRate 1e308', '/v1/forecast', { series: s, horizon: 2, model: 'seq2seq', options: { learningRate: 1e308 } }),
    json('holt-winters phi 1e308', '/v1/forecast', { series: s, horizon: 2, model: 'holt-winters', options: { phi: 1e308 } }),
    json('negative season', '/v1/forecast', { series: s, horizon: 2, model: 'seasonal-naive', options: { season: -1 } }),
    json('lookback 1e9', '/v1/forecast', { series: s, horizon: 2, model: 'linear', options: { lookback: 1e9 } }),
    json('series of ~1e308 values', '/v1/forecast', { series: seasonal(48, 1e306), horizon: 3, model: 'holt-winters' }),
    json('probe forecast: 12,000 rows, lookback 4000, horizon 1000 (422)', '/v1/forecast', { series: seasonal(12_000), horizon: 1000, model: 'linear', options: { lookback: 4000 } }),
    { name: 'GET on a POST route', method: 'GET', path: '/v1/forecast' },
    { name: 'PUT on a POST route', method: 'PUT', path: '/v1/generate', headers: { 'content-type': 'application/json' }, body: '{}' },
    { name: 'unknown path', method: 'GET', path: '/v1/../../etc/passwd' },
  ];
}

/** Valid requests that cost real work; their clients give up after 50-400 ms. */
function expensiveCases(): Req[] {
  return [
    json('beam search 4 x 500 tokens, 1,500-char prompt', '/v1/generate', { prompt: 'ROMEO: '.repeat(214), beam: 4, maxTokens: 500 }),
    { ...json('stream of 500 tokens', '/v1/generate', { prompt: 'JULIET: '.repeat(125), maxTokens: 500, stream: true }), headers: { 'content-type': 'application/json', accept: 'text/event-stream' } },
    json('linear forecast near the work limit', '/v1/forecast', { series: seasonal(5000), horizon: 48, model: 'linear', options: { lookback: 300 } }),
    json('segrnn forecast', '/v1/forecast', { series: seasonal(2000), horizon: 24, model: 'segrnn', options: { lookback: 96, hidden: 32, epochs: 1 } }),
  ];
}

async function send(url: string, r: Req, signal?: AbortSignal): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${url}${r.path}`, { method: r.method ?? 'POST', headers: r.headers, body: r.body, signal });
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    // Not JSON (static 404 page, SSE): the status says enough.
  }
  return { status: res.status, code };
}

interface ProbeResult {
  latencies: number[];
  /** Epoch milliseconds at which each request was sent. */
  at: number[];
  statuses: Record<string, number>;
}

// The probe runs in a thread of its own: measured in the thread that also drives the fuzz and the
// flood, every latency would include that event loop's backlog rather than the service's.
const PROBE_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { url, texts, until } = workerData;
  const latencies = [];
  const at = [];
  const statuses = {};
  for (let i = 0; Date.now() < until; i++) {
    const sent = Date.now();
    const t0 = performance.now();
    const res = await fetch(url + '/v1/sentiment', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ texts: [texts[i % texts.length]] }) });
    await res.arrayBuffer();
    latencies.push(performance.now() - t0);
    at.push(sent);
    statuses[res.status] = (statuses[res.status] || 0) + 1;
  }
  parentPort.postMessage({ latencies, at, statuses });
})();
`;

/** Sends single-sentence sentiment requests back to back from a separate thread until `until` (epoch ms). */
function probe(url: string, until: number): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(PROBE_THREAD, { eval: true, workerData: { url, texts: sst2DevSentences(), until } });
    worker.once('message', (r: ProbeResult) => {
      resolve(r);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

async function scrape(url: string): Promise<{ tensors: number; rssMb: number; replacements: number; stuck: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  return {
    tensors: value(/^seqlab_tensors_in_memory ([0-9.e+]+)/m),
    rssMb: value(/^seqlab_process_resident_memory_bytes ([0-9.e+]+)/m) / 2 ** 20,
    replacements: [...text.matchAll(/^seqlab_worker_replacements_total\{[^}]*\} ([0-9.e+]+)/gm)].reduce((a, m) => a + Number(m[1]), 0),
    stuck: value(/^seqlab_worker_replacements_total\{reason="stuck"\} ([0-9.e+]+)/m),
  };
}

interface Health {
  capacity: { workers: number; ready: number; replacing: number; replacements: number; queued: number; running: number };
}

async function health(url: string): Promise<Health> {
  return (await (await fetch(`${url}/readyz`)).json()) as Health;
}

async function main(): Promise<void> {
  const sentimentModel = defaultModelDir('sentiment');
  const generatorModel = defaultModelDir('text-generation');
  for (const [dir, task] of [[sentimentModel, 'sentiment'], [generatorModel, 'text-generation']] as const) {
    if (!(await hasModel(dir, task))) throw new Error(`bench:abuse needs the default ${task} model in ${path.relative(REPO_ROOT, dir)}`);
  }
  const loadBefore = os.loadavg();
  console.log(`bench:abuse - ${PROBE_SECONDS} s unloaded probe, ${ABUSE_SECONDS} s of abuse, ${os.cpus().length} CPUs, load ${loadBefore.map((l) => l.toFixed(1)).join(' ')}`);
  const settings = {
    WORKERS: String(WORKERS),
    SENTIMENT_MODEL: sentimentModel,
    GENERATOR_MODEL: generatorModel,
    EMBEDDINGS: 'off',
    FORECAST_NEURAL: 'on',
    FAULT_INJECTION: 'on',
    RATE_LIMIT_MAX: '0',
    DRAIN_MS: '0',
    // glibc gives every thread its own malloc arena; each replaced worker thread otherwise leaves
    // a fragmented one behind (about +11 MB of RSS per replacement under load, measured while
    // building this bench). The API README recommends the same setting for deployments.
    MALLOC_ARENA_MAX: '2',
  };
  const server = await startApi(settings);
  const url = server.url;
  const backend = ((await (await fetch(`${url}/readyz`)).json()) as { backend: string }).backend;
  let exitCode: number | null = null;
  try {
    const rng = new SeededRandom(14);
    const fuzz = fuzzCases();
    const expensive = expensiveCases();
    // A warm-up round of the same abuse first: the heaps and caches reach their working size, so
    // the memory baseline taken after it shows growth, not warm-up.
    let abuseEnd = Date.now() + WARMUP_SECONDS * 1000;
    const over = () => Date.now() > abuseEnd;
    const fuzzStatus: Record<string, Record<string, number>> = {};
    const fuzz5xx: Array<{ name: string; status: number; code?: string }> = [];
    let fuzzSent = 0;
    let fuzzErrors = 0;
    const fuzzLoop = async () => {
      while (!over()) {
        const r = fuzz[rng.int(fuzz.length)]!;
        try {
          const { status, code } = await send(url, r);
          fuzzSent++;
          const byName = (fuzzStatus[r.name] ??= {});
          byName[status] = (byName[status] ?? 0) + 1;
          if (status >= 500) fuzz5xx.push({ name: r.name, status, code });
        } catch {
          fuzzErrors++;
        }
        await sleep(10);
      }
    };
    const flood = { sent: 0, abandoned: 0, finished: 0, statuses: {} as Record<string, number> };
    const floodLoop = async () => {
      while (!over()) {
        const r = expensive[rng.int(expensive.length)]!;
        const controller = new AbortController();
        const timer = setTimeout(() => controller.abort(), 50 + rng.int(350));
        flood.sent++;
        try {
          const { status, code } = await send(url, r, controller.signal);
          flood.finished++;
          const key = status === 200 ? '200' : `${status} ${code ?? ''}`.trim();
          flood.statuses[key] = (flood.statuses[key] ?? 0) + 1;
        } catch {
          flood.abandoned++;
        } finally {
          clearTimeout(timer);
        }
      }
    };
    let abuseStart = performance.now();
    let abuseStartEpoch = Date.now();
    const faults: Array<{ atSecond: number; faultMs: number; replacedMs: number; message: string }> = [];
    const faultLoop = async () => {
      await sleep(FAULT_EVERY_MS / 2);
      while (Date.now() + 6000 < abuseEnd) {
        const t0 = performance.now();
        const res = await fetch(`${url}/debug/fault`, { method: 'POST' });
        const body = (await res.json()) as { fault?: string };
        const faulted = performance.now();
        // Replaced once every configured worker is ready again (the fault's worker was retired at `faulted`).
        let replacedMs = NaN;
        while (performance.now() - faulted < 15_000) {
          const h = await health(url);
          if (h.capacity.replacing === 0 && h.capacity.ready === h.capacity.workers) {
            replacedMs = performance.now() - faulted;
            break;
          }
          await sleep(25);
        }
        faults.push({ atSecond: (faulted - abuseStart) / 1000, faultMs: faulted - t0, replacedMs, message: body.fault ?? `HTTP ${res.status}` });
        console.log(`fault: ${body.fault ?? res.status}; replacement ready after ${replacedMs.toFixed(0)} ms`);
        await sleep(Math.max(0, FAULT_EVERY_MS - (performance.now() - t0)));
      }
    };
    const samples: Array<{ second: number; tensors: number; rssMb: number }> = [];
    const sampleLoop = async () => {
      const t0 = Date.now();
      while (!over()) {
        const m = await scrape(url);
        samples.push({ second: Math.round((Date.now() - t0) / 1000), tensors: m.tensors, rssMb: m.rssMb });
        await sleep(5000);
      }
    };
    const idle = async () => {
      const t0 = Date.now();
      for (;;) {
        const h = await health(url);
        if ((h.capacity.queued === 0 && h.capacity.running === 0 && h.capacity.ready === WORKERS) || Date.now() - t0 > 30_000) return Date.now() - t0;
        await sleep(100);
      }
    };
    await Promise.all([...Array.from({ length: FUZZ_CLIENTS }, fuzzLoop), ...Array.from({ length: FLOOD_CLIENTS }, floodLoop), faultLoop()]);
    await idle();
    await probe(url, Date.now() + 3000);
    const unloaded = await probe(url, Date.now() + PROBE_SECONDS * 1000);
    console.log(`unloaded: ${unloaded.latencies.length} requests, p50 ${percentile(unloaded.latencies, 50).toFixed(1)} ms, p99 ${percentile(unloaded.latencies, 99).toFixed(1)} ms`);
    const start = await scrape(url);

    abuseEnd = Date.now() + ABUSE_SECONDS * 1000;
    abuseStart = performance.now();
    abuseStartEpoch = Date.now();
    const [underAbuse] = await Promise.all([
      probe(url, abuseEnd),
      ...Array.from({ length: FUZZ_CLIENTS }, fuzzLoop),
      ...Array.from({ length: FLOOD_CLIENTS }, floodLoop),
      faultLoop(),
      sampleLoop(),
    ]);
    console.log(`under abuse: ${underAbuse.latencies.length} requests, p50 ${percentile(underAbuse.latencies, 50).toFixed(1)} ms, p99 ${percentile(underAbuse.latencies, 99).toFixed(1)} ms`);
    // The slowest probe requests, with when they were sent: do they line up with the faults?
    const slowest = underAbuse.latencies
      .map((ms, i) => ({ atSecond: (underAbuse.at[i]! - abuseStartEpoch) / 1000, ms }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 10);

    // Cool-down: abandoned work drains, replacements finish; then memory against the start.
    const drainedMs = await idle();
    // The unloaded probe again: the service is back to its unloaded latency. On a shared machine
    // other jobs' load comes and goes, so the baseline pools the probes before and after.
    const after = await probe(url, Date.now() + PROBE_SECONDS * 1000);
    const finish = await scrape(url);
    samples.push({ second: ABUSE_SECONDS + Math.round(drainedMs / 1000), tensors: finish.tensors, rssMb: finish.rssMb });
    exitCode = await server.stop();

    // RSS moves by tens of MB with garbage collection, so the trend (least-squares slope over the
    // samples) says more than two end points.
    const xs = samples.map((m) => m.second / 60);
    const ys = samples.map((m) => m.rssMb);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    const rssTrend = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
    const unloadedP99 = percentile([...unloaded.latencies, ...after.latencies], 99);
    const abuseP99 = percentile(underAbuse.latencies, 99);
    const nonOkProbe = Object.entries(underAbuse.statuses).filter(([s]) => s !== '200');
    const goals = {
      'no 5xx from bad input': { value: fuzz5xx.length, goal: 0, met: fuzz5xx.length === 0 },
      'sentiment p99 under abuse / unloaded (before and after pooled)': {
        value: `${abuseP99.toFixed(0)} / ${unloadedP99.toFixed(0)} ms = ${(abuseP99 / unloadedP99).toFixed(2)}`,
        goal: '<= 3',
        met: abuseP99 <= 3 * unloadedP99,
      },
      'every fault replaced within 5 s': {
        value: `${faults.filter((f) => f.replacedMs <= 5000).length} of ${faults.length} (max ${Math.max(...faults.map((f) => f.replacedMs)).toFixed(0)} ms)`,
        goal: 'all',
        met: faults.length > 0 && faults.every((f) => f.replacedMs <= 5000),
      },
      'tensors flat': { value: `${start.tensors} -> ${finish.tensors}`, goal: 'equal', met: finish.tensors === start.tensors },
      'RSS flat': {
        value: `${start.rssMb.toFixed(0)} -> ${finish.rssMb.toFixed(0)} MB, trend ${rssTrend.toFixed(1)} MB/min`,
        goal: '< +64 MB',
        met: finish.rssMb - start.rssMb < 64,
      },
    };
    const latencyRows = [
      { phase: 'unloaded, before', requests: unloaded.latencies.length, 'p50 ms': percentile(unloaded.latencies, 50), 'p99 ms': percentile(unloaded.latencies, 99), 'max ms': Math.max(...unloaded.latencies), 'non-200': 0 },
      {
        phase: 'under abuse',
        requests: underAbuse.latencies.length,
        'p50 ms': percentile(underAbuse.latencies, 50),
        'p99 ms': abuseP99,
        'max ms': Math.max(...underAbuse.latencies),
        'non-200': nonOkProbe.reduce((a, [, n]) => a + n, 0),
      },
      { phase: 'unloaded, after', requests: after.latencies.length, 'p50 ms': percentile(after.latencies, 50), 'p99 ms': percentile(after.latencies, 99), 'max ms': Math.max(...after.latencies), 'non-200': Object.entries(after.statuses).filter(([s]) => s !== '200').reduce((a, [, n]) => a + n, 0) },
    ];
    const fuzzRows = Object.entries(fuzzStatus)
      .map(([name, byStatus]) => ({ request: name, answers: Object.entries(byStatus).map(([s, n]) => `${s} x${n}`).join(', ') }))
      .sort((a, b) => a.request.localeCompare(b.request));
    const loadAfter = os.loadavg();
    console.log(`\nsentiment latency (1 client, one sentence per request), backend ${backend}, load ${loadBefore.map((l) => l.toFixed(1)).join(' ')} -> ${loadAfter.map((l) => l.toFixed(1)).join(' ')}`);
    console.log(formatTable(latencyRows));
    console.log(`\nfuzz: ${fuzzSent} malformed requests (${fuzzErrors} transport errors), ${fuzz5xx.length} answered 5xx`);
    console.log(formatTable(fuzzRows));
    console.log(`\nflood: ${flood.sent} expensive requests, ${flood.abandoned} abandoned by their clients, ${flood.finished} answered (${JSON.stringify(flood.statuses)}); workers replaced for not stopping after cancellation: ${finish.stuck}`);
    console.log(formatTable(faults.map((f, i) => ({ fault: i + 1, 'at s': f.atSecond, 'trap answered ms': f.faultMs, 'replacement ready ms': f.replacedMs, message: f.message }))));
    console.log(`slowest sentiment requests under abuse: ${slowest.map((x) => `${x.ms.toFixed(0)} ms at ${x.atSecond.toFixed(1)} s`).join(', ')}`);
    console.log(formatTable(samples.map((s) => ({ second: s.second, 'tf.memory().numTensors': s.tensors, 'RSS MB': s.rssMb }))));
    console.log(`\n${formatTable(Object.entries(goals).map(([goal, g]) => ({ goal, value: g.value, target: g.goal, met: g.met })))}`);
    console.log(`server exit code after SIGTERM: ${exitCode}`);

    const file = await writeResults('abuse', `npm run bench:abuse${args.size ? ` -- ${[...args].join(' ')}` : ''}`, {
      backend,
      models: `sentiment: ${path.relative(REPO_ROOT, sentimentModel)} (default); generator: ${path.relative(REPO_ROOT, generatorModel)} (default)`,
      // Other jobs share this machine; its load average says how much of the CPU the bench had.
      loadAverage: { before: loadBefore, after: loadAfter },
      settings: { ...settings, SENTIMENT_MODEL: path.relative(REPO_ROOT, sentimentModel), GENERATOR_MODEL: path.relative(REPO_ROOT, generatorModel), warmupSeconds: WARMUP_SECONDS, probeSeconds: PROBE_SECONDS, abuseSeconds: ABUSE_SECONDS, faultEveryMs: FAULT_EVERY_MS, fuzzClients: FUZZ_CLIENTS, floodClients: FLOOD_CLIENTS },
      goals,
      latency: latencyRows,
      fuzz: { sent: fuzzSent, transportErrors: fuzzErrors, fiveXx: fuzz5xx.slice(0, 20), byRequest: fuzzRows },
      flood: { ...flood, stuckWorkersReplaced: finish.stuck, cases: expensiveCases().map((c) => c.name) },
      faults,
      slowestUnderAbuse: slowest,
      memory: { start: { tensors: start.tensors, rssMb: start.rssMb }, end: { tensors: finish.tensors, rssMb: finish.rssMb }, rssTrendMbPerMinute: rssTrend, samples, drainedMs },
      exitCodeAfterSigterm: exitCode,
    });
    console.log(`wrote ${path.relative(REPO_ROOT, file)}`);
  } finally {
    if (exitCode === null) await server.stop();
  }
}

await main();
