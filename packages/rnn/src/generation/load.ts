import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { loadLayersModel, saveModel, UnsupportedError, writeJsonAtomic, writeModelConfig } from '@seqlab/core';
import { resolveLanguageModelOptions, type LanguageModelConfig } from '../builders/language-model.js';
import { RnnArgumentError } from '../errors.js';
import { CharVocabulary, type CharVocabularyJSON } from '../text/char-vocabulary.js';
import { TextGenerator } from './generator.js';
import { RecurrentStepper } from './stepper.js';
import { CompiledStepper } from '../inference/compiled-stepper.js';
import { readJson } from '../read-json.js';

/** `config.json` of a saved language model directory. */
export interface LanguageModelDirConfig {
  /** config.json header version (absent in directories saved before it existed). */
  version?: number;
  task: 'text-generation';
  /** Model kind: `char-lm` (absent in directories saved before it existed). */
  kind?: 'char-lm';
  format: string;
  tokenizer: 'char';
  vocabularyFile: string;
  architecture: LanguageModelConfig;
  [key: string]: unknown;
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
  const { generator, model } = await loadLanguageModelDir(dir, options);
  model.dispose();
  return generator;
}

/** @internal The parts of a saved language model directory: its config, vocabulary, model and generator. */
export async function loadLanguageModelDir(
  dir: string,
  options: { fastPath?: boolean } = {},
): Promise<{ config: LanguageModelDirConfig; vocabulary: CharVocabulary; model: LayersModel; generator: TextGenerator }> {
  const config = await readJson<LanguageModelDirConfig>(path.join(dir, 'config.json'), 'loadTextGenerator');
  if (config.task !== 'text-generation') {
    throw new RnnArgumentError(`loadTextGenerator: ${path.join(dir, 'config.json')} has task ${JSON.stringify(config.task)}, expected "text-generation"`);
  }
  if (config.tokenizer !== 'char') throw new UnsupportedError(`loadTextGenerator: unsupported tokenizer ${JSON.stringify(config.tokenizer)}`);
  const arch = resolveLanguageModelOptions(config.architecture);
  const vocab = CharVocabulary.fromJSON(await readJson<CharVocabularyJSON>(path.join(dir, config.vocabularyFile ?? 'vocabulary.json'), 'loadTextGenerator'));
  if (vocab.size !== arch.vocabSize) {
    throw new RnnArgumentError(`loadTextGenerator: vocabulary has ${vocab.size} entries but the model expects ${arch.vocabSize}`);
  }
  const trained = await loadLayersModel(dir);
  try {
    // The inference fast path when the model's layers allow it, else a tf.layers stepper.
    const stepper = (options.fastPath !== false ? CompiledStepper.create(trained, arch) : undefined) ?? new RecurrentStepper(trained, arch);
    return { config, vocabulary: vocab, model: trained, generator: new TextGenerator(stepper, vocab, vocab.encode('\n')[0] ?? 0) };
  } catch (err) {
    trained.dispose();
    throw err;
  }
}

/** Options of {@link saveTextGenerator}. */
export interface SaveTextGeneratorOptions {
  /** The language model's architecture (what {@link languageModel} was built with). */
  architecture: LanguageModelConfig;
  /** What produced the model (seed, command, data); stored in `config.json`. */
  training?: Record<string, unknown>;
  /** Measured quality (validation loss, bits per character); stored in `config.json`. */
  metrics?: Record<string, unknown>;
}

/**
 * Saves a character language model in the directory layout {@link loadTextGenerator} reads:
 * `model.json` + weights, `vocabulary.json`, then `config.json` (task `text-generation`, kind
 * `char-lm`). Every file is written atomically, `config.json` last. The one writer of this
 * format: recipes, the CLI trainer, bench and test fixtures all call it.
 */
export async function saveTextGenerator(
  dir: string,
  model: LayersModel,
  vocabulary: CharVocabulary,
  options: SaveTextGeneratorOptions,
): Promise<LanguageModelDirConfig> {
  const arch = resolveLanguageModelOptions(options.architecture);
  if (vocabulary.size !== arch.vocabSize) {
    throw new RnnArgumentError(`saveTextGenerator: the vocabulary has ${vocabulary.size} entries but the architecture expects ${arch.vocabSize}`);
  }
  await mkdir(dir, { recursive: true });
  await saveModel(model, dir);
  await writeJsonAtomic(path.join(dir, VOCABULARY_FILE), vocabulary.toJSON());
  const fields = {
    format: 'seqlab-rnn/language-model@1',
    tokenizer: 'char',
    vocabularyFile: VOCABULARY_FILE,
    architecture: arch,
    ...(options.training ? { training: options.training } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  };
  return (await writeModelConfig(dir, { task: 'text-generation', kind: 'char-lm' }, fields)) as unknown as LanguageModelDirConfig;
}

const VOCABULARY_FILE = 'vocabulary.json';
