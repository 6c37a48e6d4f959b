import path from 'node:path';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { nameModelInError, type Pipeline } from '@seqlab/core';
import { z } from 'zod';
import { RnnArgumentError } from '../errors.js';
import type { CharVocabulary } from '../text/char-vocabulary.js';
import type { GenerateOptions, GenerateResult, TextGenerator } from './generator.js';
import { loadLanguageModelDir, saveTextGenerator, type LanguageModelDirConfig } from './load.js';

/** The options of a generation request (strict: unknown keys are refused with the valid ones listed). */
export const generateOptionsSchema = z.strictObject({
  maxTokens: z.number().int().min(0).max(100_000).optional(),
  temperature: z.number().min(0).max(100).optional(),
  topK: z.number().int().min(0).optional(),
  topP: z.number().gt(0).max(1).optional(),
  beam: z.number().int().min(1).max(64).optional(),
  repetitionPenalty: z.number().min(1).max(100).optional(),
  stop: z.array(z.string().min(1)).optional(),
  seed: z.number().int().min(0).max(2 ** 32 - 1).optional(),
});

/**
 * Checks generation options: known keys only, each in range.
 *
 * @throws RnnArgumentError naming the option (and, for an unknown key, every valid one).
 */
export function parseGenerateOptions(options: unknown): GenerateOptions {
  const clean = Object.fromEntries(Object.entries((options ?? {}) as Record<string, unknown>).filter(([, v]) => v !== undefined));
  const result = generateOptionsSchema.safeParse(clean);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    throw new RnnArgumentError(`generate: unknown option ${issue.keys.map((k) => `"${k}"`).join(', ')}; valid options: ${Object.keys(generateOptionsSchema.shape).join(', ')}`);
  }
  throw new RnnArgumentError(`generate: option "${issue.path.map(String).join('.')}": ${issue.message}`);
}

/** Validated options plus the caller's abort signal, which is not an option to validate. */
function withSignal(options: GenerateOptions): GenerateOptions {
  const { signal, ...rest } = options;
  const parsed = parseGenerateOptions(rest);
  return signal ? { ...parsed, signal } : parsed;
}

/**
 * The text-generation task over a saved character language model (kind `char-lm`): validated
 * options, whole or streamed generation, and a saver that writes the same directory format.
 */
export class TextGenerationPipeline implements Pipeline {
  readonly task = 'text-generation' as const;
  readonly kind = 'char-lm' as const;
  private disposed = false;

  constructor(
    readonly generator: TextGenerator,
    /** The trained next-token model (for evaluation); owned by the pipeline. */
    readonly languageModel: LayersModel,
    readonly vocabulary: CharVocabulary,
    readonly config: LanguageModelDirConfig,
    readonly name: string,
  ) {}

  /** Generates a continuation of `prompt`; `options.signal` stops it (between steps) once aborted. */
  async generate(prompt: string, options: GenerateOptions = {}): Promise<GenerateResult> {
    this.check(prompt);
    return this.generator.generate(prompt, withSignal(options));
  }

  /** Streams the continuation of `prompt` piece by piece; `options.signal` stops it once aborted. */
  stream(prompt: string, options: GenerateOptions = {}): AsyncIterable<string> {
    this.check(prompt);
    return this.generator.stream(prompt, withSignal(options));
  }

  /** Writes the model with {@link saveTextGenerator}; it loads back identical. */
  async save(dir: string): Promise<void> {
    if (this.disposed) throw new Error('TextGenerationPipeline: used after dispose()');
    await saveTextGenerator(dir, this.languageModel, this.vocabulary, {
      architecture: this.config.architecture,
      ...(this.config.training ? { training: this.config.training as Record<string, unknown> } : {}),
      ...(this.config.metrics ? { metrics: this.config.metrics as Record<string, unknown> } : {}),
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.generator.dispose();
    this.languageModel.dispose();
  }

  private check(prompt: unknown): void {
    if (this.disposed) throw new Error('TextGenerationPipeline: used after dispose()');
    if (typeof prompt !== 'string') throw new RnnArgumentError(`generate: prompt must be a string, got ${typeof prompt}`);
  }
}

/** Loads a saved language model directory as a {@link TextGenerationPipeline}. */
export async function loadTextGenerationPipeline(dir: string, options: { name?: string } = {}): Promise<TextGenerationPipeline> {
  const name = options.name ?? path.basename(path.resolve(dir));
  try {
    const parts = await loadLanguageModelDir(dir);
    return new TextGenerationPipeline(parts.generator, parts.model, parts.vocabulary, parts.config, name);
  } catch (err) {
    throw nameModelInError(err, dir, name);
  }
}
