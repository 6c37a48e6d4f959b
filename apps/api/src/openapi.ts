import { z } from 'zod';
import { jobPaths, jobStateSchema, modelEntrySchema, modelPaths } from './openapi-jobs.js';
import type { Schemas } from './schemas.js';

type JsonSchema = Record<string, unknown>;

// Request bodies come straight from the zod schemas the routes validate with, so the document
// cannot drift from what the server accepts. Responses are described by hand.
function body(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  delete json.$schema;
  return json;
}

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', example: 'invalid_request' },
        message: { type: 'string', example: 'texts.0: must not be empty' },
        details: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
      },
    },
  },
};

const err = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

const commonErrors = {
  '400': err('Invalid body; `error.details` names each failing field'),
  '413': err('Body larger than BODY_LIMIT'),
  '415': err('Body is not application/json'),
  '429': err('Rate limit exceeded (per API key where one is sent, else per address)'),
  '503': err('Model not loaded, workers saturated, or request timed out'),
};

/** Answers of routes that load a named model. */
const modelErrors = {
  '404': err('No model of that name (`model`); the message lists the models that fit the route'),
  '500': err("The model's files are corrupt, or its worker's backend faulted (the worker is replaced)"),
};

const limitErrors = { '422': err('Over a cost limit (`limit_exceeded`, naming the limit) or not supported by this model (`unsupported`)') };

const keyErrors = (scope: string) => ({
  '401': err(`No API key, or an unknown one (\`unauthorized\`; answered with WWW-Authenticate: Bearer)`),
  '403': err(`The key lacks the scope \`${scope}\` (\`forbidden\`)`),
});

/** The two ways to send a key; the job events stream also takes `?key=` (EventSource cannot set headers). */
const securitySchemes = {
  bearer: { type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <key>; keys are listed by their SHA-256 in the SEQLAB_API_KEYS file' },
  apiKeyHeader: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
  keyQuery: { type: 'apiKey', in: 'query', name: 'key', description: 'GET /v1/jobs/{id}/events only' },
};
const keyed = (scope: string) => [{ bearer: [scope] }, { apiKeyHeader: [scope] }];

const json = (schema: JsonSchema, description = 'OK') => ({ description, content: { 'application/json': { schema } } });

const num = { type: 'number' };
const matrix = { type: 'array', items: { type: 'array', items: num } };

/** What POST /v1/classify answers. */
const classifyResponse = {
  type: 'object',
  properties: {
    model: { type: 'string', example: 'question-type' },
    version: { type: ['integer', 'null'], description: 'the model-store version that answered; null for an unversioned folder' },
    kind: { type: 'string', example: 'fasttext' },
    problem: { type: 'string', enum: ['binary', 'multi-class', 'multi-label'] },
    classes: { type: 'array', items: { type: 'string' } },
    thresholds: {
      type: ['object', 'null'],
      additionalProperties: num,
      description: 'multi-label models: the decision threshold of each class (a class is predicted when its score reaches it); null otherwise',
    },
    truncated: { type: 'integer', description: 'texts longer than the model reads at once' },
    results: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          label: { type: 'string', example: 'NUM' },
          score: num,
          predicted: { type: 'array', items: { type: 'string' } },
          labels: { type: 'array', items: { type: 'object', properties: { label: { type: 'string' }, score: num } } },
          truncated: { type: 'boolean' },
          tokens: { type: 'array', description: 'explain: per-token attention weights (recurrent models)', items: { type: 'object', properties: { text: { type: 'string' }, start: { type: 'integer' }, end: { type: 'integer' }, weight: num } } },
          labelTokens: {
            type: 'array',
            description: "explain, multi-label recurrent models: per predicted class, each token's additive share of the class's logit",
            items: {
              type: 'object',
              properties: {
                label: { type: 'string' },
                tokens: { type: 'array', items: { type: 'object', properties: { text: { type: 'string' }, start: { type: 'integer' }, end: { type: 'integer' }, contribution: num } } },
              },
            },
          },
        },
      },
    },
  },
};

/** What POST /v1/forecast answers (one series or columns, or a panel). */
const forecastResponse = {
  type: 'object',
  description: 'For series/columns: model, columns, mean/lower/upper [column][step], dates, fitMs. For panel: model, kind, level, series[] ({ id, seen, mean, lower, upper, dates }), newSeries, notes.',
  properties: {
    model: { type: 'string' },
    columns: { type: 'array', items: { type: 'string' } },
    horizon: num,
    level: num,
    mean: matrix,
    lower: matrix,
    upper: matrix,
    dates: { type: 'array', items: { type: 'string' } },
    fitMs: num,
    kind: { type: 'string' },
    series: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          seen: { type: 'boolean' },
          mean: { type: 'array', items: num },
          lower: { type: 'array', items: num },
          upper: { type: 'array', items: num },
          dates: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    newSeries: { type: 'array', items: { type: 'string' } },
    notes: { type: 'array', items: { type: 'string' } },
  },
};

/** What POST /v1/sentiment answers. */
const sentimentResponse = {
  type: 'object',
  properties: {
    results: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          label: { type: 'string', example: 'positive' },
          score: num,
          probabilities: {},
          tokens: {
            type: 'array',
            items: { type: 'object', properties: { text: { type: 'string' }, start: num, end: num, weight: num } },
          },
        },
      },
    },
  },
};

/** Reads and probes: service info, the demo series, health, readiness, metrics. */
const operationalPaths = {
  '/v1/info': { get: { summary: 'Backend, loaded models, batching and limits', responses: { '200': json({ type: 'object' }) } } },
  '/v1/samples/airline-passengers': {
    get: { summary: 'Monthly airline passengers 1949-1960 (demo series)', responses: { '200': json({ type: 'object' }) } },
  },
  '/healthz': { get: { summary: 'Liveness: the HTTP thread answers', responses: { '200': json({ type: 'object' }) } } },
  '/readyz': {
    get: {
      summary: 'Readiness: every configured model is loaded',
      responses: { '200': json({ type: 'object' }), '503': json({ type: 'object' }, 'Not ready; `reasons` says why') },
    },
  },
  '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text/plain exposition format' } } } },
};

/** Options of {@link openApiDocument}. */
export interface OpenApiOptions {
  /** SEQLAB_REQUIRE_KEYS: prediction routes need a key with scope `predict` (they list 401 and 403). */
  requireKeys?: boolean;
}

/** Builds the OpenAPI 3.1 document served at `/openapi.json`. */
export function openApiDocument(schemas: Schemas, version: string, options: OpenApiOptions = {}): JsonSchema {
  const post = (summary: string, schema: z.ZodType, response: JsonSchema, extra: JsonSchema = {}) => ({
    post: {
      summary,
      requestBody: { required: true, content: { 'application/json': { schema: body(schema) } } },
      responses: { '200': response, ...commonErrors, ...(options.requireKeys ? keyErrors('predict') : {}), ...extra },
      ...(options.requireKeys ? { security: keyed('predict') } : {}),
    },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'seqlab API',
      version,
      description: 'Sentiment, text generation, forecasting and sentence embeddings on TensorFlow.js.',
    },
    paths: {
      '/v1/classify': post(
        'Classify texts with any text classifier (multi-class, multi-label, sentiment); every result says whether its text was truncated',
        schemas.classify,
        json(classifyResponse),
        { ...modelErrors, ...limitErrors },
      ),
      '/v1/sentiment': post(
        'Classify the sentiment of texts, with per-token attention weights',
        schemas.sentiment,
        json(sentimentResponse),
        modelErrors,
      ),
      '/v1/generate': post(
        'Generate text from a prompt (JSON, or Server-Sent Events when stream is true)',
        schemas.generate,
        {
          description: 'Generated text. With streaming: `token` events `{ text }`, then one `done` event `{ text, tokens, tokensPerSecond }` (or `error`).',
          content: {
            'application/json': { schema: { type: 'object', properties: { prompt: { type: 'string' }, text: { type: 'string' }, tokens: num } } },
            'text/event-stream': { schema: { type: 'string' } },
          },
        },
        { ...modelErrors, ...limitErrors },
      ),
      '/v1/forecast': post(
        'Fit a forecaster on the given series (or use a saved one) and forecast `horizon` steps with intervals; with `panel`, a saved global model forecasts every series sent',
        schemas.forecast,
        json(forecastResponse),
        { ...modelErrors, ...limitErrors },
      ),
      '/v1/embed': post(
        'Sentence embeddings',
        schemas.embed,
        json({ type: 'object', properties: { dimensions: num, embeddings: matrix } }),
      ),
      '/v1/similarity': post(
        'Cosine similarity of a query to candidate texts',
        schemas.similarity,
        json({
          type: 'object',
          properties: {
            query: { type: 'string' },
            scores: { type: 'array', items: { type: 'object', properties: { text: { type: 'string' }, score: num } } },
            ranking: { type: 'array', items: { type: 'string' } },
          },
        }),
      ),
      ...operationalPaths,
      ...jobPaths(schemas),
      ...modelPaths(schemas),
    },
    components: { schemas: { Error: errorSchema, JobState: jobStateSchema, ModelEntry: modelEntrySchema }, securitySchemes },
  };
}
