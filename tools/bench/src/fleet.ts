/**
 * bench:fleet - the multi-replica topology of docker-compose.yml, run as processes on loopback:
 * HAProxy (deploy/haproxy.cfg) in front of 3 API replicas, 2 job workers and a Redis of its own
 * (append-only file on), all in a temporary folder with a copy of the sentiment model as a
 * versioned model store, so nothing in the repository changes.
 *
 * Under a constant single-sentence sentiment load through HAProxy it measures:
 *   (a) rolling restart: SIGTERM to each replica in turn (it drains: /readyz 503, still serving),
 *       restart, wait until HAProxy has it back up;
 *   (b) replica kill: SIGKILL one replica; failures before and after HAProxy marks it down;
 *   (c) worker kill: training jobs submitted over HTTP, the worker running one SIGKILLed
 *       mid-training (and restarted), at least 5 times; then every job's fate and every model's
 *       versions (lost = not completed, duplicated = a job published more than once);
 *   (d) publish: a new version of the served model published into the store; requests during
 *       the swap and seconds until every replica serves it;
 * and the wall time of one `auto` training job with 1 and with 2 workers running (medians of 3,
 * interleaved, without the serving load).
 * Writes results/fleet.json.
 *
 *   npm run bench:fleet [-- --quick] [-- --skip-jobs | --jobs-only]
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ModelStore, train } from '@seqlab/tasks';
import { HAPROXY_CONFIG, exited, haproxyEnv, launch, serverStates, socketExchange, until, type Proc } from './lib/fleet.js';
import { REPO_ROOT, dataPath, defaultModelDir, formatTable, median, readResultsRun, writeResults } from './lib/report.js';
import { freePort, sst2DevSentences } from './lib/server.js';
import { AUTO_TEXT_CLASSIFICATION_OPTIONS, writeTrecJsonl } from './auto-training-flow.js';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const SKIP_JOBS = args.has('--skip-jobs');
/** Only the job scenarios (worker kills, auto training): for working on them. */
const JOBS_ONLY = args.has('--jobs-only');
const REPLICAS = 3;
const WORKER_PROCESSES = 2;
const LOAD_CLIENTS = 4;
const WORKER_KILLS = QUICK ? 2 : 5;
/** Timings of one auto training per setting (1 and 2 workers); the medians are reported. */
const AUTO_REPEATS = QUICK ? 1 : 3;
/** Seconds of load after a scenario's last action, so late failures are counted too. */
const SETTLE_SECONDS = QUICK ? 2 : 5;
const MODEL_NAME = 'sentiment';
const HAPROXY = process.env.HAPROXY ?? '/usr/sbin/haproxy';
const REDIS = process.env.REDIS_SERVER ?? 'redis-server';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function startRedis(dir: string): Promise<{ proc: Proc; url: string }> {
  const port = await freePort();
  const proc = launch('redis', REDIS, ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--protected-mode', 'no'], {});
  await until('redis PING', proc, 20_000, async () => ((await socketExchange({ port, host: '127.0.0.1' }, 'PING\r\n')).startsWith('+PONG') ? true : undefined));
  return { proc, url: `redis://127.0.0.1:${port}` };
}

/** Everything the fleet's processes share. */
interface Fleet {
  dir: string;
  modelsDir: string;
  redisUrl: string;
  keysFile: string;
  apiKey: string;
  socket: string;
  lbUrl: string;
  ports: number[];
  replicas: Proc[];
  workers: Proc[];
  haproxy?: Proc;
  redis?: Proc;
}

function replicaEnv(fleet: Fleet, port: number): Record<string, string> {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    SEQLAB_MODELS: fleet.modelsDir,
    SENTIMENT_MODEL: MODEL_NAME,
    GENERATOR_MODEL: 'off',
    EMBEDDINGS: 'off',
    // One model worker per replica: three replicas share two cores with the job workers.
    WORKERS: '1',
    SPARE_WORKERS: '0',
    RATE_LIMIT_MAX: '0',
    // HAProxy checks every 250-500 ms and needs two failures: 3 s of drain is several checks.
    DRAIN_MS: '3000',
    SHUTDOWN_TIMEOUT_MS: '10000',
    LOG_LEVEL: 'warn',
    SEQLAB_REDIS_URL: fleet.redisUrl,
    SEQLAB_API_KEYS: fleet.keysFile,
    MALLOC_ARENA_MAX: '2',
  };
}

async function startReplica(fleet: Fleet, i: number): Promise<Proc> {
  const port = fleet.ports[i]!;
  const proc = launch(`api${i + 1}`, process.execPath, ['--conditions=@seqlab/source', '--import', 'tsx', 'apps/api/src/main.ts'], replicaEnv(fleet, port));
  await until(`api${i + 1} /readyz`, proc, 240_000, async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined));
  fleet.replicas[i] = proc;
  return proc;
}

async function startWorker(fleet: Fleet, i: number): Promise<Proc> {
  const argv = ['--conditions=@seqlab/source', '--import', 'tsx', 'packages/jobs/src/worker-main.ts', '--redis-url', fleet.redisUrl, '--models', fleet.modelsDir];
  // A killed worker's job is taken over after its lock lapses: short locks make that seconds.
  argv.push('--lock-duration-ms', '5000', '--stalled-interval-ms', '2000');
  const proc = launch(`worker${i + 1}`, process.execPath, argv, { MALLOC_ARENA_MAX: '2' });
  await until(`worker${i + 1} ready`, proc, 120_000, async () => (proc.output.some((l) => l.includes('ready')) ? true : undefined));
  fleet.workers[i] = proc;
  return proc;
}

/** Stops worker `i` (SIGTERM: it finishes or hands back its job) and waits for it to exit. */
async function stopWorker(fleet: Fleet, i: number): Promise<void> {
  const proc = fleet.workers[i]!;
  proc.child.kill('SIGTERM');
  await exited(proc);
}

async function waitServer(fleet: Fleet, name: string, status: 'UP' | 'DOWN', timeoutMs = 60_000): Promise<number> {
  const t0 = Date.now();
  await until(`haproxy: ${name} ${status}`, fleet.haproxy, timeoutMs, async () => ((await serverStates(fleet.socket)).get(name)?.status.startsWith(status) ? true : undefined));
  return Date.now() - t0;
}

async function startHaproxy(fleet: Fleet, lbPort: number): Promise<Proc> {
  const env = haproxyEnv(lbPort, fleet.ports, await freePort(), fleet.socket);
  const proc = launch('haproxy', HAPROXY, ['-db', '-f', HAPROXY_CONFIG], env);
  fleet.haproxy = proc;
  for (let i = 0; i < REPLICAS; i++) await waitServer(fleet, `api${i + 1}`, 'UP', 30_000);
  return proc;
}

/** One answered (or failed) request of the constant load. */
interface Outcome {
  /** Epoch ms when it was sent. */
  at: number;
  /** HTTP status, or 0 for a transport error (reset, refused, timeout). */
  status: number;
}

/**
 * The constant load: `clients` loops, each sending one single-sentence sentiment request through
 * HAProxy as soon as the previous one is answered. Every outcome is kept with its send time, so
 * each scenario counts the requests sent inside its window.
 */
class SentimentLoad {
  readonly outcomes: Outcome[] = [];
  private running = true;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly url: string,
    private readonly clients: number,
  ) {}

  start(): void {
    this.running = true;
    const texts = sst2DevSentences();
    this.loops = Array.from({ length: this.clients }, async (_, c) => {
      for (let i = c; this.running; i += this.clients) {
        const at = Date.now();
        let status: number;
        try {
          const res = await fetch(`${this.url}/v1/sentiment`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ texts: [texts[i % texts.length]] }),
            signal: AbortSignal.timeout(30_000),
          });
          await res.arrayBuffer();
          status = res.status;
        } catch {
          status = 0;
        }
        this.outcomes.push({ at, status });
      }
    });
  }

  /** Requests sent in [from, to) and how many of them did not get a 200. */
  window(from: number, to = Date.now()): { requests: number; failed: number; statuses: Record<string, number> } {
    const inside = this.outcomes.filter((o) => o.at >= from && o.at < to);
    const statuses: Record<string, number> = {};
    for (const o of inside) if (o.status !== 200) statuses[o.status === 0 ? 'transport error' : String(o.status)] = (statuses[o.status === 0 ? 'transport error' : String(o.status)] ?? 0) + 1;
    return { requests: inside.length, failed: inside.filter((o) => o.status !== 200).length, statuses };
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

/** (a) SIGTERM each replica in turn, restart it on its port, wait until HAProxy has it back. */
async function rollingRestart(fleet: Fleet, load: SentimentLoad) {
  const t0 = Date.now();
  const steps: Array<{ replica: string; exitCode: number | null; drainedMs: number; restartMs: number; backUpMs: number }> = [];
  for (let i = 0; i < REPLICAS; i++) {
    const name = `api${i + 1}`;
    const old = fleet.replicas[i]!;
    const s0 = Date.now();
    old.child.kill('SIGTERM');
    const drainedMs = await waitServer(fleet, name, 'DOWN');
    const exitCode = await exited(old);
    const r0 = Date.now();
    await startReplica(fleet, i);
    const restartMs = Date.now() - r0;
    await waitServer(fleet, name, 'UP');
    steps.push({ replica: name, exitCode, drainedMs, restartMs, backUpMs: Date.now() - s0 });
    console.log(`rolling restart: ${name} exit ${exitCode}, out of rotation after ${drainedMs} ms, back after ${((Date.now() - s0) / 1000).toFixed(1)} s`);
  }
  await sleep(SETTLE_SECONDS * 1000);
  return { ...load.window(t0), seconds: (Date.now() - t0) / 1000, steps };
}

/** (b) SIGKILL one replica: failures while HAProxy still routes to it, and after it marks it down. */
async function replicaKill(fleet: Fleet, load: SentimentLoad) {
  const i = 1;
  const name = `api${i + 1}`;
  const inFlight = (await serverStates(fleet.socket)).get(name)?.sessions ?? NaN;
  const t0 = Date.now();
  fleet.replicas[i]!.child.kill('SIGKILL');
  await exited(fleet.replicas[i]!);
  const downMs = await waitServer(fleet, name, 'DOWN');
  const down = Date.now();
  await sleep(SETTLE_SECONDS * 1000);
  const before = load.window(t0, down);
  const after = load.window(down);
  console.log(`replica kill: ${name} down after ${downMs} ms; ${before.failed} failed before, ${after.failed} after`);
  await startReplica(fleet, i);
  await waitServer(fleet, name, 'UP');
  return {
    requests: before.requests + after.requests,
    failed: before.failed + after.failed,
    inFlightAtKill: inFlight,
    markedDownMs: downMs,
    failedBeforeDown: before.failed,
    failedAfterDown: after.failed,
    statuses: { ...before.statuses, ...after.statuses },
  };
}

/** The answer of one replica (bypassing HAProxy) for the probe sentence: its probabilities as text. */
async function replicaAnswer(port: number, text: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/sentiment`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ texts: [text] }) });
  if (!res.ok) throw new Error(`replica on port ${port} answered ${res.status}`);
  return JSON.stringify(((await res.json()) as { results: unknown[] }).results[0]);
}

/**
 * The new version: the served model with its last ensemble member left out, a real model whose
 * probabilities differ from the first version's, so each replica's answers show which it serves.
 */
/**
 * A second version made the way a team makes one: retrained (here a TF-IDF logistic regression on
 * 20,000 SST-2 training phrases, seconds of work) by `train()` and published as is. It answers
 * the probe with other scores than the shipped BiLSTM, which is how the replicas are seen to
 * switch.
 */
async function makeSecondVersion(toDir: string): Promise<void> {
  const rows = readFileSync(dataPath('sst2', 'train.tsv'), 'utf8').trim().split('\n').slice(1, 20_001).map((line) => {
    const [text, label] = line.split('\t');
    return { text: text!.trim(), label: label === '1' ? 'positive' : 'negative' };
  });
  await train('text-classification', rows, { model: 'tfidf-lr', out: toDir, seed: 1 });
}

/** (d) Publish a new version into the store; seconds until every replica answers with it. */
async function publish(fleet: Fleet, load: SentimentLoad) {
  const probe = 'a gripping , funny and thoroughly humane film .';
  const before = await Promise.all(fleet.ports.map((p) => replicaAnswer(p, probe)));
  const staged = path.join(fleet.dir, 'next-version');
  await makeSecondVersion(staged);
  const t0 = Date.now();
  const { version } = await new ModelStore(fleet.modelsDir).publish(MODEL_NAME, staged);
  const servedAt: Array<number | null> = fleet.ports.map(() => null);
  const deadline = t0 + 60_000;
  while (servedAt.some((s) => s === null) && Date.now() < deadline) {
    await Promise.all(
      fleet.ports.map(async (port, i) => {
        if (servedAt[i] !== null) return;
        const now = await replicaAnswer(port, probe).catch(() => before[i]);
        if (now !== before[i]) servedAt[i] = Date.now();
      }),
    );
    await sleep(100);
  }
  await sleep(SETTLE_SECONDS * 1000);
  const served = servedAt.every((s) => s !== null);
  const secondsToServe = served ? (Math.max(...(servedAt as number[])) - t0) / 1000 : null;
  console.log(`publish: version ${version} served by ${servedAt.filter((s) => s !== null).length} of ${REPLICAS} replicas${served ? ` after ${secondsToServe!.toFixed(1)} s` : ' within 60 s'}`);
  return { ...load.window(t0), version, secondsToServe, replicasServing: servedAt.filter((s) => s !== null).length };
}

interface JobView {
  id: string;
  state: string;
  progress: { type?: string; epoch?: number } | null;
  report: { details?: { resumedFromEpoch?: number } } | null;
  result: { name: string; version: number } | null;
  error: { code: string; message: string } | null;
}

async function jobsCall(fleet: Fleet, method: string, route: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${fleet.lbUrl}${route}`, {
    method,
    headers: { authorization: `Bearer ${fleet.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json().catch(() => null) };
}

async function submitJob(fleet: Fleet, spec: Record<string, unknown>): Promise<string> {
  const { status, json } = await jobsCall(fleet, 'POST', '/v1/jobs', spec);
  if (status !== 202) throw new Error(`POST /v1/jobs answered ${status}: ${JSON.stringify(json)}`);
  return (json as { id: string }).id;
}

async function jobState(fleet: Fleet, id: string): Promise<JobView> {
  const { status, json } = await jobsCall(fleet, 'GET', `/v1/jobs/${id}`);
  if (status !== 200) throw new Error(`GET /v1/jobs/${id} answered ${status}: ${JSON.stringify(json)}`);
  return json as JobView;
}

const FINAL = new Set(['completed', 'failed', 'cancelled']);

async function waitJob(fleet: Fleet, id: string, timeoutMs: number): Promise<JobView> {
  return until(`job ${id} final`, undefined, timeoutMs, async () => {
    const s = await jobState(fleet, id);
    return FINAL.has(s.state) ? s : undefined;
  });
}

/** CPU seconds a process has used (Linux /proc), to tell which worker is training. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  // utime and stime, in clock ticks of 1/100 s (USER_HZ on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * The worker that used the most CPU over the next second: the one running the training (the
 * other is idle). Returns its index and every worker's CPU seconds in that second, as evidence.
 */
async function busiestWorker(fleet: Fleet): Promise<{ index: number; cpuSeconds: number[] }> {
  const before = fleet.workers.map((w) => cpuSeconds(w.child.pid!));
  await sleep(1000);
  const used = fleet.workers.map((w, i) => Math.round((cpuSeconds(w.child.pid!) - before[i]!) * 100) / 100);
  return { index: used.indexOf(Math.max(...used)), cpuSeconds: used };
}

/** A training job that runs long enough (tens of seconds) to be killed mid-training. */
function killableJob(i: number): Record<string, unknown> {
  return { type: 'train', task: 'forecast', data: 'classic_ts/airline-passengers.csv', model: `fleet-kill-${i}`, options: { horizon: 12, model: 'segrnn', epochs: 150, seed: i + 1 } };
}

/**
 * How often a job's worker died holding it (BullMQ's stalled counter in Redis): proof that a
 * kill hit the worker running that job, not the idle one.
 */
function stalledCount(fleet: Fleet, id: string): number {
  const port = new URL(fleet.redisUrl).port;
  const out = spawnSync('redis-cli', ['-p', port, 'HGET', `seqlab:seqlab-jobs:${id}`, 'stc'], { encoding: 'utf8' });
  return Number(out.stdout.trim() || 0);
}

/** The worker holding job `id` by BullMQ's record of it (`processedBy`, the worker's `<host>:<pid>`), if it is one of ours. */
function jobWorker(fleet: Fleet, id: string): number | undefined {
  const port = new URL(fleet.redisUrl).port;
  const out = spawnSync('redis-cli', ['-p', port, 'HGET', `seqlab:seqlab-jobs:${id}`, 'pb'], { encoding: 'utf8' });
  const pid = Number(out.stdout.trim().split(':').at(-1));
  const index = fleet.workers.findIndex((w) => w.child.pid === pid);
  return index >= 0 ? index : undefined;
}

/** Epochs a killed job has run before its worker is killed: with checkpoints every 2 s, the retry resumes after several. */
const KILL_AFTER_EPOCH = 10;

/** SIGKILLs the worker running job `id` once it reports epoch {@link KILL_AFTER_EPOCH}, and starts it again. */
async function killMidTraining(fleet: Fleet, id: string) {
  const t0 = Date.now();
  // An epoch reported is an epoch checkpointed or within 2 s of one: the retry can resume.
  const epochSeen = await until(`job ${id} epoch ${KILL_AFTER_EPOCH}`, undefined, 180_000, async () => {
    const s = await jobState(fleet, id);
    return s.state === 'active' && s.progress?.type === 'epoch' && (s.progress.epoch ?? 0) >= KILL_AFTER_EPOCH ? s.progress.epoch : undefined;
  });
  // BullMQ names the job's worker; the CPU sample is the fallback (and the evidence) when it does not.
  const owner = jobWorker(fleet, id);
  const { index: busiest, cpuSeconds: cpu } = owner === undefined ? await busiestWorker(fleet) : { index: owner, cpuSeconds: [] as number[] };
  const w = owner ?? busiest;
  fleet.workers[w]!.child.kill('SIGKILL');
  await exited(fleet.workers[w]!);
  const afterSeconds = (Date.now() - t0) / 1000;
  await startWorker(fleet, w);
  return { job: id, worker: `worker${w + 1}`, chosenBy: owner === undefined ? 'cpu' : 'processedBy', afterSeconds, epochSeen, workerCpuSecondsBefore: cpu };
}

/**
 * (c) One job at a time (so the other worker is idle and the busy one is the job's): submit it,
 * SIGKILL its worker mid-training, restart the worker, wait for the job; then count jobs not
 * completed (lost), versions published more than once per job (duplicated), and retries that
 * resumed from the killed attempt's checkpoint (the epoch, from the job's report).
 */
async function workerKills(fleet: Fleet) {
  const kills: Array<Awaited<ReturnType<typeof killMidTraining>> & { state: string; stalled: number; versions: number[]; resumedFromEpoch: number | null }> = [];
  const store = new ModelStore(fleet.modelsDir);
  for (let k = 0; k < WORKER_KILLS; k++) {
    const spec = killableJob(k);
    const id = await submitJob(fleet, spec);
    const kill = await killMidTraining(fleet, id);
    const final = await waitJob(fleet, id, 600_000).catch(() => undefined);
    const resumedFromEpoch = final?.report?.details?.resumedFromEpoch ?? null;
    const entry = { ...kill, state: final?.state ?? 'unknown', stalled: stalledCount(fleet, id), versions: await store.versions(String(spec.model)), resumedFromEpoch };
    kills.push(entry);
    console.log(
      `worker kill ${k + 1}: ${entry.worker} killed ${entry.afterSeconds.toFixed(1)} s into job ${id} after epoch ${entry.epochSeen} (stalled ${entry.stalled}x); job ${entry.state}, ${resumedFromEpoch === null ? 'trained from the start' : `resumed after epoch ${resumedFromEpoch}`}, versions [${entry.versions.join(', ')}]`,
    );
  }
  const lost = kills.filter((k) => k.state !== 'completed').length;
  const duplicated = kills.reduce((a, k) => a + Math.max(0, k.versions.length - 1), 0);
  // A kill that missed the job's worker would leave the job's stalled counter at 0.
  const hit = kills.filter((k) => k.stalled > 0).length;
  const resumedFrom = kills.flatMap((k) => (k.resumedFromEpoch === null ? [] : [k.resumedFromEpoch]));
  console.log(`worker kills: ${kills.length} jobs, ${hit} kills hit the job's worker, ${lost} lost, ${duplicated} duplicate versions, ${resumedFrom.length} resumed from a checkpoint (after epochs ${resumedFrom.join(', ')})`);
  return { jobs: kills.length, kills: kills.length, killsThatHitTheJobsWorker: hit, lost, duplicated, resumed: resumedFrom.length, resumedFromEpochs: resumedFrom, details: kills };
}

const AUTO_JOB = { type: 'train', task: 'text-classification', data: 'TREC train_5500 coarse classes as JSON lines (uploaded)', options: AUTO_TEXT_CLASSIFICATION_OPTIONS };

/**
 * Wall time from submitting `count` `auto` text-classification trainings (TREC, 2,000 questions,
 * rnn epochs 2) at once until all have completed. Each runs as a BullMQ flow, one child job per
 * candidate kind, so a second worker shortens even one training.
 */
async function autoTraining(fleet: Fleet, tag: string, count: number): Promise<number> {
  const trec = path.join(fleet.dir, 'trec.jsonl');
  writeTrecJsonl(trec);
  const file = new Blob([readFileSync(trec)]);
  const submit = async (i: number): Promise<string> => {
    const form = new FormData();
    form.append('spec', JSON.stringify({ type: 'train', task: 'text-classification', model: `fleet-auto-${tag}-${i + 1}`, options: AUTO_JOB.options }));
    form.append('file', file, 'trec.jsonl');
    const res = await fetch(`${fleet.lbUrl}/v1/jobs`, { method: 'POST', headers: { authorization: `Bearer ${fleet.apiKey}` }, body: form });
    if (res.status !== 202) throw new Error(`POST /v1/jobs (multipart) answered ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  };
  const t0 = Date.now();
  const ids = await Promise.all(Array.from({ length: count }, (_, i) => submit(i)));
  for (const id of ids) {
    const s = await waitJob(fleet, id, 900_000);
    if (s.state !== 'completed') throw new Error(`auto training job ${id} ended ${s.state}: ${s.error?.message ?? ''}`);
  }
  return (Date.now() - t0) / 1000;
}

/** Whether the replicas serve the jobs routes (an empty spec gets 422 there, 404 without them). */
async function jobsAvailable(fleet: Fleet): Promise<boolean> {
  const { status } = await jobsCall(fleet, 'POST', '/v1/jobs', {});
  return status !== 404 && status < 500;
}

async function prepare(): Promise<Fleet> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'seqlab-fleet-'));
  const modelsDir = path.join(dir, 'models');
  // The served model as version 1 of a versioned store; publishing never touches models/.
  await new ModelStore(modelsDir).publish(MODEL_NAME, defaultModelDir('sentiment'), { copy: true });
  const apiKey = randomBytes(24).toString('base64url');
  const keysFile = path.join(dir, 'keys.json');
  writeFileSync(keysFile, JSON.stringify({ keys: [{ id: 'bench', sha256: createHash('sha256').update(apiKey).digest('hex'), scopes: ['predict', 'train', 'admin'] }] }));
  const ports: number[] = [];
  while (ports.length < REPLICAS) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  return { dir, modelsDir, redisUrl: '', keysFile, apiKey, socket: path.join(dir, 'haproxy.sock'), lbUrl: '', ports, replicas: [], workers: [] };
}

async function startFleet(fleet: Fleet): Promise<void> {
  const redis = await startRedis(fleet.dir);
  fleet.redis = redis.proc;
  fleet.redisUrl = redis.url;
  // Replicas load their models one after another: three at once on two cores take longer in all.
  for (let i = 0; i < REPLICAS; i++) await startReplica(fleet, i);
  for (let i = 0; i < WORKER_PROCESSES; i++) await startWorker(fleet, i);
  const lbPort = await freePort();
  await startHaproxy(fleet, lbPort);
  fleet.lbUrl = `http://127.0.0.1:${lbPort}`;
}

async function stopFleet(fleet: Fleet): Promise<void> {
  const all = [...fleet.replicas, ...fleet.workers, fleet.haproxy, fleet.redis].filter((p): p is Proc => p !== undefined);
  for (const p of all) if (p.child.exitCode === null) p.child.kill('SIGTERM');
  await Promise.race([Promise.all(all.map(exited)), sleep(20_000)]);
  for (const p of all) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  rmSync(fleet.dir, { recursive: true, force: true });
}

/** The job scenarios: (c) and the auto training with 2 then 1 worker(s). */
async function jobScenarios(fleet: Fleet, load: SentimentLoad) {
  if (SKIP_JOBS || !(await jobsAvailable(fleet))) {
    console.log('jobs: the replicas do not serve /v1/jobs (or --skip-jobs): worker kills and auto training not measured');
    return { workerKill: null, autoTraining: null };
  }
  const workerKill = await workerKills(fleet);
  // The training times are taken without the serving load: on two cores the replicas' sentiment
  // traffic would take the core a second worker needs. An untimed job first loads what every
  // candidate reads (word vectors, the sentence encoder) into both workers and the page cache,
  // so neither setting is timed cold.
  await load.stop();
  await autoTraining(fleet, 'warm-up', 2);
  // A text-classification auto job is a flow of one job per candidate: a second worker helps one
  // training too. One job is timed AUTO_REPEATS times with 2 and with 1 worker, interleaved (a
  // change in the machine's load falls on both), and the medians compared; two jobs once each.
  const runs: { one: number[]; two: number[] } = { one: [], two: [] };
  for (let r = 0; r < AUTO_REPEATS; r++) {
    runs.two.push(await autoTraining(fleet, `w2-j1-${r}`, 1));
    await stopWorker(fleet, 1);
    runs.one.push(await autoTraining(fleet, `w1-j1-${r}`, 1));
    await startWorker(fleet, 1);
  }
  const twoJobs = { two: await autoTraining(fleet, 'w2-j2', 2), one: 0 };
  await stopWorker(fleet, 1);
  twoJobs.one = await autoTraining(fleet, 'w1-j2', 2);
  await startWorker(fleet, 1);
  load.start();
  const one = { oneJob: median(runs.one), twoJobs: twoJobs.one };
  const two = { oneJob: median(runs.two), twoJobs: twoJobs.two };
  console.log(`auto training (text classification, TREC 2,000; medians of ${AUTO_REPEATS}): one job ${one.oneJob.toFixed(1)} s with 1 worker [${runs.one.map((x) => x.toFixed(1)).join(', ')}], ${two.oneJob.toFixed(1)} s with 2 [${runs.two.map((x) => x.toFixed(1)).join(', ')}]; two jobs ${one.twoJobs.toFixed(1)} s with 1 worker, ${two.twoJobs.toFixed(1)} s with 2`);
  return {
    workerKill,
    autoTraining: { job: AUTO_JOB, servingLoad: 'off while timed (after an untimed warm-up job on both workers)', repeats: AUTO_REPEATS, oneWorkerRuns: runs.one, twoWorkersRuns: runs.two, oneWorkerSeconds: one.oneJob, twoWorkersSeconds: two.oneJob, twoJobsOneWorkerSeconds: one.twoJobs, twoJobsTwoWorkersSeconds: two.twoJobs },
  };
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  console.log(`bench:fleet - HAProxy + ${REPLICAS} replicas + ${WORKER_PROCESSES} workers + Redis on loopback, ${os.cpus().length} CPUs, load ${loadBefore.map((l) => l.toFixed(1)).join(' ')}`);
  const fleet = await prepare();
  try {
    await startFleet(fleet);
    const load = new SentimentLoad(fleet.lbUrl, LOAD_CLIENTS);
    load.start();
    await sleep(3000);
    if (JOBS_ONLY) {
      const jobs = await jobScenarios(fleet, load);
      await load.stop();
      await recordJobsRerun(jobs, loadBefore);
      return;
    }
    const rolling = await rollingRestart(fleet, load);
    const kill = await replicaKill(fleet, load);
    const published = await publish(fleet, load);
    const jobs = await jobScenarios(fleet, load);
    await load.stop();
    await report(fleet, load, { rolling, kill, published, ...jobs }, loadBefore);
  } finally {
    await stopFleet(fleet);
  }
}

type Measured = {
  rolling: Awaited<ReturnType<typeof rollingRestart>>;
  kill: Awaited<ReturnType<typeof replicaKill>>;
  published: Awaited<ReturnType<typeof publish>>;
} & Awaited<ReturnType<typeof jobScenarios>>;

async function report(fleet: Fleet, load: SentimentLoad, m: Measured, loadBefore: number[]): Promise<void> {
  const total = load.window(0, Number.MAX_SAFE_INTEGER);
  const rows = [
    { scenario: '(a) rolling restart', requests: m.rolling.requests, failed: m.rolling.failed, note: `${m.rolling.seconds.toFixed(0)} s, exit codes ${m.rolling.steps.map((s) => s.exitCode).join('/')}` },
    { scenario: '(b) replica SIGKILL', requests: m.kill.requests, failed: m.kill.failed, note: `${m.kill.inFlightAtKill} in flight at the kill; down after ${m.kill.markedDownMs} ms; ${m.kill.failedAfterDown} failed after` },
    { scenario: '(d) publish', requests: m.published.requests, failed: m.published.failed, note: m.published.secondsToServe === null ? 'not served within 60 s' : `served by all after ${m.published.secondsToServe.toFixed(1)} s` },
  ];
  console.log(`\nconstant load: ${LOAD_CLIENTS} clients of single-sentence sentiment through HAProxy, ${total.requests} requests, ${total.failed} failed ${JSON.stringify(total.statuses)}`);
  console.log(formatTable(rows));
  if (m.workerKill) console.log(`(c) worker kills: ${m.workerKill.kills} kills over ${m.workerKill.jobs} jobs, ${m.workerKill.lost} lost, ${m.workerKill.duplicated} duplicated, ${m.workerKill.resumed} resumed from a checkpoint`);
  const a = m.autoTraining;
  if (a) console.log(`auto training wall time: one job ${a.oneWorkerSeconds.toFixed(1)} s with 1 worker, ${a.twoWorkersSeconds.toFixed(1)} s with 2; two jobs ${a.twoJobsOneWorkerSeconds.toFixed(1)} s / ${a.twoJobsTwoWorkersSeconds.toFixed(1)} s`);
  const goals = {
    'rolling restart: 0 failed of >= 1,000': { value: `${m.rolling.failed} of ${m.rolling.requests}`, met: m.rolling.failed === 0 && m.rolling.requests >= 1000 },
    'replica kill: failures <= in flight, none after down': { value: `${m.kill.failed} (in flight ${m.kill.inFlightAtKill}), ${m.kill.failedAfterDown} after`, met: m.kill.failed <= m.kill.inFlightAtKill && m.kill.failedAfterDown === 0 },
    'publish: 0 failed, served within 30 s': { value: `${m.published.failed} failed, ${m.published.secondsToServe ?? 'never'} s`, met: m.published.failed === 0 && m.published.secondsToServe !== null && m.published.secondsToServe <= 30 },
    [WORKER_KILL_GOAL]: workerKillGoal(m.workerKill),
  };
  console.log(`\n${formatTable(Object.entries(goals).map(([goal, g]) => ({ goal, value: g.value, met: g.met })))}`);
  const file = await writeResults('fleet', `npm run bench:fleet${args.size ? ` -- ${[...args].join(' ')}` : ''}`, {
    topology: { haproxy: 'deploy/haproxy.cfg', replicas: REPLICAS, workers: WORKER_PROCESSES, redis: 'appendonly yes', replicaEnv: { ...replicaEnv(fleet, 0), PORT: undefined, SEQLAB_MODELS: '<temp store>', SEQLAB_REDIS_URL: '<temp redis>', SEQLAB_API_KEYS: '<temp keys file>' } },
    loadAverage: { before: loadBefore, after: os.loadavg() },
    load: { clients: LOAD_CLIENTS, request: 'POST /v1/sentiment, one SST-2 dev sentence', ...total },
    rollingRestart: m.rolling,
    replicaKill: m.kill,
    workerKill: m.workerKill,
    publish: m.published,
    autoTraining: m.autoTraining,
    goals,
  });
  console.log(`wrote ${path.relative(REPO_ROOT, file)}`);
}

const WORKER_KILL_GOAL = 'worker kills: >= 5 mid-training, 0 lost, 0 duplicated';

function workerKillGoal(k: Measured['workerKill']): { value: string; met: boolean } {
  if (!k) return { value: 'not measured', met: false };
  return { value: `${k.killsThatHitTheJobsWorker} of ${k.kills} kills hit the job's worker, ${k.lost} lost, ${k.duplicated} duplicated`, met: k.killsThatHitTheJobsWorker >= 5 && k.lost === 0 && k.duplicated === 0 };
}

/**
 * A `--jobs-only` run replaces the job figures (worker kills, auto training) of results/fleet.json
 * and keeps its serving figures, saying when each part ran.
 */
async function recordJobsRerun(jobs: Awaited<ReturnType<typeof jobScenarios>>, loadBefore: number[]): Promise<void> {
  console.log(JSON.stringify(jobs, null, 2));
  const latest = readResultsRun('fleet');
  if (!latest || !jobs.workerKill || !jobs.autoTraining) return;
  const goals = { ...(latest.goals as Record<string, unknown>) };
  goals[WORKER_KILL_GOAL] = workerKillGoal(jobs.workerKill);
  const { name: _name, command, environment: servingEnvironment, ...rest } = latest;
  const file = await writeResults('fleet', command, {
    ...rest,
    workerKill: jobs.workerKill,
    autoTraining: jobs.autoTraining,
    goals,
    jobsRerun: { command: 'npm run bench:fleet -- --jobs-only', loadAverage: { before: loadBefore, after: os.loadavg() }, servingFiguresFrom: servingEnvironment },
  });
  console.log(`wrote ${path.relative(REPO_ROOT, file)} (job figures of this run; serving figures of ${String((servingEnvironment as { date?: string }).date)})`);
}

await main();
