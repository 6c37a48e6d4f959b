import { describe, expect, it } from 'vitest';
import { attentionPoolingForward, bidirectionalForward, withSideWork, gemmF32, gruBackward, gruForward, lstmForward, MAX_RESIDENT_BYTES, recurrentKernelsAvailable, recurrentRuntime, SeededRandom, simpleForward, type ForwardResult, type SavedActivations } from '../src/index.js';

// The WebAssembly kernels on their own (the layer-level equality with tf.layers is tested in
// @seqlab/rnn): the GEMM against a plain loop, and the batch split over two threads against
// one thread, bit for bit (each row's arithmetic is the same on either thread).

const rng = new SeededRandom(7);
const rand = (n: number, scale = 0.3) => Float32Array.from({ length: n }, () => (rng.next() - 0.5) * 2 * scale);
const lstmKernel = rand(32 * 4 * 32);
const gruKernel = rand(32 * 3 * 32);
const simpleKernel = rand(32 * 32);
const identity = (n: number) => Float32Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));

describe('recurrent kernels', () => {
  it('load here (wasm SIMD + shared memory)', () => {
    expect(recurrentKernelsAvailable()).toBe(true);
  });

  it('gemmF32 equals a plain triple loop, with bias, for odd sizes', () => {
    for (const [M, K, N] of [[1, 3, 5], [7, 13, 9], [33, 64, 130]] as const) {
      const a = rand(M * K);
      const b = rand(K * N);
      const bias = rand(N);
      const got = gemmF32(a, b, M, K, N, bias);
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let s = bias[n]!;
          for (let k = 0; k < K; k++) s += a[m * K + k]! * b[k * N + n]!;
          expect(Math.abs(got[m * N + n]! - s)).toBeLessThan(1e-5);
        }
      }
    }
  });

  it('attentionPoolingForward equals a plain loop (tanh scores, masked softmax, weighted sum); a fully padded row gets zeros', () => {
    const [B, T, F, U] = [4, 37, 24, 8];
    const x = rand(B * T * F, 1);
    const [kernel, bias, context] = [rand(F * U), rand(U), rand(U)];
    // Row 1 padded after 10 steps, row 3 all padding.
    const mask = Float32Array.from({ length: B * T }, (_, i) => (Math.floor(i / T) === 3 || (Math.floor(i / T) === 1 && i % T >= 10) ? 0 : 1));
    const { pooled, weights } = attentionPoolingForward({ x, batch: B, steps: T, features: F, units: U, kernel, bias, context, mask });
    for (let r = 0; r < B; r++) {
      const score = (t: number) => {
        let s = 0;
        for (let u = 0; u < U; u++) {
          let h = bias[u]!;
          for (let f = 0; f < F; f++) h += x[(r * T + t) * F + f]! * kernel[f * U + u]!;
          s += Math.tanh(h) * context[u]!;
        }
        return s;
      };
      const kept = Array.from({ length: T }, (_, t) => t).filter((t) => mask[r * T + t] === 1);
      const e = kept.map((t) => Math.exp(score(t)));
      const total = e.reduce((a, b) => a + b, 0);
      const w = new Float64Array(T);
      kept.forEach((t, i) => (w[t] = e[i]! / total));
      for (let t = 0; t < T; t++) expect(Math.abs(weights[r * T + t]! - w[t]!)).toBeLessThan(1e-5);
      for (let f = 0; f < F; f++) {
        let p = 0;
        for (let t = 0; t < T; t++) p += w[t]! * x[(r * T + t) * F + f]!;
        expect(Math.abs(pooled[r * F + f]! - p)).toBeLessThan(1e-5);
      }
    }
    expect(Array.from(weights.subarray(3 * T, 4 * T)).every((v) => v === 0)).toBe(true);
    expect(Array.from(pooled.subarray(3 * F, 4 * F)).every((v) => v === 0)).toBe(true);
  });

  it('side work runs on this thread while the helper computes a split call, and the products stay the same', async () => {
    const rt = recurrentRuntime();
    if (rt.threads < 2) rt.setThreads(2);
    const [M, K, N] = [512, 128, 256];
    const a = rand(M * K);
    const b = rand(K * N);
    const plain = gemmF32(a, b, M, K, N);
    // On a loaded machine the helper may finish before this thread looks: a few tries.
    let items = 0;
    for (let attempt = 0; attempt < 20 && items === 0; attempt++) {
      const alongside = await withSideWork(
        () => items < 1e6 && ++items > 0,
        async () => gemmF32(a, b, M, K, N),
      );
      expect(Array.from(alongside)).toEqual(Array.from(plain));
    }
    expect(items).toBeGreaterThan(0);
    // Side work that starts a kernel session of its own is refused (it would reuse the memory in use).
    let refused: unknown;
    for (let attempt = 0; attempt < 20 && refused === undefined; attempt++) {
      await withSideWork(
        () => {
          if (refused !== undefined) return false;
          try {
            gemmF32(a.subarray(0, 3), b.subarray(0, 3), 1, 3, 1);
            refused = null;
          } catch (err) {
            refused = err;
          }
          return true;
        },
        async () => gemmF32(a, b, M, K, N),
      );
    }
    expect(String(refused)).toMatch(/side work must not run kernels/);
  });

  it('a bidirectional layer beside side work runs its rows in blocks both threads take, with the same outputs', async () => {
    const rt = recurrentRuntime();
    if (rt.threads < 2) rt.setThreads(2);
    const [B, T, H] = [37, 40, 32];
    const direction = (seed: number) => {
      const r = new SeededRandom(seed);
      const v = (n: number) => Float32Array.from({ length: n }, () => (r.next() - 0.5) * 0.6);
      const mask = Float32Array.from({ length: B * T }, (_, i) => (i % T < T - (Math.floor(i / T) % 9) ? 1 : 0));
      return { cell: 'lstm' as const, args: { batch: B, steps: T, units: H, xp: v(B * T * 4 * H), kernel: v(H * 4 * H), h0: new Float32Array(B * H), c0: new Float32Array(B * H), mask, recurrentActivation: 'sigmoid' as const } };
    };
    const [f, b] = [direction(1), direction(2)];
    const plain = bidirectionalForward(f, b, 'concat', true).data;
    // Side work that runs out early (this thread then takes blocks) and side work that outlasts the call.
    for (const budget of [3, 1e6]) {
      let items = 0;
      for (let attempt = 0; attempt < 20 && items === 0; attempt++) {
        const alongside = await withSideWork(
          () => items < budget && ++items > 0,
          async () => bidirectionalForward(f, b, 'concat', true).data,
        );
        expect(Array.from(alongside)).toEqual(Array.from(plain));
      }
      expect(items).toBeGreaterThan(0);
    }
  });

  it("gemmF32 with activation 'tanh' equals Math.tanh of the product, small and saturated values alike", () => {
    for (const [M, K, N] of [[1, 3, 5], [33, 64, 130]] as const) {
      // Scaled so that products reach |x| > 10 (saturation) as well as near-zero values.
      const a = rand(M * K).map((v) => v * 20);
      const b = rand(K * N);
      const bias = rand(N);
      const plain = gemmF32(a, b, M, K, N, bias);
      const got = gemmF32(a, b, M, K, N, bias, 'tanh');
      let maxAbs = 0;
      for (let i = 0; i < plain.length; i++) {
        expect(Math.abs(got[i]! - Math.tanh(plain[i]!))).toBeLessThan(1e-6);
        maxAbs = Math.max(maxAbs, Math.abs(plain[i]!));
      }
      if (M > 1) expect(maxAbs).toBeGreaterThan(5);
    }
  });

  it('two threads give exactly what one thread gives (LSTM forward, GRU forward and backward)', () => {
    const B = 24;
    const T = 30;
    const H = 48;
    const mask = Float32Array.from({ length: B * T }, (_, i) => (i % T < T - (Math.floor(i / T) % 7) ? 1 : 0));
    const lstmArgs = { batch: B, steps: T, units: H, xp: rand(B * T * 4 * H), kernel: rand(H * 4 * H), h0: rand(B * H), c0: rand(B * H), mask, recurrentActivation: 'sigmoid' as const, save: true };
    const gruArgs = { batch: B, steps: T, units: H, xp: rand(B * T * 3 * H), kernel: rand(H * 3 * H), h0: rand(B * H), mask, recurrentActivation: 'hardSigmoid' as const, resetAfter: true, recurrentBias: rand(3 * H), save: true };
    const dSequence = rand(B * T * H);
    const dH = rand(B * H);
    const runtime = recurrentRuntime();
    const results = [1, 2].map((threads) => {
      runtime.setThreads(threads);
      const l = lstmForward(lstmArgs);
      const g = gruForward(gruArgs);
      const gb = gruBackward({ ...gruArgs, forward: g as ForwardResult & { saved: SavedActivations }, dSequence, dH });
      return { l, g, gb };
    });
    runtime.setThreads(2);
    const [one, two] = results;
    expect(Array.from(two!.l.sequence)).toEqual(Array.from(one!.l.sequence));
    expect(Array.from(two!.l.c!)).toEqual(Array.from(one!.l.c!));
    expect(Array.from(two!.g.sequence)).toEqual(Array.from(one!.g.sequence));
    expect(Array.from(two!.gb.dXp!)).toEqual(Array.from(one!.gb.dXp!));
    expect(Array.from(two!.gb.dH0)).toEqual(Array.from(one!.gb.dH0));
    // The kernel gradient's split is over its rows: the same sums in the same order.
    expect(Array.from(two!.gb.dKernel)).toEqual(Array.from(one!.gb.dKernel));
    // Padded steps carry the state: the output at a padded step equals the previous one.
    const row = 6;
    const lastLive = T - 1 - (row % 7);
    const at = (t: number) => Array.from(one!.l.sequence.subarray((row * T + t) * H, (row * T + t + 1) * H));
    expect(at(T - 1)).toEqual(at(lastLive));
  });

  it('reads xp rows from a resident table by id exactly as from the gathered rows, on 1 and 2 threads, and drops tables past the limit', () => {
    const B = 20;
    const T = 16;
    const H = 32;
    const V = 50;
    const ids = Int32Array.from({ length: B * T }, (_, i) => (i * 7 + (i % 5)) % V);
    const mask = Float32Array.from({ length: B * T }, (_, i) => (i % T < T - (Math.floor(i / T) % 4) ? 1 : 0));
    const runtime = recurrentRuntime();
    for (const [gates, run] of [
      [4, (x: object) => lstmForward({ batch: B, steps: T, units: H, ...x, kernel: lstmKernel, h0: new Float32Array(B * H), c0: new Float32Array(B * H), mask, recurrentActivation: 'sigmoid', save: false })],
      [3, (x: object) => gruForward({ batch: B, steps: T, units: H, ...x, kernel: gruKernel, h0: new Float32Array(B * H), mask, recurrentActivation: 'hardSigmoid', resetAfter: false, save: false })],
      [1, (x: object) => simpleForward({ batch: B, steps: T, units: H, ...x, kernel: simpleKernel, h0: new Float32Array(B * H), mask, activation: 'tanh' })],
    ] as const) {
      const G = gates * H;
      const table = rand(V * G);
      const xp = new Float32Array(B * T * G);
      ids.forEach((id, i) => xp.set(table.subarray(id * G, (id + 1) * G), i * G));
      for (const threads of [1, 2]) {
        runtime.setThreads(threads);
        const plain = run({ xp });
        const gathered = run({ gathered: { table, ids } });
        // Again: the table is resident now.
        const again = run({ gathered: { table, ids } });
        expect(Array.from(gathered.sequence)).toEqual(Array.from(plain.sequence));
        expect(Array.from(again.h)).toEqual(Array.from(plain.h));
      }
    }
    runtime.setThreads(2);
    expect(() => lstmForward({ batch: 1, steps: 2, units: H, gathered: { table: rand(V * 4 * H), ids: [3, V] }, kernel: lstmKernel, h0: new Float32Array(H), c0: new Float32Array(H), recurrentActivation: 'sigmoid', save: false })).toThrow(
      /gathered id 50 outside \[0, 50\)/,
    );
    // Past the limit every kept table is dropped and copied in again on use, with the same result.
    expect(runtime.maxResidentBytes).toBe(MAX_RESIDENT_BYTES);
    runtime.setMaxResidentBytes(2 ** 20);
    const big = new Float32Array(2 ** 18 - 1024);
    const small = rand(V * H);
    const args = (table: Float32Array) => ({ batch: 1, steps: 3, units: H, gathered: { table, ids: [1, 2, 3] }, kernel: simpleKernel, h0: new Float32Array(H), activation: 'tanh' as const });
    const before = simpleForward(args(small)).h;
    simpleForward(args(big));
    expect(Array.from(simpleForward(args(small)).h)).toEqual(Array.from(before));
    // A table made on demand is made once while it stays resident, and again after a drop.
    let made = 0;
    const source = { key: {}, floats: small.length, make: () => (made++, gemmF32(small, identity(H), V, H, H)) };
    const bySource = { ...args(small), gathered: { table: source, ids: [1, 2, 3] } };
    expect(Array.from(simpleForward(bySource).h)).toEqual(Array.from(before));
    simpleForward(bySource);
    expect(made).toBe(1);
    simpleForward(args(big));
    expect(Array.from(simpleForward(bySource).h)).toEqual(Array.from(before));
    expect(made).toBe(2);
    expect(() => simpleForward(args(new Float32Array(2 ** 18 + 64)))).toThrow(/bytes of tables exceed 1048576/);
    runtime.setMaxResidentBytes(MAX_RESIDENT_BYTES);
  });

  it('names the argument whose size is wrong', () => {
    expect(() => lstmForward({ batch: 2, steps: 3, units: 4, xp: new Float32Array(5), kernel: new Float32Array(64), h0: new Float32Array(8), c0: new Float32Array(8), recurrentActivation: 'sigmoid', save: false })).toThrow(
      /xp has 5 values, expected 96/,
    );
  });
});
