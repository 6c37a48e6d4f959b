import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadLayersModel, ModelFileError } from '@seqlab/core';
import type { SentimentModelDirConfig } from '@seqlab/rnn';
import type { TextVectorizer } from '@seqlab/tokenize';

async function readJson<T>(file: string): Promise<T> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ModelFileError(file, code === 'ENOENT' ? 'file not found' : `cannot be read (${code ?? String(err)})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new ModelFileError(file, `is not valid JSON (${(err as Error).message})`);
  }
}

/**
 * The sentence features of a trained `@seqlab/rnn` sentiment model (BiLSTM + attention
 * pooling, as saved by `npm run recipe:sst2` in `models/sentiment`): the attention-pooled
 * recurrent states, i.e. the vector its output layer reads. Joined with the USE vector they
 * feed the hybrid sentiment head.
 */
export class RnnSentimentFeatures {
  private disposed = false;

  private constructor(
    private readonly full: tfl.LayersModel[],
    private readonly extractors: tfl.LayersModel[],
    private readonly vectorizer: TextVectorizer,
    /** Tokens kept per text. */
    readonly maxLength: number,
    /** Length of one feature vector (for an ensemble, the members' pooled vectors side by side). */
    readonly dim: number,
    /** The model directory. */
    readonly dir: string,
  ) {}

  /** Loads the RNN sentiment model in `dir` (model.json, config.json, vectorizer JSON). */
  static async load(dir: string): Promise<RnnSentimentFeatures> {
    // Imported here so that plain embedding users do not load the RNN package and its layers.
    const rnn = await import('@seqlab/rnn');
    const { TextVectorizer: Vectorizer } = await import('@seqlab/tokenize');
    const configFile = path.join(dir, 'config.json');
    const config = await readJson<SentimentModelDirConfig>(configFile);
    // A binary text classifier of kind rnn is the same network with class names of its own.
    const binaryClassifier = (config.task as string) === 'text-classification' && (config as { kind?: string }).kind === 'rnn' && (config as { problem?: string }).problem === 'binary';
    if (config.task !== 'sentiment' && !binaryClassifier) throw new ModelFileError(configFile, `has task ${JSON.stringify(config.task)}, expected "sentiment" or a binary "text-classification" model of kind rnn`);
    const arch = rnn.resolveTextClassifierOptions(config.architecture);
    if (arch.attention === 'none') throw new ModelFileError(configFile, 'describes a model without attention pooling; the hybrid needs its pooled features');
    const vectorizer = Vectorizer.fromJSON(await readJson<unknown>(path.join(dir, config.vectorizerFile ?? 'vectorizer.json')));
    const tflayers = await import('@tensorflow/tfjs-layers');
    const full: tfl.LayersModel[] = [];
    const extractors: tfl.LayersModel[] = [];
    let dim = 0;
    try {
      for (const memberDir of rnn.sentimentMemberDirs(dir, config)) {
        const m = await loadLayersModel(memberDir);
        full.push(m);
        const pooled = (m.getLayer(rnn.POOLING_LAYER).output as tfl.SymbolicTensor[])[0]!;
        extractors.push(tflayers.model({ inputs: m.inputs, outputs: pooled, name: 'rnn_sentence_features' }));
        const d = pooled.shape[pooled.shape.length - 1];
        if (typeof d !== 'number') throw new ModelFileError(path.join(memberDir, 'model.json'), 'attention pooling output has no fixed size');
        dim += d;
      }
    } catch (err) {
      for (const m of full) m.dispose();
      throw err;
    }
    return new RnnSentimentFeatures(full, extractors, vectorizer, config.maxLength, dim, dir);
  }

  /**
   * Features of each text, `texts.length` rows of {@link dim} floats back to back. Texts are
   * grouped by length so padding costs little.
   */
  async features(texts: string[], batchSize = 128): Promise<Float32Array> {
    if (this.disposed) throw new Error('RnnSentimentFeatures: used after dispose()');
    const ids = texts.map((t) => this.vectorizer.encodeIds(t).slice(0, this.maxLength));
    const order = ids.map((_, i) => i).sort((a, b) => ids[a]!.length - ids[b]!.length);
    const out = new Float32Array(texts.length * this.dim);
    for (let s = 0; s < order.length; s += batchSize) {
      const rows = order.slice(s, s + batchSize);
      // Never fewer than two steps, as @seqlab/rnn's RecurrentTextClassifier.predict reads them.
      const L = Math.max(2, ...rows.map((r) => ids[r]!.length));
      const flat = new Int32Array(rows.length * L);
      rows.forEach((r, j) => flat.set(ids[r]!, j * L));
      const feats = tf.tidy(() => {
        const x = tf.tensor2d(flat, [rows.length, L], 'int32');
        const parts = this.extractors.map((e) => e.predict(x) as tf.Tensor);
        return parts.length === 1 ? parts[0]! : tf.concat(parts, -1);
      });
      const data = (await feats.data()) as Float32Array;
      feats.dispose();
      rows.forEach((r, j) => out.set(data.subarray(j * this.dim, (j + 1) * this.dim), r * this.dim));
    }
    return out;
  }

  /**
   * The RNN model's own read-out as a linear function of {@link features}: the positive-vs-
   * negative logit `kernel . f + bias` of its softmax layer (for an ensemble, the members'
   * logits averaged). Lets a hybrid head start from, or keep, what the RNN already learned.
   */
  logitWeights(): { kernel: Float32Array; bias: number } {
    if (this.disposed) throw new Error('RnnSentimentFeatures: used after dispose()');
    const kernel = new Float32Array(this.dim);
    let bias = 0;
    let offset = 0;
    const k = this.full.length;
    for (const m of this.full) {
      const [w, b] = m.getLayer('probabilities').getWeights();
      const W = w!.dataSync();
      const B = b!.dataSync();
      const rows = w!.shape[0]!;
      if (w!.shape[1] !== 2) throw new ModelFileError(this.dir, `output layer has ${w!.shape[1]} classes, expected 2`);
      for (let r = 0; r < rows; r++) kernel[offset + r] = (W[r * 2 + 1]! - W[r * 2]!) / k;
      bias += (B[1]! - B[0]!) / k;
      offset += rows;
    }
    return { kernel, bias };
  }

  /** Frees the RNN weights. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const m of this.full) m.dispose();
  }
}
