import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@seqlab/core';

export async function setupBackend(): Promise<void> {
  await initBackend();
}

export async function tempDir(prefix = 'seqlab-rnn-'): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), prefix));
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}
