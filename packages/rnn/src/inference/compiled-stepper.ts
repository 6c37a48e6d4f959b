import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { gemmF32, gruForward, lstmForward, simpleForward, type RecurrentActivation } from '@seqlab/core';
import { LM_LAYER_NAMES, type LanguageModelConfig } from '../builders/language-model.js';
import type { Stepper } from '../generation/stepper.js';

interface RecurrentWeights {
  kernel: Float32Array;
  recurrent: Float32Array;
  bias: Float32Array | undefined;
  inputDim: number;
  recurrentActivation: RecurrentActivation;
}

interface CellFields {
  activation: { getClassName(): string };
  recurrentActivation?: { getClassName(): string };
  useBias: boolean;
}

const copy = (t: tf.Tensor) => Float32Array.from(t.dataSync() as Float32Array);

/**
 * The generation stepper on the inference fast path: one step (or one prompt) of a
 * {@link languageModel} run on @seqlab/core's kernels over plain arrays, with no tf.layers
 * predict per token. Only the state tensors cross the {@link Stepper} interface (the generator
 * gathers and frees them for beam search). Use {@link CompiledStepper.create}, which returns
 * undefined for models it does not cover.
 */
export class CompiledStepper implements Stepper {
  readonly vocabSize: number;

  private constructor(
    readonly config: LanguageModelConfig,
    private readonly embedding: Float32Array,
    private readonly layers: RecurrentWeights[],
    private readonly output: { kernel: Float32Array; bias: Float32Array | undefined },
  ) {
    this.vocabSize = config.vocabSize;
  }

  /** Copies the weights of a trained language model; undefined if a layer is not covered. */
  static create(trained: tfl.LayersModel, config: LanguageModelConfig): CompiledStepper | undefined {
    const layerOf = (name: string) => {
      try {
        return trained.getLayer(name);
      } catch {
        return undefined;
      }
    };
    const emb = layerOf(LM_LAYER_NAMES.embedding);
    const out = layerOf(LM_LAYER_NAMES.output);
    if (!emb || !out) return undefined;
    const outAct = (out as unknown as { activation: { getClassName(): string } }).activation.getClassName();
    if (outAct !== 'linear') return undefined;
    const layers: RecurrentWeights[] = [];
    for (let i = 0; i < config.layers; i++) {
      const layer = layerOf(LM_LAYER_NAMES.rnn(i));
      if (!layer) return undefined;
      if ((layer as unknown as { resetAfter?: boolean }).resetAfter) return undefined;
      const cell = (layer as unknown as { cell: CellFields }).cell;
      const rec = cell.recurrentActivation?.getClassName();
      const act = cell.activation.getClassName();
      if (config.cell !== 'simple' && (act !== 'tanh' || (rec !== 'sigmoid' && rec !== 'hardSigmoid'))) return undefined;
      if (config.cell === 'simple' && act !== 'tanh') return undefined;
      const w = layer.getWeights();
      const kernel = copy(w[0]!);
      const gates = config.cell === 'lstm' ? 4 : config.cell === 'gru' ? 3 : 1;
      layers.push({
        kernel,
        recurrent: copy(w[1]!),
        bias: cell.useBias ? copy(w[2]!) : undefined,
        inputDim: kernel.length / (gates * config.units),
        recurrentActivation: (rec as RecurrentActivation | undefined) ?? 'sigmoid',
      });
    }
    const ow = out.getWeights();
    return new CompiledStepper(config, copy(emb.getWeights()[0]!), layers, { kernel: copy(ow[0]!), bias: ow[1] ? copy(ow[1]) : undefined });
  }

  private get perLayer(): number {
    return this.config.cell === 'lstm' ? 2 : 1;
  }

  initialState(rows: number): tf.Tensor[] {
    return Array.from({ length: this.config.layers * this.perLayer }, () => tf.zeros([rows, this.config.units]));
  }

  step(tokens: number[][], state: tf.Tensor[]): { logits: Float32Array[]; state: tf.Tensor[] } {
    const rows = tokens.length;
    const len = tokens[0]!.length;
    const { embeddingDim: E, units: H, vocabSize: V, cell } = this.config;
    let x: Float32Array = new Float32Array(rows * len * E);
    tokens.forEach((row, r) =>
      row.forEach((id, t) => {
        if (!(id >= 0 && id < V)) throw new RangeError(`CompiledStepper: token id ${id} outside [0, ${V})`);
        x.set(this.embedding.subarray(id * E, (id + 1) * E), (r * len + t) * E);
      }),
    );
    const next: tf.Tensor[] = [];
    this.layers.forEach((w, i) => {
      const gates = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
      const xp = gemmF32(x, w.kernel, rows * len, w.inputDim, gates * H, w.bias);
      const h0 = state[i * this.perLayer]!.dataSync() as Float32Array;
      const common = { batch: rows, steps: len, units: H, xp, kernel: w.recurrent, h0 };
      const out =
        cell === 'lstm'
          ? lstmForward({ ...common, c0: state[i * this.perLayer + 1]!.dataSync() as Float32Array, recurrentActivation: w.recurrentActivation, save: false })
          : cell === 'gru'
            ? gruForward({ ...common, recurrentActivation: w.recurrentActivation, resetAfter: false, save: false })
            : simpleForward({ ...common, activation: 'tanh' });
      next.push(tf.tensor2d(out.h, [rows, H]));
      if (out.c) next.push(tf.tensor2d(out.c, [rows, H]));
      x = out.sequence;
    });
    const last = new Float32Array(rows * H);
    for (let r = 0; r < rows; r++) last.set(x.subarray((r * len + len - 1) * H, (r * len + len) * H), r * H);
    const logits = gemmF32(last, this.output.kernel, rows, H, V, this.output.bias);
    return { logits: Array.from({ length: rows }, (_, r) => logits.slice(r * V, (r + 1) * V)), state: next };
  }

  dispose(): void {
    // Plain arrays only: nothing to free.
  }
}
