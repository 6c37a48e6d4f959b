/** The OpenAPI description of the job and model-store routes (merged into `/openapi.json`). */
import { z } from 'zod';
import type { Schemas } from './schemas.js';

type JsonSchema = Record<string, unknown>;

const err = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const json = (schema: JsonSchema, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const str = { type: 'string' };
const nullableInt = { type: ['integer', 'null'] };

function body(schema: z.ZodType): JsonSchema {
  const out = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  delete out.$schema;
  return out;
}

const keyErrors = (scope: string, disabled: string) => ({
  '401': err('No API key, or an unknown one (`unauthorized`; answered with WWW-Authenticate: Bearer)'),
  '403': err(`The key lacks the scope \`${scope}\` (\`forbidden\`)`),
  '404': err(`\`${disabled}\`: the server runs without a keys file (SEQLAB_API_KEYS); or \`not_found\`: no such job or model`),
  '429': err('Rate limit exceeded (per API key)'),
});
const keyed = (scope: string) => [{ bearer: [scope] }, { apiKeyHeader: [scope] }];
const idParam = [{ name: 'id', in: 'path', required: true, schema: str }];

/** A job as `GET /v1/jobs/:id` and the `state` events show it. */
export const jobStateSchema = {
  type: 'object',
  required: ['id', 'type', 'task', 'state'],
  properties: {
    id: str,
    type: { type: 'string', enum: ['train', 'evaluate', 'predict'] },
    task: { type: 'string', enum: ['text-classification', 'text-generation', 'forecast'] },
    model: { type: ['string', 'null'] },
    state: { type: 'string', enum: ['queued', 'active', 'completed', 'failed', 'cancelled'] },
    progress: { type: ['object', 'null'], description: 'the last training event (stage, epoch, batch or items)' },
    report: { type: ['object', 'null'], description: 'the training report or the evaluation, once finished' },
    result: { type: ['object', 'null'], properties: { name: str, version: { type: 'integer' } }, description: 'the model version a training published' },
    error: { type: ['object', 'null'], properties: { code: str, message: str } },
    attempts: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    startedAt: { type: ['string', 'null'], format: 'date-time' },
    finishedAt: { type: ['string', 'null'], format: 'date-time' },
  },
};

/** One model as `GET /v1/models` lists it. */
export const modelEntrySchema = {
  type: 'object',
  properties: {
    name: str,
    task: { type: ['string', 'null'] },
    kind: { type: ['string', 'null'] },
    versions: { type: 'array', items: { type: 'integer' }, description: 'published versions, oldest first; [] for an unversioned folder' },
    served: { ...nullableInt, description: 'the version replicas serve (the pin, else the newest); null for an unversioned folder' },
    pinned: nullableInt,
    unversioned: { type: 'boolean', description: 'an older folder with config.json directly under models/<name>/: served as it is, cannot be pinned' },
  },
};

/** `/v1/jobs`, `/v1/jobs/{id}`, `/v1/jobs/{id}/events`. */
export function jobPaths(schemas: Schemas): JsonSchema {
  const multipart = {
    type: 'object',
    required: ['spec', 'file'],
    properties: { spec: { type: 'string', description: 'the job as JSON, without data' }, file: { type: 'string', format: 'binary', description: 'the data (.csv, .tsv, .txt, .jsonl), streamed to the uploads folder' } },
  };
  return {
    '/v1/jobs': {
      post: {
        summary: 'Submit a training, evaluation or batch prediction job (runs in the background; in-process, or on `seqlab worker` processes through Redis)',
        security: keyed('train'),
        requestBody: { required: true, content: { 'application/json': { schema: body(schemas.jobSpec) }, 'multipart/form-data': { schema: multipart } } },
        responses: {
          '202': {
            description: 'Queued; `Location: /v1/jobs/<id>`. A multipart submission also returns the `upload` id later jobs may name as `data`.',
            headers: { Location: { schema: str } },
            content: { 'application/json': { schema: { type: 'object', properties: { id: str, state: { type: 'string', enum: ['queued'] }, upload: str } } } },
          },
          ...keyErrors('train', 'jobs_disabled'),
          '413': err('`payload_too_large`: the upload is over SEQLAB_MAX_UPLOAD_MB (or the JSON over BODY_LIMIT)'),
          '415': err('Body is neither application/json nor multipart/form-data'),
          '422': err('`bad_input`: a bad job spec; `error.details` names the field'),
        },
      },
    },
    '/v1/jobs/{id}': {
      get: { summary: "A job's state, progress and outcome", security: keyed('train'), parameters: idParam, responses: { '200': json(ref('JobState')), ...keyErrors('train', 'jobs_disabled') } },
      delete: {
        summary: 'Cancel a job (the cancellation reaches the training loop)',
        security: keyed('train'),
        parameters: idParam,
        responses: {
          '202': json({ type: 'object', properties: { id: str, state: { type: 'string', enum: ['cancelling', 'completed', 'failed', 'cancelled'] } } }, 'Cancelling, or the final state when it had already finished'),
          ...keyErrors('train', 'jobs_disabled'),
        },
      },
    },
    '/v1/jobs/{id}/events': {
      get: {
        summary: "Server-Sent Events of a job: `state` (the job, as GET /v1/jobs/{id}) first, then `stage`, `epoch`, `batch`, `items` (training events) and `state` changes; ends after a final state. The key may also be sent as `?key=` here",
        security: [...keyed('train'), { keyQuery: ['train'] }],
        parameters: idParam,
        responses: { '200': { description: 'text/event-stream', content: { 'text/event-stream': { schema: str } } }, ...keyErrors('train', 'jobs_disabled') },
      },
    },
  };
}

/** `/v1/models` and `/v1/models/{name}/pin`. */
export function modelPaths(schemas: Schemas): JsonSchema {
  return {
    '/v1/models': {
      get: {
        summary: 'Models in the store with their versions and the one served',
        responses: { '200': json({ type: 'object', properties: { models: { type: 'array', items: ref('ModelEntry') } } }) },
      },
    },
    '/v1/models/{name}/pin': {
      put: {
        summary: 'Pin the version replicas serve (a rollback), or remove the pin with null; replicas follow within MODEL_POLL_MS',
        security: keyed('admin'),
        parameters: [{ name: 'name', in: 'path', required: true, schema: str }],
        requestBody: { required: true, content: { 'application/json': { schema: body(schemas.pin) } } },
        responses: {
          '200': json(ref('ModelEntry'), 'The model after the change'),
          '400': err('Invalid body'),
          ...keyErrors('admin', 'admin_disabled'),
          '415': err('Body is not application/json'),
          '422': err('`unsupported`: an unversioned model cannot be pinned'),
        },
      },
    },
  };
}
