import {
  BadInputError,
  nameModelInError,
  readModelConfig,
  UnsupportedError,
  type ModelConfig,
  type SentimentPipeline,
  type TaskName,
  type TextClassificationPipeline,
} from '@seqlab/core/base';
import type { EmbeddingPipeline, SentenceEncoder } from '@seqlab/embeddings';
import type { ForecastPipeline } from '@seqlab/forecast';
import type { TextGenerationPipeline } from '@seqlab/rnn';
import { SentimentClassifierPipeline } from './sentiment-classifier.js';
import { ENSEMBLE_KIND, loadTextClassifierEnsemble, resolveMemberReference, type MemberReference } from './ensemble.js';
import { checkTask, resolveModelDir, type ResolveModelOptions } from './models.js';
import { defaultModel } from './registry.js';

/** The pipeline type each task returns. */
export interface PipelineByTask {
  sentiment: SentimentPipeline;
  'text-classification': TextClassificationPipeline;
  'text-generation': TextGenerationPipeline;
  forecast: ForecastPipeline;
  embedding: EmbeddingPipeline;
}

/** Options of {@link pipeline}. */
export interface PipelineOptions extends ResolveModelOptions {
  /** The name messages call the model by (a service passes the name its caller used). Default: the name or path given. */
  name?: string;
  /** A loaded sentence encoder to share (USE sentiment and text-classification kinds, the embedding task); not disposed with the pipeline. */
  encoder?: SentenceEncoder;
}

type Loader<P> = (dir: string, name: string, options: PipelineOptions) => Promise<P>;
type LoadedTask = Exclude<TaskName, 'sentiment'>;

const withEncoder = (o: PipelineOptions) => (o.encoder ? { encoder: o.encoder } : {});

/**
 * Directories saved in the older sentiment format (config.json task `sentiment`), read as the
 * binary text classifiers they are: the text-classification family has one result type, so the
 * sentiment task is that family over a negative/positive model.
 */
const SENTIMENT_FORMAT_KINDS: Readonly<Record<string, Loader<TextClassificationPipeline>>> = Object.freeze({
  rnn: async (dir: string, name: string) => (await import('@seqlab/rnn')).loadRecurrentTextClassifier(dir, { name }),
  'use-head': async (dir: string, name: string, o: PipelineOptions) => (await import('@seqlab/embeddings')).loadSentimentClassifier({ modelDir: dir, name, ...withEncoder(o) }),
  hybrid: async (dir: string, name: string, o: PipelineOptions) => (await import('@seqlab/embeddings')).loadSentimentClassifier({ modelDir: dir, name, ...withEncoder(o) }),
});

/**
 * The loaders of every model kind, by task: the one place that knows which package reads which
 * directory. Frozen; a kind not listed here is refused with the list of those that are.
 */
const KINDS: Readonly<{ [T in LoadedTask]: Readonly<Record<string, Loader<PipelineByTask[T]>>> }> = Object.freeze({
  'text-classification': Object.freeze({
    rnn: async (dir: string, name: string) => (await import('@seqlab/rnn')).loadRecurrentTextClassifier(dir, { name }),
    fasttext: async (dir: string, name: string) => (await import('@seqlab/rnn/linear')).loadLinearTextClassifier(dir, { name }),
    'tfidf-lr': async (dir: string, name: string) => (await import('@seqlab/rnn/linear')).loadLinearTextClassifier(dir, { name }),
    use: async (dir: string, name: string, o: PipelineOptions) => (await import('@seqlab/embeddings')).loadUseTextClassifier(dir, { name, ...withEncoder(o) }),
    hybrid: async (dir: string, name: string, o: PipelineOptions) => (await import('@seqlab/embeddings')).loadUseTextClassifier(dir, { name, ...withEncoder(o) }),
    // Members of any kind, each loaded by this table (paths inside the ensemble's own directory).
    [ENSEMBLE_KIND]: async (dir: string, name: string, o: PipelineOptions) =>
      loadTextClassifierEnsemble(
        dir,
        name,
        (memberDir, memberName) => pipeline('text-classification', memberDir, { ...o, name: memberName, allowPaths: true }),
        (reference) => loadNamedMember(name, reference, o),
      ),
  }),
  'text-generation': Object.freeze({
    'char-lm': async (dir: string, name: string) => (await import('@seqlab/rnn')).loadTextGenerationPipeline(dir, { name }),
  }),
  forecast: new Proxy(
    {},
    {
      // Every forecaster registry name is a kind; the forecast package checks it.
      get: () => async (dir: string, name: string) => (await import('@seqlab/forecast')).ForecastPipeline.load(dir, { name }),
      has: () => true,
    },
  ) as Record<string, Loader<ForecastPipeline>>,
  embedding: Object.freeze({
    'semantic-index': async (dir: string, name: string, o: PipelineOptions) => (await import('@seqlab/embeddings')).loadEmbeddingPipeline(dir, { name, ...withEncoder(o) }),
  }),
});

/**
 * A member an ensemble names: another model of the same models folder (never a path), found by
 * its content digest when the ensemble recorded one (the name is then a hint), and one level
 * only: a named member that is itself an ensemble could name this one back.
 */
async function loadNamedMember(ensemble: string, reference: MemberReference, o: PipelineOptions): Promise<TextClassificationPipeline> {
  const member = await resolveMemberReference(ensemble, reference, { ...o, allowPaths: false });
  if ((await readModelConfig(member.dir)).kind === ENSEMBLE_KIND) throw new BadInputError(`model "${ensemble}": member "${member.name}" is an ensemble; ensembles do not nest`);
  return pipeline('text-classification', member.name, { ...o, name: member.name, allowPaths: false });
}

/** The model kinds a task can load (for messages and documentation). */
export function modelKinds(task: TaskName): string[] {
  if (task === 'forecast') return ['any forecaster saved with save()'];
  if (task === 'sentiment') return [...new Set([...Object.keys(KINDS['text-classification']), ...Object.keys(SENTIMENT_FORMAT_KINDS)])];
  return Object.keys(KINDS[task]);
}

// The runtime is imported when a model needs it: the linear kinds score with typed arrays, and a
// one-text `seqlab classify` of such a model then starts without loading TensorFlow.js at all.
async function ensureBackend(): Promise<void> {
  const { getBackendInfo, initBackend } = await import('@seqlab/core');
  if (!getBackendInfo()) await initBackend();
}

/** Kinds whose models load and predict without TensorFlow.js (their package entry does not import it). */
const TF_FREE_KINDS: ReadonlySet<string> = new Set(['fasttext', 'tfidf-lr']);

/**
 * One call for every task, in the spirit of transformers.js: `pipeline(task, model?)` resolves
 * the model (a name under the models folder, a directory path where allowed, or the task's
 * default), reads its config.json, checks that it serves `task`, and loads it with the loader
 * of its kind. For `forecast`, `model` may also be a forecaster registry name (`linear`,
 * `holt-winters`, ...), which fits a fresh model per request; for `embedding`, no model means
 * the installed sentence encoder alone.
 *
 * @example
 * ```ts
 * const sentiment = await pipeline('sentiment');            // the default: models/sentiment-glove
 * const [r] = await sentiment.predict(['a gorgeous, witty film']);
 * sentiment.dispose();
 * ```
 * @throws BadInputError for an unknown task (listing the valid ones) or a model of another task.
 * @throws NotFoundError for an unknown model (listing the available ones).
 */
export async function pipeline<T extends TaskName>(task: T, model?: string, options: PipelineOptions = {}): Promise<PipelineByTask[T]> {
  checkTask(task);
  if (task === 'forecast') {
    if (model === undefined) throw new BadInputError('forecast: name a forecaster (e.g. "holt-winters") or a saved forecaster');
    const fc = await import('@seqlab/forecast');
    if ((fc.FORECASTER_NAMES as readonly string[]).includes(model)) {
      // Always on the TensorFlow.js backend, neural or not: the linear models' products run there
      // when one is active (float32) and in plain loops otherwise (float64), so a process-wide
      // choice would make the same request give different numbers in different apps.
      await ensureBackend();
      return fc.ForecastPipeline.create(model) as PipelineByTask[T];
    }
  }
  if (task === 'embedding' && model === undefined) {
    await ensureBackend();
    return (await (await import('@seqlab/embeddings')).loadEmbeddingPipeline(undefined, options.encoder ? { encoder: options.encoder } : {})) as PipelineByTask[T];
  }
  const spec = model ?? defaultModel(task)!;
  const resolved = resolveModelDir(spec, options);
  const dir = resolved.dir;
  const name = options.name ?? resolved.name;
  let config: ModelConfig;
  try {
    config = await readModelConfig(dir);
  } catch (err) {
    throw nameModelInError(err, dir, name);
  }
  if (task === 'sentiment') return (await loadSentiment(dir, name, config, options)) as PipelineByTask[T];
  if (task === 'text-classification' && config.task === 'sentiment') return (await loadClassifier(dir, name, config, options)) as PipelineByTask[T];
  if (config.task !== task) throw new BadInputError(`model "${name}" is a ${config.task} model, not a ${task} model`);
  const loaders = KINDS[task as LoadedTask] as Record<string, Loader<PipelineByTask[T]>>;
  const load = Object.prototype.hasOwnProperty.call(loaders, config.kind) || task === 'forecast' ? loaders[config.kind] : undefined;
  if (!load) throw new UnsupportedError(`model "${name}" is a ${task} model of kind "${config.kind}", which this build cannot load; kinds: ${modelKinds(task).join(', ')}`);
  return runLoader(load, dir, name, options, config.kind);
}

/** Runs a model loader once the backend is ready (if its kind needs one), naming the model in whatever it throws. */
async function runLoader<P>(load: Loader<P>, dir: string, name: string, options: PipelineOptions, kind: string): Promise<P> {
  if (!TF_FREE_KINDS.has(kind)) await ensureBackend();
  try {
    return await load(dir, name, options);
  } catch (err) {
    throw nameModelInError(err, dir, name);
  }
}

/** A text classifier of either format: text-classification, or the older sentiment one. */
async function loadClassifier(dir: string, name: string, config: ModelConfig, options: PipelineOptions): Promise<TextClassificationPipeline> {
  const loaders = config.task === 'sentiment' ? SENTIMENT_FORMAT_KINDS : KINDS['text-classification'];
  const load = Object.prototype.hasOwnProperty.call(loaders, config.kind) ? loaders[config.kind] : undefined;
  if (!load) throw new UnsupportedError(`model "${name}" is a ${config.task} model of kind "${config.kind}", which this build cannot load; kinds: ${Object.keys(loaders).join(', ')}`);
  return runLoader(load, dir, name, options, config.kind);
}

/** The sentiment task: text classification over a binary negative/positive model. */
async function loadSentiment(dir: string, name: string, config: ModelConfig, options: PipelineOptions): Promise<SentimentPipeline> {
  if (config.task !== 'sentiment' && config.task !== 'text-classification') throw new BadInputError(`model "${name}" is a ${config.task} model, not a sentiment model`);
  const classifier = await loadClassifier(dir, name, config, options);
  try {
    return new SentimentClassifierPipeline(classifier);
  } catch (err) {
    classifier.dispose();
    throw err;
  }
}
