import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, REPO_ROOT, createConfig, loadConfig } from '../src/index.js';

describe('loadConfig', () => {
  it('has working defaults: loopback, default models under models/', () => {
    const c = loadConfig({});
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(3000);
    // The registry's defaults (the sentiment one chosen by the rule in its model card).
    expect(c.sentimentModel).toBe(path.join(REPO_ROOT, 'models/sentiment-glove'));
    expect(c.generatorModel).toBe(path.join(REPO_ROOT, 'models/shakespeare-char'));
    expect(c.corsOrigins).toEqual([]);
    expect(c.embeddings).toBe(true);
  });

  it('reads and coerces environment variables', () => {
    const c = loadConfig({
      PORT: '8081',
      HOST: '0.0.0.0',
      CORS_ORIGINS: 'https://a.example, https://b.example',
      BATCH_WINDOW_MS: '0',
      WORKERS: '3',
      EMBEDDINGS: 'off',
      SENTIMENT_MODEL: 'my-model',
      GENERATOR_MODEL: 'off',
      SEQLAB_MODELS: '/srv/models',
    });
    expect(c).toMatchObject({ port: 8081, host: '0.0.0.0', batchWindowMs: 0, workers: 3, embeddings: false });
    expect(c.corsOrigins).toEqual(['https://a.example', 'https://b.example']);
    // A bare name resolves inside SEQLAB_MODELS (the folder the CLI reads too); "off" disables the model.
    expect(c.sentimentModel).toBe('/srv/models/my-model');
    expect(c.generatorModel).toBeUndefined();
  });

  it('names every bad variable', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', WORKERS: '0', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/^PORT:/m);
    expect(problems).toMatch(/^WORKERS:/m);
    expect(problems).toMatch(/^LOG_LEVEL:/m);
  });
});

describe('createConfig', () => {
  it('validates explicit values by field name', () => {
    expect(() => createConfig({ batchMaxSize: 0 })).toThrow(/batchMaxSize/);
    expect(createConfig({ rateLimitMax: 0 }).rateLimitMax).toBe(0);
  });
});
