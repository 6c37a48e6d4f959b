import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadLayersModel } from '@seqlab/core';
import { resolveLanguageModelOptions, type LanguageModelConfig } from '../builders/language-model.js';
import { RnnArgumentError } from '../errors.js';
import { CharVocabulary, type CharVocabularyJSON } from '../text/char-vocabulary.js';
import { TextGenerator } from './generator.js';
import { RecurrentStepper } from './stepper.js';
import { CompiledStepper } from '../inference/compiled-stepper.js';

/** `config.json` of a saved language model directory. */
export interface LanguageModelDirConfig {
  task: 'text-generation';
  format: string;
  tokenizer: 'char';
  vocabularyFile: string;
  architecture: LanguageModelConfig;
  [key: string]: unknown;
}

export async function readJson<T>(file: string, what: string): Promise<T> {
  if (!existsSync(file)) throw new RnnArgumentError(`${what}: ${file} does not exist`);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (err) {
    throw new RnnArgumentError(`${what}: ${file} is not valid JSON (${(err as Error).message})`);
  }
}

/**
 * Loads a text generator saved by the shakespeare recipe (or any directory with `model.json`,
 * `config.json` and the vocabulary it names).
 *
 * @example
 * ```ts
 * const gen = await loadTextGenerator('models/shakespeare-char');
 * const { text } = await gen.generate('ROMEO:\n', { maxTokens: 100, temperature: 0.8, seed: 1 });
 * gen.dispose();
 * ```
 *
 * `fastPath: false` runs every step through tf.layers instead of the inference fast path
 * ({@link CompiledStepper}); both give the same logits to float32 rounding.
 */
export async function loadTextGenerator(dir: string, options: { fastPath?: boolean } = {}): Promise<TextGenerator> {
  const config = await readJson<LanguageModelDirConfig>(path.join(dir, 'config.json'), 'loadTextGenerator');
  if (config.task !== 'text-generation') {
    throw new RnnArgumentError(`loadTextGenerator: ${path.join(dir, 'config.json')} has task ${JSON.stringify(config.task)}, expected "text-generation"`);
  }
  if (config.tokenizer !== 'char') throw new RnnArgumentError(`loadTextGenerator: unsupported tokenizer ${JSON.stringify(config.tokenizer)}`);
  const arch = resolveLanguageModelOptions(config.architecture);
  const vocab = CharVocabulary.fromJSON(await readJson<CharVocabularyJSON>(path.join(dir, config.vocabularyFile ?? 'vocabulary.json'), 'loadTextGenerator'));
  if (vocab.size !== arch.vocabSize) {
    throw new RnnArgumentError(`loadTextGenerator: vocabulary has ${vocab.size} entries but the model expects ${arch.vocabSize}`);
  }
  const trained = await loadLayersModel(dir);
  try {
    // The inference fast path when the model's layers allow it, else a tf.layers stepper.
    const stepper = (options.fastPath !== false ? CompiledStepper.create(trained, arch) : undefined) ?? new RecurrentStepper(trained, arch);
    return new TextGenerator(stepper, vocab, vocab.encode('\n')[0] ?? 0);
  } finally {
    trained.dispose();
  }
}
