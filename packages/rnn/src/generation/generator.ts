import * as tf from '@tensorflow/tfjs-core';
import { cancellationCheckpoint, SeededRandom } from '@seqlab/core';
import { RnnArgumentError } from '../errors.js';
import { applyRepetitionPenalty, drawIndex, resolveSampling, samplingDistribution, type SamplingOptions } from './sampling.js';
import type { Stepper } from './stepper.js';

/** Options of {@link TextGenerator.generate} and {@link TextGenerator.stream}. */
export interface GenerateOptions extends SamplingOptions {
  /** Tokens to generate at most. Default 200. */
  maxTokens?: number;
  /** Beam width; > 1 runs beam search (deterministic; sampling options other than repetitionPenalty are ignored). Default 1. */
  beam?: number;
  /** Stop when the generated text contains one of these; the stop sequence is not returned. */
  stop?: string[];
  /** Seed for sampling; the same seed gives the same text. Default: random. */
  seed?: number;
  /**
   * Stops generation (with a `CancelledError` from @seqlab/core) at the next step once aborted;
   * state tensors are freed. Checked every token and every beam step.
   */
  signal?: AbortSignal;
}

/** A generation result. */
export interface GenerateResult {
  /** The generated continuation (without the prompt). */
  text: string;
  /** Tokens generated. */
  tokens: number;
  /** Why generation ended. */
  finishReason: 'length' | 'stop';
}

/** Turns text into token ids and back. */
export interface TokenCodec {
  encode(text: string): ArrayLike<number>;
  decode(ids: ArrayLike<number>): string;
}

const MAX_TOKENS_LIMIT = 100_000;

interface Resolved extends Required<SamplingOptions> {
  maxTokens: number;
  beam: number;
  stop: string[];
  seed: number;
  signal?: AbortSignal;
}

function resolve(o: GenerateOptions = {}): Resolved {
  const maxTokens = o.maxTokens ?? 200;
  if (!Number.isInteger(maxTokens) || maxTokens < 0 || maxTokens > MAX_TOKENS_LIMIT) {
    throw new RnnArgumentError(`maxTokens must be an integer in [0, ${MAX_TOKENS_LIMIT}], got ${String(o.maxTokens)}`);
  }
  const beam = o.beam ?? 1;
  if (!Number.isInteger(beam) || beam < 1 || beam > 64) throw new RnnArgumentError(`beam must be an integer in [1, 64], got ${String(o.beam)}`);
  const stop = o.stop ?? [];
  if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new RnnArgumentError(`stop must be an array of non-empty strings, got ${JSON.stringify(o.stop)}`);
  }
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  if (!Number.isFinite(seed)) throw new RnnArgumentError(`seed must be a number, got ${String(o.seed)}`);
  return { ...resolveSampling(o), maxTokens, beam, stop, seed, signal: o.signal };
}

/** Index of the first stop sequence in `text`, or -1. */
function stopIndex(text: string, stops: string[]): number {
  let best = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best;
}

/** Length of the longest suffix of `text` that is a proper prefix of a stop sequence (held back while streaming). */
function pendingStopPrefix(text: string, stops: string[]): number {
  let keep = 0;
  for (const s of stops) {
    for (let k = Math.min(s.length - 1, text.length); k > keep; k--) {
      if (text.endsWith(s.slice(0, k))) {
        keep = k;
        break;
      }
    }
  }
  return keep;
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

// A cancellable generation reads its prompt in pieces of this many tokens, so a long prompt
// (hundreds of milliseconds per piece on large models at most) can be abandoned between them.
const PREFILL_PIECE = 128;

/**
 * Generates text from a next-token model one recurrent step per token: greedy, temperature,
 * top-k, top-p, repetition penalty, beam search, stop sequences; whole or streamed.
 *
 * @example
 * ```ts
 * const gen = await loadTextGenerator('models/shakespeare-char');
 * for await (const piece of gen.stream('ROMEO:\n', { maxTokens: 200, topP: 0.9, seed: 7 })) process.stdout.write(piece);
 * gen.dispose();
 * ```
 */
export class TextGenerator {
  private disposed = false;

  constructor(
    readonly stepper: Stepper,
    readonly codec: TokenCodec,
    /** Token fed when the prompt is empty (e.g. a newline). */
    readonly startToken = 0,
  ) {}

  /** Generates a continuation of `prompt` and returns it whole. */
  async generate(prompt: string, options: GenerateOptions = {}): Promise<GenerateResult> {
    let text = '';
    const meta = { tokens: 0, finishReason: 'length' as GenerateResult['finishReason'] };
    for await (const piece of this.run(prompt, options, meta, false)) text += piece;
    return { text, tokens: meta.tokens, finishReason: meta.finishReason };
  }

  /**
   * Streams the continuation as it is produced. Text that might be the start of a stop
   * sequence is held back until it is known not to be one. Beam search yields once, at the end.
   */
  stream(prompt: string, options: GenerateOptions = {}): AsyncIterable<string> {
    const meta = { tokens: 0, finishReason: 'length' as GenerateResult['finishReason'] };
    return this.run(prompt, options, meta, true);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stepper.dispose();
  }

  /**
   * Feeds all but the last `PREFILL_PIECE` tokens of `context` into `state` when generation is
   * cancellable; returns the state and the tokens still to feed. The recurrence is the same,
   * only split across calls.
   */
  private async prefill(context: number[], checkpoint: () => Promise<void>, cancellable: boolean): Promise<{ state: tf.Tensor[]; rest: number[] }> {
    let state = this.stepper.initialState(1);
    if (!cancellable) return { state, rest: context };
    let start = 0;
    try {
      for (; context.length - start > PREFILL_PIECE; start += PREFILL_PIECE) {
        await checkpoint();
        const out = this.stepper.step([context.slice(start, start + PREFILL_PIECE)], state);
        tf.dispose(state);
        state = out.state;
      }
    } catch (err) {
      tf.dispose(state);
      throw err;
    }
    return { state, rest: context.slice(start) };
  }

  private promptIds(prompt: string): number[] {
    if (typeof prompt !== 'string') throw new RnnArgumentError(`prompt must be a string, got ${typeof prompt}`);
    const ids = Array.from(this.codec.encode(prompt));
    return ids.length > 0 ? ids : [this.startToken];
  }

  private async *run(
    prompt: string,
    options: GenerateOptions,
    meta: { tokens: number; finishReason: GenerateResult['finishReason'] },
    streaming: boolean,
  ): AsyncGenerator<string> {
    if (this.disposed) throw new Error('TextGenerator: used after dispose()');
    const o = resolve(options);
    const context = this.promptIds(prompt);
    if (o.beam > 1) {
      const r = await this.beamSearch(context, o);
      meta.tokens = r.tokens;
      meta.finishReason = r.finishReason;
      if (r.text) yield r.text;
      return;
    }
    const rng = new SeededRandom(o.seed);
    const checkpoint = cancellationCheckpoint(o.signal, 'generation');
    const prefilled = await this.prefill(context, checkpoint, o.signal !== undefined);
    let state = prefilled.state;
    let feed = prefilled.rest;
    let generated = '';
    const ids: number[] = [];
    let emitted = 0;
    try {
      for (let t = 0; t < o.maxTokens; t++) {
        await checkpoint();
        const out = this.stepper.step([feed], state);
        tf.dispose(state);
        state = out.state;
        const logits = out.logits[0]!;
        applyRepetitionPenalty(logits, o.repetitionPenalty === 1 ? [] : [...context, ...ids], o.repetitionPenalty);
        const next = drawIndex(samplingDistribution(logits, o), rng.next());
        ids.push(next);
        meta.tokens++;
        generated = this.codec.decode(ids);
        feed = [next];
        const cut = stopIndex(generated, o.stop);
        if (cut >= 0) {
          meta.finishReason = 'stop';
          if (cut > emitted) yield generated.slice(emitted, cut);
          return;
        }
        if (streaming) {
          const safe = generated.length - pendingStopPrefix(generated, o.stop);
          if (safe > emitted) {
            yield generated.slice(emitted, safe);
            emitted = safe;
          }
          await yieldToEventLoop();
        }
      }
      if (generated.length > emitted) yield generated.slice(emitted);
    } finally {
      tf.dispose(state);
    }
  }

  /**
   * Beam search: keeps the `beam` continuations with the highest total log-probability
   * (after the repetition penalty). A beam that produces a stop sequence is finished; the best
   * finished or surviving beam wins.
   */
  private async beamSearch(context: number[], o: Resolved): Promise<GenerateResult> {
    interface Beam {
      ids: number[];
      logp: number;
    }
    let beams: Beam[] = [{ ids: [], logp: 0 }];
    const finished: (Beam & { text: string })[] = [];
    const checkpoint = cancellationCheckpoint(o.signal, 'beam search');
    const prefilled = await this.prefill(context, checkpoint, o.signal !== undefined);
    let state = prefilled.state;
    let feed: number[][] = [prefilled.rest];
    try {
      for (let t = 0; t < o.maxTokens && beams.length > 0; t++) {
        await checkpoint();
        const out = this.stepper.step(feed, state);
        tf.dispose(state);
        state = out.state;
        const candidates: { parent: number; token: number; logp: number }[] = [];
        beams.forEach((b, r) => {
          const logits = out.logits[r]!;
          applyRepetitionPenalty(logits, o.repetitionPenalty === 1 ? [] : [...context, ...b.ids], o.repetitionPenalty);
          let max = -Infinity;
          for (const v of logits) max = Math.max(max, v);
          let sum = 0;
          for (const v of logits) sum += Math.exp(v - max);
          const lse = max + Math.log(sum);
          // Only the `beam` best tokens of a row can survive the global cut.
          const order = Array.from(logits.keys()).sort((a, c) => logits[c]! - logits[a]! || a - c).slice(0, o.beam);
          for (const token of order) candidates.push({ parent: r, token, logp: b.logp + logits[token]! - lse });
        });
        candidates.sort((a, b) => b.logp - a.logp || a.parent - b.parent || a.token - b.token);
        const next: Beam[] = [];
        const parents: number[] = [];
        for (const c of candidates) {
          if (next.length >= o.beam) break;
          const ids = [...beams[c.parent]!.ids, c.token];
          if (o.stop.length > 0) {
            const text = this.codec.decode(ids);
            const cut = stopIndex(text, o.stop);
            if (cut >= 0) {
              finished.push({ ids, logp: c.logp, text: text.slice(0, cut) });
              continue;
            }
          }
          next.push({ ids, logp: c.logp });
          parents.push(c.parent);
        }
        beams = next;
        if (beams.length === 0) break;
        // Drop finished beams whose score no open beam can still beat (log-probs only fall).
        if (finished.length > 0 && Math.max(...finished.map((f) => f.logp)) >= beams[0]!.logp) break;
        const gathered = tf.tidy(() => {
          const idx = tf.tensor1d(parents, 'int32');
          return state.map((s) => tf.gather(s, idx));
        });
        tf.dispose(state);
        state = gathered;
        feed = beams.map((b) => [b.ids[b.ids.length - 1]!]);
      }
    } finally {
      tf.dispose(state);
    }
    const open = beams.map((b) => ({ ...b, text: this.codec.decode(b.ids), stop: false }));
    const all = [...finished.map((f) => ({ ...f, stop: true })), ...open];
    if (all.length === 0) return { text: '', tokens: 0, finishReason: 'length' };
    all.sort((a, b) => b.logp - a.logp);
    const best = all[0]!;
    return { text: best.text, tokens: best.ids.length, finishReason: best.stop ? 'stop' : 'length' };
  }
}
