import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Services } from './services/services.js';

/** The app's Prometheus metrics, in a registry of its own (so several apps can live in one process). */
export interface Metrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route' | 'status'>;
  batchSize: Histogram<'kind'>;
  generatedTokens: Counter;
  /** Middleware recording count and latency per route template (never per raw URL). */
  middleware: RequestHandler;
}

/** Creates the metrics and wires the gauges that read from `services`. */
export function createMetrics(services: Services): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'seqlab_' });
  const requests = new Counter({
    name: 'seqlab_http_requests_total',
    help: 'HTTP requests by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'seqlab_http_request_duration_seconds',
    help: 'HTTP request latency by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'seqlab_batch_size',
    help: 'Texts per model call after micro-batching',
    labelNames: ['kind'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [registry],
  });
  const generatedTokens = new Counter({
    name: 'seqlab_generated_tokens_total',
    help: 'Tokens produced by /v1/generate',
    registers: [registry],
  });
  new Gauge({
    name: 'seqlab_tensors_in_memory',
    help: 'Live TensorFlow.js tensors summed over model workers (tf.memory().numTensors)',
    registers: [registry],
    collect() {
      this.set(services.numTensors());
    },
  });
  new Gauge({
    name: 'seqlab_model_tasks_in_flight',
    help: 'Model tasks running or queued in worker threads',
    registers: [registry],
    collect() {
      this.set(services.inFlight());
    },
  });
  services.onBatch((kind, size) => batchSize.observe({ kind }, size));
  const replacements = new Counter({
    name: 'seqlab_worker_replacements_total',
    help: 'Model workers retired and replaced, by reason (fault, crash, stuck, memory)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const replacementSeconds = new Histogram({
    name: 'seqlab_worker_replacement_seconds',
    help: 'Time from retiring a model worker to its replacement being ready',
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [registry],
  });
  services.onWorkerReplaced((event) => {
    replacements.inc({ reason: event.reason });
    replacementSeconds.observe(event.seconds);
  });
  new Gauge({
    name: 'seqlab_worker_memory_bytes',
    help: "Each model worker's own memory as of its last answer, by worker (position, or spare) and kind (wasm: the backend's WebAssembly memory, which never shrinks; heap: V8 heap in use; external: buffers)",
    labelNames: ['worker', 'kind'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const m of services.workerMemory()) {
        this.set({ worker: m.worker, kind: 'wasm' }, m.wasmBytes);
        this.set({ worker: m.worker, kind: 'heap' }, m.heapBytes);
        this.set({ worker: m.worker, kind: 'external' }, m.externalBytes);
      }
    },
  });
  new Gauge({
    name: 'seqlab_workers_ready',
    help: 'Model workers serving tasks (fewer than configured while one is replaced)',
    registers: [registry],
    collect() {
      this.set(services.health().ready);
    },
  });

  const middleware: RequestHandler = (req, res, next) => {
    const start = process.hrtime.bigint();
    res.once('close', () => {
      // Route templates keep label cardinality bounded; unmatched paths share one label.
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : res.locals.routeLabel ?? 'unmatched';
      const labels = { method: req.method, route: String(route), status: String(res.statusCode) };
      requests.inc(labels);
      duration.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };
  return { registry, requests, duration, batchSize, generatedTokens, middleware };
}
