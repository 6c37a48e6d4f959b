// Sequence-level recurrent kernels (LSTM, GRU, SimpleRNN), forward and backward through time,
// for WebAssembly with SIMD. Built by packages/core/native/build.mjs with Debian's clang 14
// (--target=wasm32 -msimd128 -O3, no libc); the binary is embedded in
// src/kernels/recurrent/wasm-binary.generated.ts and CI rebuilds it and compares bytes.
//
// Conventions (those of tf.layers / Keras):
// - All arrays are row-major float32. Batch-major sequences: x[b][t][j] at (b*T + t)*width + j.
// - `xp` is the input projection x.W + b for every step, computed outside in one matrix multiply.
//   Forward kernels also take `ids` [B,T] (int32) or 0: when given, `xp` is a table of projected
//   rows and step (b, t) reads row ids[b*T + t] of it (inference from an embedding: the table is
//   x.W + b of every vocabulary entry, so no [B,T,gates*H] array is ever formed).
// - LSTM gates are ordered i, f, c (candidate), o; GRU gates z, r, h.
// - A mask value of 0 at (b, t) means the step is padding: the state carries over and the
//   step's output is the carried h (what tf.layers does).
// - Recurrent activation: 0 = sigmoid, 1 = hard sigmoid (clip(0.2 x + 0.5, 0, 1), tf.layers'
//   default). Activation: 0 = tanh, 1 = relu, 2 = linear.
//
// Nothing here allocates: the caller passes every buffer (offsets in linear memory), so the
// module needs no libc and one instance can be driven from several threads over shared memory
// (each thread working on its own rows of the batch).

#include <wasm_simd128.h>
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(#name)))
// Row of xp that step bt reads: bt itself, or the table row ids[bt] (see the conventions).
#define XP_ROW(ids, bt) ((ids) ? (long)(ids)[bt] : (bt))

// ---------------------------------------------------------------------------------------------
// Elementwise math. No libc: exp by range reduction (x = n ln2 + r) and a degree-6 polynomial,
// about 1 ulp over the clamped range, vectorisable by clang (no branches).

static inline float exp_f(float x) {
  x = x < -87.0f ? -87.0f : x;
  x = x > 88.0f ? 88.0f : x;
  float n = __builtin_floorf(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.166666672f + r * (4.16666418e-2f + r * (8.33336077e-3f + r * (1.38889242e-3f + r * 1.98412698e-4f))))));
  int32_t bits = ((int32_t)n + 127) << 23;
  float scale;
  __builtin_memcpy(&scale, &bits, 4);
  return p * scale;
}

static inline float sigmoid_f(float x) { return 1.0f / (1.0f + exp_f(-x)); }

static inline float tanh_f(float x) {
  // tanh(x) = sign(x) (1 - e) / (1 + e) with e = exp(-2|x|): no cancellation for large |x|, and
  // for small |x| the relative error stays near 1e-7 since 1 - e is computed from exp directly.
  float ax = __builtin_fabsf(x);
  float e = exp_f(-2.0f * ax);
  float t = (1.0f - e) / (1.0f + e);
  return __builtin_copysignf(t, x);
}

static inline float rec_act(float x, int kind) {
  if (kind == 1) {
    float y = 0.2f * x + 0.5f;
    y = y < 0.0f ? 0.0f : y;
    return y > 1.0f ? 1.0f : y;
  }
  return sigmoid_f(x);
}

// Derivative of the recurrent activation from its output y.
static inline float rec_act_grad(float y, int kind) {
  if (kind == 1) return (y > 0.0f && y < 1.0f) ? 0.2f : 0.0f;
  return y * (1.0f - y);
}

static inline float act(float x, int kind) {
  if (kind == 1) return x > 0.0f ? x : 0.0f;
  if (kind == 2) return x;
  return tanh_f(x);
}

// Derivative of the activation from its output y.
static inline float act_grad(float y, int kind) {
  if (kind == 1) return y > 0.0f ? 1.0f : 0.0f;
  if (kind == 2) return 1.0f;
  return 1.0f - y * y;
}


// The same functions four lanes at a time (the same formulas, so the same values up to the
// order of a few float operations). The gate loops below run these over j = 0, 4, 8, ... and
// the scalar versions over the tail when the width is not a multiple of 4.

static inline v128_t v_exp(v128_t x) {
  x = wasm_f32x4_pmax(wasm_f32x4_splat(-87.0f), x);
  x = wasm_f32x4_pmin(wasm_f32x4_splat(88.0f), x);
  v128_t n = wasm_f32x4_floor(wasm_f32x4_add(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)), wasm_f32x4_splat(0.5f)));
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t p = wasm_f32x4_splat(1.98412698e-4f);
  p = wasm_f32x4_add(wasm_f32x4_splat(1.38889242e-3f), wasm_f32x4_mul(r, p));
  p = wasm_f32x4_add(wasm_f32x4_splat(8.33336077e-3f), wasm_f32x4_mul(r, p));
  p = wasm_f32x4_add(wasm_f32x4_splat(4.16666418e-2f), wasm_f32x4_mul(r, p));
  p = wasm_f32x4_add(wasm_f32x4_splat(0.166666672f), wasm_f32x4_mul(r, p));
  p = wasm_f32x4_add(wasm_f32x4_splat(0.5f), wasm_f32x4_mul(r, p));
  p = wasm_f32x4_add(wasm_f32x4_splat(1.0f), wasm_f32x4_mul(r, p));
  p = wasm_f32x4_add(wasm_f32x4_splat(1.0f), wasm_f32x4_mul(r, p));
  v128_t bits = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return wasm_f32x4_mul(p, bits);
}

static inline v128_t v_sigmoid(v128_t x) {
  v128_t one = wasm_f32x4_splat(1.0f);
  return wasm_f32x4_div(one, wasm_f32x4_add(one, v_exp(wasm_f32x4_neg(x))));
}

static inline v128_t v_tanh(v128_t x) {
  v128_t one = wasm_f32x4_splat(1.0f);
  v128_t sign = wasm_v128_and(x, wasm_i32x4_splat((int32_t)0x80000000));
  v128_t ax = wasm_f32x4_abs(x);
  v128_t e = v_exp(wasm_f32x4_mul(wasm_f32x4_splat(-2.0f), ax));
  v128_t t = wasm_f32x4_div(wasm_f32x4_sub(one, e), wasm_f32x4_add(one, e));
  return wasm_v128_or(t, sign);
}

static inline v128_t v_rec_act(v128_t x, int kind) {
  if (kind == 1) {
    v128_t y = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_splat(0.2f), x), wasm_f32x4_splat(0.5f));
    y = wasm_f32x4_pmax(wasm_f32x4_splat(0.0f), y);
    return wasm_f32x4_pmin(wasm_f32x4_splat(1.0f), y);
  }
  return v_sigmoid(x);
}

static inline v128_t v_rec_act_grad(v128_t y, int kind) {
  if (kind == 1) {
    v128_t inside = wasm_v128_and(wasm_f32x4_gt(y, wasm_f32x4_splat(0.0f)), wasm_f32x4_lt(y, wasm_f32x4_splat(1.0f)));
    return wasm_v128_and(inside, wasm_f32x4_splat(0.2f));
  }
  return wasm_f32x4_mul(y, wasm_f32x4_sub(wasm_f32x4_splat(1.0f), y));
}

#define LD(p) wasm_v128_load(p)
#define ST(p, v) wasm_v128_store((p), (v))
#define ADD wasm_f32x4_add
#define SUB wasm_f32x4_sub
#define MUL wasm_f32x4_mul
#define SPLAT wasm_f32x4_splat

// ---------------------------------------------------------------------------------------------
// C[M,N] += A[M,K] . B[K,N] (row-major, leading dimensions lda, ldb, ldc).
// Register blocks of 4 rows x 8 columns (8 accumulators, 2 loads of B and 4 broadcasts of A per
// k), so x86's 16 vector registers hold the whole block. B's 8-column panel (K x 32 bytes) stays
// in L1 while every row block of A passes over it.

// The register blocks both layouts share: rows m..m+3 (or one row) of A times 8 columns of B
// whose k-th row starts at b + k * bstride (bstride = ldb unpacked, 8 packed), added into C.
static inline void block_4x8(const float *A, int lda, const float *b, int bstride, int K, float *C, int ldc) {
  const float *a0 = A, *a1 = A + lda, *a2 = A + 2 * lda, *a3 = A + 3 * lda;
  float *c0 = C, *c1 = C + ldc, *c2 = C + 2 * ldc, *c3 = C + 3 * ldc;
  v128_t s00 = LD(c0), s01 = LD(c0 + 4), s10 = LD(c1), s11 = LD(c1 + 4);
  v128_t s20 = LD(c2), s21 = LD(c2 + 4), s30 = LD(c3), s31 = LD(c3 + 4);
  for (int k = 0; k < K; k++, b += bstride) {
    v128_t b0 = LD(b), b1 = LD(b + 4);
    v128_t x0 = SPLAT(a0[k]);
    s00 = ADD(s00, MUL(x0, b0));
    s01 = ADD(s01, MUL(x0, b1));
    v128_t x1 = SPLAT(a1[k]);
    s10 = ADD(s10, MUL(x1, b0));
    s11 = ADD(s11, MUL(x1, b1));
    v128_t x2 = SPLAT(a2[k]);
    s20 = ADD(s20, MUL(x2, b0));
    s21 = ADD(s21, MUL(x2, b1));
    v128_t x3 = SPLAT(a3[k]);
    s30 = ADD(s30, MUL(x3, b0));
    s31 = ADD(s31, MUL(x3, b1));
  }
  ST(c0, s00); ST(c0 + 4, s01); ST(c1, s10); ST(c1 + 4, s11);
  ST(c2, s20); ST(c2 + 4, s21); ST(c3, s30); ST(c3 + 4, s31);
}

// One row: two independent accumulator pairs so that a single row (one sentence, one generation
// step) is not bound by the latency of one add chain.
static inline void block_1x8(const float *a0, const float *b, int bstride, int K, float *c0) {
  v128_t s00 = LD(c0), s01 = LD(c0 + 4), t00 = SPLAT(0.0f), t01 = SPLAT(0.0f);
  int k = 0;
  for (; k + 2 <= K; k += 2, b += 2 * bstride) {
    v128_t x0 = SPLAT(a0[k]), x1 = SPLAT(a0[k + 1]);
    s00 = ADD(s00, MUL(x0, LD(b)));
    s01 = ADD(s01, MUL(x0, LD(b + 4)));
    t00 = ADD(t00, MUL(x1, LD(b + bstride)));
    t01 = ADD(t01, MUL(x1, LD(b + bstride + 4)));
  }
  for (; k < K; k++, b += bstride) {
    v128_t x0 = SPLAT(a0[k]);
    s00 = ADD(s00, MUL(x0, LD(b)));
    s01 = ADD(s01, MUL(x0, LD(b + 4)));
  }
  ST(c0, ADD(s00, t00));
  ST(c0 + 4, ADD(s01, t01));
}

static void gemm_panel(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc) {
  int n = 0;
  for (; n + 8 <= N; n += 8) {
    int m = 0;
    for (; m + 4 <= M; m += 4) block_4x8(A + m * lda, lda, B + n, ldb, K, C + m * ldc + n, ldc);
    for (; m < M; m++) block_1x8(A + m * lda, B + n, ldb, K, C + m * ldc + n);
  }
  for (; n + 4 <= N; n += 4) {
    for (int m = 0; m < M; m++) {
      const float *a0 = A + m * lda;
      float *c0 = C + m * ldc + n;
      v128_t s = wasm_v128_load(c0);
      const float *b = B + n;
      for (int k = 0; k < K; k++, b += ldb) s = wasm_f32x4_add(s, wasm_f32x4_mul(wasm_f32x4_splat(a0[k]), wasm_v128_load(b)));
      wasm_v128_store(c0, s);
    }
  }
  for (; n < N; n++) {
    for (int m = 0; m < M; m++) {
      const float *a0 = A + m * lda;
      float s = C[m * ldc + n];
      for (int k = 0; k < K; k++) s += a0[k] * B[k * ldb + n];
      C[m * ldc + n] = s;
    }
  }
}

// Long products (the kernel gradient sums over every row and step: K = batch x steps) go in
// slices of K so that a B panel (K x 8 floats) stays in L1 across the row blocks.
#define K_BLOCK 256

static void gemm_acc(int M, int N, int K, const float *A, int lda, const float *B, int ldb, float *C, int ldc) {
  for (int k0 = 0; k0 < K; k0 += K_BLOCK) {
    int kc = K - k0 < K_BLOCK ? K - k0 : K_BLOCK;
    gemm_panel(M, N, kc, A + k0, lda, B + (long)k0 * ldb, ldb, C, ldc);
  }
}

/** C[M,N] += A[M,K] . B[K,N]; exported for tests and for the inference fast path. */
EXPORT(gemm) void gemm(int M, int N, int K, const float *A, const float *B, float *C) { gemm_acc(M, N, K, A, K, B, N, C, N); }


/** x[i] = tanh(x[i]) for n floats: the activation of dense and attention layers on the inference fast path. */
EXPORT(tanh_inplace) void tanh_inplace(int n, float *x) {
  int i = 0;
  for (; i + 4 <= n; i += 4) ST(x + i, v_tanh(LD(x + i)));
  for (; i < n; i++) x[i] = tanh_f(x[i]);
}

// ---------------------------------------------------------------------------------------------
// Packed right-hand matrices. A recurrent kernel is multiplied once per time step, so it pays to
// lay it out for the micro-kernel once per call: each 8-column panel as [Kt][8] contiguous floats
// (panel p at p * Kt * 8), the last N % 8 columns as a plain [Kt][N % 8] block after the panels.
// Unpacked, a panel's rows sit N floats apart; with N = 4H = 1024 that is 4 KB, every row maps
// to the same L1 sets and the panel is re-read from L2 at every row block.

/** Packs B [K, N] (leading dimension ldb) into `out` (K * N floats). */
EXPORT(pack_b) void pack_b(int K, int N, const float *B, int ldb, float *out) {
  int panels = N / 8, tail = N - panels * 8;
  for (int p = 0; p < panels; p++) {
    float *dst = out + (long)p * K * 8;
    for (int k = 0; k < K; k++) {
      wasm_v128_store(dst + k * 8, wasm_v128_load(B + (long)k * ldb + p * 8));
      wasm_v128_store(dst + k * 8 + 4, wasm_v128_load(B + (long)k * ldb + p * 8 + 4));
    }
  }
  if (tail) {
    float *dst = out + (long)panels * K * 8;
    for (int k = 0; k < K; k++)
      for (int j = 0; j < tail; j++) dst[k * tail + j] = B[(long)k * ldb + panels * 8 + j];
  }
}

// C[M,N] += A[M,K] . rows k0 .. k0+K-1 of a packed matrix with Kt rows in all.
static void gemm_packed_block(int M, int N, int K, const float *A, int lda, const float *Bp, int Kt, int k0, float *C, int ldc) {
  int panels = N / 8, tail = N - panels * 8;
  for (int p = 0; p < panels; p++) {
    const float *panel = Bp + (long)p * Kt * 8 + (long)k0 * 8;
    int m = 0;
    for (; m + 4 <= M; m += 4) block_4x8(A + m * lda, lda, panel, 8, K, C + m * ldc + p * 8, ldc);
    for (; m < M; m++) block_1x8(A + m * lda, panel, 8, K, C + m * ldc + p * 8);
  }
  if (tail) {
    const float *block = Bp + (long)panels * Kt * 8 + (long)k0 * tail;
    for (int m = 0; m < M; m++) {
      const float *a0 = A + m * lda;
      float *c0 = C + m * ldc + panels * 8;
      for (int j = 0; j < tail; j++) {
        float sum = c0[j];
        for (int k = 0; k < K; k++) sum += a0[k] * block[k * tail + j];
        c0[j] = sum;
      }
    }
  }
}

static void gemm_packed(int M, int N, int K, const float *A, int lda, const float *Bp, int Kt, int k0, float *C, int ldc) {
  for (int kb = 0; kb < K; kb += K_BLOCK) {
    int kc = K - kb < K_BLOCK ? K - kb : K_BLOCK;
    gemm_packed_block(M, N, kc, A + kb, lda, Bp, Kt, k0 + kb, C, ldc);
  }
}

/** C[M,N] += A[M,K] (leading dimension lda) . a matrix packed by pack_b with K rows. */
EXPORT(gemm_p) void gemm_p(int M, int N, int K, const float *A, int lda, const float *Bp, float *C, int ldc) {
  gemm_packed(M, N, K, A, lda, Bp, K, 0, C, ldc);
}


// C[M,N] += A^T . Bp where A is stored [K][lda] (A^T[m][k] = A[k * lda + m]) and Bp is packed
// with Kt rows. The kernel gradient sum_t h_{t-1}^T dz_t has this form with K = batch x steps:
// reading A's four rows of a block as one vector per k avoids transposing a [K, H] matrix
// (whose column writes are K floats apart).
static void gemm_tn_block(int M, int N, int K, const float *A, int lda, const float *Bp, int Kt, int k0, float *C, int ldc) {
  int panels = N / 8, tail = N - panels * 8;
  for (int p = 0; p < panels; p++) {
    const float *panel = Bp + (long)p * Kt * 8 + (long)k0 * 8;
    int n = p * 8;
    int m = 0;
    for (; m + 4 <= M; m += 4) {
      float *c0 = C + (m + 0) * ldc + n, *c1 = C + (m + 1) * ldc + n, *c2 = C + (m + 2) * ldc + n, *c3 = C + (m + 3) * ldc + n;
      v128_t s00 = LD(c0), s01 = LD(c0 + 4), s10 = LD(c1), s11 = LD(c1 + 4);
      v128_t s20 = LD(c2), s21 = LD(c2 + 4), s30 = LD(c3), s31 = LD(c3 + 4);
      const float *b = panel;
      const float *a = A + m;
      for (int k = 0; k < K; k++, b += 8, a += lda) {
        v128_t b0 = LD(b), b1 = LD(b + 4);
        v128_t av = wasm_v128_load(a);
        v128_t x0 = wasm_i32x4_shuffle(av, av, 0, 0, 0, 0);
        s00 = ADD(s00, MUL(x0, b0));
        s01 = ADD(s01, MUL(x0, b1));
        v128_t x1 = wasm_i32x4_shuffle(av, av, 1, 1, 1, 1);
        s10 = ADD(s10, MUL(x1, b0));
        s11 = ADD(s11, MUL(x1, b1));
        v128_t x2 = wasm_i32x4_shuffle(av, av, 2, 2, 2, 2);
        s20 = ADD(s20, MUL(x2, b0));
        s21 = ADD(s21, MUL(x2, b1));
        v128_t x3 = wasm_i32x4_shuffle(av, av, 3, 3, 3, 3);
        s30 = ADD(s30, MUL(x3, b0));
        s31 = ADD(s31, MUL(x3, b1));
      }
      ST(c0, s00); ST(c0 + 4, s01); ST(c1, s10); ST(c1 + 4, s11);
      ST(c2, s20); ST(c2 + 4, s21); ST(c3, s30); ST(c3 + 4, s31);
    }
    for (; m < M; m++) {
      float *c0 = C + m * ldc + n;
      v128_t s00 = LD(c0), s01 = LD(c0 + 4);
      const float *b = panel;
      for (int k = 0; k < K; k++, b += 8) {
        v128_t x0 = SPLAT(A[(long)k * lda + m]);
        s00 = ADD(s00, MUL(x0, LD(b)));
        s01 = ADD(s01, MUL(x0, LD(b + 4)));
      }
      ST(c0, s00);
      ST(c0 + 4, s01);
    }
  }
  if (tail) {
    const float *block = Bp + (long)panels * Kt * 8 + (long)k0 * tail;
    for (int m = 0; m < M; m++) {
      float *c0 = C + m * ldc + panels * 8;
      for (int j = 0; j < tail; j++) {
        float sum = c0[j];
        for (int k = 0; k < K; k++) sum += A[(long)k * lda + m] * block[k * tail + j];
        c0[j] = sum;
      }
    }
  }
}

/** C[M,N] += A^T . Bp: A stored [K][lda], Bp packed by pack_b with K rows. */
EXPORT(gemm_tn_p) void gemm_tn_p(int M, int N, int K, const float *A, int lda, const float *Bp, float *C, int ldc) {
  for (int kb = 0; kb < K; kb += K_BLOCK) {
    int kc = K - kb < K_BLOCK ? K - kb : K_BLOCK;
    gemm_tn_block(M, N, kc, A + (long)kb * lda, lda, Bp, K, kb, C, ldc);
  }
}

/** out[N,M] = in[M,N]^T. */
EXPORT(transpose) void transpose(int M, int N, const float *in, float *out) {
  for (int m = 0; m < M; m++)
    for (int n = 0; n < N; n++) out[n * M + m] = in[m * N + n];
}

static inline void copy_f(float *dst, const float *src, int n) {
  for (int j = 0; j < n; j++) dst[j] = src[j];
}

static inline void zero_f(float *dst, int n) {
  for (int j = 0; j < n; j++) dst[j] = 0.0f;
}

// ---------------------------------------------------------------------------------------------
// LSTM.
//
// Forward. In: xp [B,T,4H], U [H,4H], h0/c0 [B,H], mask [B,T] or 0. Out: hseq [B,T,H] (the output
// of every step, the carried h at padded steps), hT/cT [B,H]. Saved for backward when `gates` is
// non-zero: gates [B,T,4H] (activated i, f, c~, o) and cseq [B,T,H] (cell state after each step).
// Scratch: z [B,4H], h [B,H], c [B,H].

EXPORT(lstm_forward)
void lstm_forward(int B, int T, int H, const float *xp, const int *ids, const float *U, const float *h0, const float *c0, const float *mask, int recKind,
                  float *hseq, float *hT, float *cT, float *gates, float *cseq, float *z, float *h, float *c) {
  const int G = 4 * H;
  copy_f(h, h0, B * H);
  copy_f(c, c0, B * H);
  for (int t = 0; t < T; t++) {
    for (int b = 0; b < B; b++) copy_f(z + b * G, xp + XP_ROW(ids, (long)b * T + t) * G, G);
    gemm_packed(B, G, H, h, H, U, H, 0, z, G);
    for (int b = 0; b < B; b++) {
      const long bt = (long)b * T + t;
      float *zb = z + b * G, *hb = h + b * H, *cb = c + b * H;
      float *out = hseq + bt * H;
      const int live = !mask || mask[bt] != 0.0f;
      if (live) {
        int j = 0;
        for (; j + 4 <= H; j += 4) {
          v128_t ig = v_rec_act(LD(zb + j), recKind);
          v128_t fg = v_rec_act(LD(zb + H + j), recKind);
          v128_t gg = v_tanh(LD(zb + 2 * H + j));
          v128_t og = v_rec_act(LD(zb + 3 * H + j), recKind);
          v128_t cn = ADD(MUL(fg, LD(cb + j)), MUL(ig, gg));
          ST(cb + j, cn);
          ST(hb + j, MUL(og, v_tanh(cn)));
          ST(zb + j, ig);
          ST(zb + H + j, fg);
          ST(zb + 2 * H + j, gg);
          ST(zb + 3 * H + j, og);
        }
        for (; j < H; j++) {
          float ig = rec_act(zb[j], recKind);
          float fg = rec_act(zb[H + j], recKind);
          float gg = tanh_f(zb[2 * H + j]);
          float og = rec_act(zb[3 * H + j], recKind);
          float cn = fg * cb[j] + ig * gg;
          cb[j] = cn;
          hb[j] = og * tanh_f(cn);
          zb[j] = ig;
          zb[H + j] = fg;
          zb[2 * H + j] = gg;
          zb[3 * H + j] = og;
        }
      }
      copy_f(out, hb, H);
      if (gates) {
        if (live) copy_f(gates + bt * G, zb, G);
        else zero_f(gates + bt * G, G);
        copy_f(cseq + bt * H, cb, H);
      }
    }
  }
  copy_f(hT, h, B * H);
  copy_f(cT, c, B * H);
}

// Backward. In: the forward's saved gates/cseq and hseq, c0, mask, U^T [4H,H]; gradients of the
// outputs dhseq [B,T,H] (or 0 when only the last output was used: pass its gradient in dhT),
// dhT, dcT [B,H]. Out: dz [B,T,4H] (gradient of the pre-activations = of xp; zero at padded
// steps), dh0, dc0 [B,H]. dU = sum_t h_{t-1}^T dz_t is left to the caller (one large GEMM).
// Scratch: dh [B,H] (the carried gradient), dc [B,H], dzt [B,4H].

EXPORT(lstm_backward)
void lstm_backward(int B, int T, int H, const float *Ut, const float *c0, const float *mask, int recKind, const float *gates, const float *cseq,
                   const float *dhseq, const float *dhT, const float *dcT, float *dz, float *dh0, float *dc0, float *dh, float *dc, float *dzt) {
  const int G = 4 * H;
  copy_f(dh, dhT, B * H);
  copy_f(dc, dcT, B * H);
  for (int t = T - 1; t >= 0; t--) {
    for (int b = 0; b < B; b++) {
      const long bt = (long)b * T + t;
      float *dhb = dh + b * H, *dcb = dc + b * H, *dzb = dzt + b * G;
      if (dhseq) {
        const float *g = dhseq + bt * H;
        for (int j = 0; j < H; j++) dhb[j] += g[j];
      }
      const int live = !mask || mask[bt] != 0.0f;
      if (!live) {
        zero_f(dzb, G);
        continue;
      }
      const float *gt = gates + bt * G;
      const float *ct = cseq + bt * H;
      const float *cp = t > 0 ? cseq + (bt - 1) * H : c0 + b * H;
      int j = 0;
      for (; j + 4 <= H; j += 4) {
        v128_t ig = LD(gt + j), fg = LD(gt + H + j), gg = LD(gt + 2 * H + j), og = LD(gt + 3 * H + j);
        v128_t tc = v_tanh(LD(ct + j));
        v128_t d = LD(dhb + j);
        v128_t one = SPLAT(1.0f);
        v128_t dcj = ADD(LD(dcb + j), MUL(MUL(d, og), SUB(one, MUL(tc, tc))));
        ST(dzb + j, MUL(MUL(dcj, gg), v_rec_act_grad(ig, recKind)));
        ST(dzb + H + j, MUL(MUL(dcj, LD(cp + j)), v_rec_act_grad(fg, recKind)));
        ST(dzb + 2 * H + j, MUL(MUL(dcj, ig), SUB(one, MUL(gg, gg))));
        ST(dzb + 3 * H + j, MUL(MUL(d, tc), v_rec_act_grad(og, recKind)));
        ST(dcb + j, MUL(dcj, fg));
        ST(dhb + j, SPLAT(0.0f));
      }
      for (; j < H; j++) {
        float ig = gt[j], fg = gt[H + j], gg = gt[2 * H + j], og = gt[3 * H + j];
        float tc = tanh_f(ct[j]);
        float d = dhb[j];
        float dcj = dcb[j] + d * og * (1.0f - tc * tc);
        dzb[j] = dcj * gg * rec_act_grad(ig, recKind);
        dzb[H + j] = dcj * cp[j] * rec_act_grad(fg, recKind);
        dzb[2 * H + j] = dcj * ig * (1.0f - gg * gg);
        dzb[3 * H + j] = d * tc * rec_act_grad(og, recKind);
        dcb[j] = dcj * fg;
        // The h gradient of a live step comes only through dz . U^T (added below).
        dhb[j] = 0.0f;
      }
    }
    // Padded rows keep their carried dh (their dz row is zero, so the product adds nothing).
    gemm_packed(B, H, G, dzt, G, Ut, G, 0, dh, H);
    for (int b = 0; b < B; b++) copy_f(dz + ((long)b * T + t) * G, dzt + b * G, G);
  }
  copy_f(dh0, dh, B * H);
  copy_f(dc0, dc, B * H);
}

// ---------------------------------------------------------------------------------------------
// GRU. Two conventions:
// - resetAfter = 0 (tf.layers): hh = tanh(xp_h + (r * h) . U_h); two products per step.
// - resetAfter = 1 (Keras' default, cuDNN's): hh = tanh(xp_h + r * (h . U_h + br_h)), with a
//   separate recurrent bias br [3H]; one product per step.
// Both: z = ra(xp_z + h.U_z (+ br_z)), r = ra(xp_r + h.U_r (+ br_r)), h' = z * h + (1 - z) * hh.
//
// Forward. In: xp [B,T,3H], U [H,3H], br [3H] (resetAfter only, else 0), h0 [B,H], mask.
// Out: hseq [B,T,H], hT. Saved when `gates` is non-zero: gates [B,T,3H] (z, r, hh) and
// aux [B,T,H]: r * h_{t-1} (resetAfter = 0) or h_{t-1}.U_h + br_h (resetAfter = 1).
// Scratch: rec [B,3H], h [B,H], rh [B,H], hx [B,H].

EXPORT(gru_forward)
void gru_forward(int B, int T, int H, const float *xp, const int *ids, const float *U, const float *Uh, const float *br, const float *h0, const float *mask, int recKind, int resetAfter,
                 float *hseq, float *hT, float *gates, float *aux, float *rec, float *h, float *rh, float *hx) {
  const int G = 3 * H;
  copy_f(h, h0, B * H);
  for (int t = 0; t < T; t++) {
    if (resetAfter) {
      for (int b = 0; b < B; b++) copy_f(rec + b * G, br, G);
      gemm_packed(B, G, H, h, H, U, H, 0, rec, G);
    } else {
      for (int b = 0; b < B; b++) zero_f(rec + b * G, 2 * H);
      gemm_packed(B, 2 * H, H, h, H, U, H, 0, rec, G);
    }
    // Gates z and r; for resetAfter = 0, r * h is needed before the candidate's product.
    for (int b = 0; b < B; b++) {
      const long bt = (long)b * T + t;
      const float *x = xp + XP_ROW(ids, bt) * G;
      float *rb = rec + b * G;
      int j = 0;
      for (; j + 4 <= 2 * H; j += 4) ST(rb + j, v_rec_act(ADD(LD(x + j), LD(rb + j)), recKind));
      for (; j < 2 * H; j++) rb[j] = rec_act(x[j] + rb[j], recKind);
      if (!resetAfter) {
        const float *hb = h + b * H;
        for (int j = 0; j < H; j++) rh[b * H + j] = rb[H + j] * hb[j];
      }
    }
    if (!resetAfter) {
      zero_f(hx, B * H);
      gemm_packed(B, H, H, rh, H, Uh, H, 0, hx, H);
    }
    for (int b = 0; b < B; b++) {
      const long bt = (long)b * T + t;
      const float *x = xp + XP_ROW(ids, bt) * G;
      const float *rb = rec + b * G;
      float *hb = h + b * H;
      const int live = !mask || mask[bt] != 0.0f;
      float *gt = gates ? gates + bt * G : 0;
      float *at = gates ? aux + bt * H : 0;
      if (live) {
        int j = 0;
        for (; j + 4 <= H; j += 4) {
          v128_t zg = LD(rb + j), rg = LD(rb + H + j);
          v128_t inner = resetAfter ? LD(rb + 2 * H + j) : LD(hx + b * H + j);
          v128_t hh = v_tanh(ADD(LD(x + 2 * H + j), resetAfter ? MUL(rg, inner) : inner));
          if (gt) {
            ST(gt + j, zg);
            ST(gt + H + j, rg);
            ST(gt + 2 * H + j, hh);
            ST(at + j, resetAfter ? inner : LD(rh + b * H + j));
          }
          ST(hb + j, ADD(MUL(zg, LD(hb + j)), MUL(SUB(SPLAT(1.0f), zg), hh)));
        }
        for (; j < H; j++) {
          float zg = rb[j], rg = rb[H + j];
          float inner = resetAfter ? rb[2 * H + j] : hx[b * H + j];
          float hh = tanh_f(x[2 * H + j] + (resetAfter ? rg * inner : inner));
          if (gt) {
            gt[j] = zg;
            gt[H + j] = rg;
            gt[2 * H + j] = hh;
            at[j] = resetAfter ? inner : rh[b * H + j];
          }
          hb[j] = zg * hb[j] + (1.0f - zg) * hh;
        }
      } else if (gt) {
        zero_f(gt, G);
        zero_f(at, H);
      }
      copy_f(hseq + bt * H, hb, H);
    }
  }
  copy_f(hT, h, B * H);
}

// Backward. In: saved gates/aux, hseq, h0, mask, U^T [3H,H] (rows 0..2H-1: U_z^T, U_r^T; rows
// 2H..3H-1: U_h^T), dhseq (or 0), dhT. Out: dxp [B,T,3H]; drec [B,T,3H], the gradient of the
// recurrent product's output (resetAfter = 1: of h.U + br; resetAfter = 0: columns 0..2H-1 of
// h.U_zr, columns 2H..3H-1 of (r*h).U_h); dh0. The caller forms dU from drec with the saved
// inputs of those products. Scratch: dh [B,H], dxt [B,3H], dzr [B,3H], drh [B,H].

EXPORT(gru_backward)
void gru_backward(int B, int T, int H, const float *Ut, const float *h0, const float *mask, int recKind, int resetAfter, const float *gates,
                  const float *aux, const float *hseq, const float *dhseq, const float *dhT, float *dxp, float *drec, float *dh0, float *dh, float *dxt,
                  float *dzr, float *drh) {
  const int G = 3 * H;
  copy_f(dh, dhT, B * H);
  for (int t = T - 1; t >= 0; t--) {
    for (int b = 0; b < B; b++) {
      const long bt = (long)b * T + t;
      float *dhb = dh + b * H;
      if (dhseq) {
        const float *g = dhseq + bt * H;
        for (int j = 0; j < H; j++) dhb[j] += g[j];
      }
      float *dx = dxt + b * G, *dr = dzr + b * G;
      const int live = !mask || mask[bt] != 0.0f;
      if (!live) {
        zero_f(dx, G);
        zero_f(dr, G);
        continue;
      }
      const float *gt = gates + bt * G;
      const float *at = aux + bt * H;
      const float *hp = t > 0 ? hseq + (bt - 1) * H : h0 + b * H;
      for (int j = 0; j < H; j++) {
        float zg = gt[j], rg = gt[H + j], hh = gt[2 * H + j];
        float d = dhb[j];
        float dpre = d * (1.0f - zg) * (1.0f - hh * hh);
        float dzp = d * (hp[j] - hh) * rec_act_grad(zg, recKind);
        dx[j] = dzp;
        dx[2 * H + j] = dpre;
        dr[j] = dzp;
        if (resetAfter) {
          float drp = dpre * at[j] * rec_act_grad(rg, recKind);
          dx[H + j] = drp;
          dr[H + j] = drp;
          dr[2 * H + j] = dpre * rg;
        } else {
          dr[2 * H + j] = dpre;
          // r's gradient needs (dpre . U_h^T), formed below; keep z's direct path now.
        }
        dhb[j] = d * zg;
      }
    }
    if (resetAfter) {
      gemm_packed(B, H, G, dzr, G, Ut, G, 0, dh, H);
    } else {
      // d(r*h) = dpre . U_h^T; then r's pre-activation gradient and h's share through r.
      zero_f(drh, B * H);
      gemm_packed(B, H, H, dzr + 2 * H, G, Ut, G, 2 * H, drh, H);
      for (int b = 0; b < B; b++) {
        const long bt = (long)b * T + t;
        const int live = !mask || mask[bt] != 0.0f;
        if (!live) continue;
        const float *gt = gates + bt * G;
        const float *hp = t > 0 ? hseq + (bt - 1) * H : h0 + b * H;
        float *dx = dxt + b * G, *dr = dzr + b * G, *dhb = dh + b * H;
        const float *d = drh + b * H;
        for (int j = 0; j < H; j++) {
          float rg = gt[H + j];
          float drp = d[j] * hp[j] * rec_act_grad(rg, recKind);
          dx[H + j] = drp;
          dr[H + j] = drp;
          dhb[j] += d[j] * rg;
        }
      }
      gemm_packed(B, H, 2 * H, dzr, G, Ut, G, 0, dh, H);
    }
    for (int b = 0; b < B; b++) {
      const long bt = (long)b * T + t;
      copy_f(dxp + bt * G, dxt + b * G, G);
      copy_f(drec + bt * G, dzr + b * G, G);
    }
  }
  copy_f(dh0, dh, B * H);
}

// ---------------------------------------------------------------------------------------------
// SimpleRNN: h' = act(xp + h . U). Forward saves nothing beyond hseq (the derivative comes from
// the output). In: xp [B,T,H], U [H,H], h0, mask. Out: hseq, hT. Scratch: h [B,H], a [B,H].

EXPORT(simple_forward)
void simple_forward(int B, int T, int H, const float *xp, const int *ids, const float *U, const float *h0, const float *mask, int actKind, float *hseq, float *hT,
                    float *h, float *a) {
  copy_f(h, h0, B * H);
  for (int t = 0; t < T; t++) {
    for (int b = 0; b < B; b++) copy_f(a + b * H, xp + XP_ROW(ids, (long)b * T + t) * H, H);
    gemm_packed(B, H, H, h, H, U, H, 0, a, H);
    for (int b = 0; b < B; b++) {
      const long bt = (long)b * T + t;
      float *hb = h + b * H;
      const int live = !mask || mask[bt] != 0.0f;
      if (live)
        for (int j = 0; j < H; j++) hb[j] = act(a[b * H + j], actKind);
      copy_f(hseq + bt * H, hb, H);
    }
  }
  copy_f(hT, h, B * H);
}

// Backward. Out: da [B,T,H] (gradient of the pre-activation = of xp), dh0. Scratch: dh, dat.
EXPORT(simple_backward)
void simple_backward(int B, int T, int H, const float *Ut, const float *mask, int actKind, const float *hseq, const float *dhseq, const float *dhT,
                     float *da, float *dh0, float *dh, float *dat) {
  copy_f(dh, dhT, B * H);
  for (int t = T - 1; t >= 0; t--) {
    for (int b = 0; b < B; b++) {
      const long bt = (long)b * T + t;
      float *dhb = dh + b * H, *d = dat + b * H;
      if (dhseq) {
        const float *g = dhseq + bt * H;
        for (int j = 0; j < H; j++) dhb[j] += g[j];
      }
      const int live = !mask || mask[bt] != 0.0f;
      if (!live) {
        zero_f(d, H);
        continue;
      }
      const float *ht = hseq + bt * H;
      for (int j = 0; j < H; j++) {
        d[j] = dhb[j] * act_grad(ht[j], actKind);
        dhb[j] = 0.0f;
      }
    }
    gemm_packed(B, H, H, dat, H, Ut, H, 0, dh, H);
    for (int b = 0; b < B; b++) copy_f(da + ((long)b * T + t) * H, dat + b * H, H);
  }
  copy_f(dh0, dh, B * H);
}
