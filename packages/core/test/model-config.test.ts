import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_CONFIG_VERSION, nameModelInError, readModelConfig, writeModelConfig, ModelFileError } from '../src/index.js';

let root: string;
beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'seqlab-config-'));
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function dirWith(name: string, files: Record<string, unknown>): Promise<string> {
  const dir = path.join(root, name);
  await fs.mkdir(dir, { recursive: true });
  for (const [file, json] of Object.entries(files)) await fs.writeFile(path.join(dir, file), typeof json === 'string' ? json : JSON.stringify(json));
  return dir;
}

describe('model directory config.json', () => {
  it('writes the header first and reads it back', async () => {
    const dir = path.join(root, 'written');
    const config = await writeModelConfig(dir, { task: 'forecast', kind: 'linear' }, { version: 99, columns: ['a'] });
    expect(config).toEqual({ version: MODEL_CONFIG_VERSION, task: 'forecast', kind: 'linear', columns: ['a'] });
    expect(Object.keys(JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8')))).toEqual(['version', 'task', 'kind', 'columns']);
    expect(await readModelConfig(dir)).toEqual(config);
  });

  it.each([
    ['a recurrent sentiment model from before the header', { 'config.json': { task: 'sentiment', labels: ['negative', 'positive'] } }, { task: 'sentiment', kind: 'rnn' }],
    ['a character language model from before the header', { 'config.json': { task: 'text-generation', tokenizer: 'char' } }, { task: 'text-generation', kind: 'char-lm' }],
    ['a USE head with its facts in model.json', { 'model.json': { modelTopology: {}, userDefinedMetadata: { seqlab: { kind: 'hybrid', rnnModel: '../s' } } } }, { task: 'sentiment', kind: 'hybrid', rnnModel: '../s' }],
    ['a forecaster with only forecaster.json', { 'forecaster.json': { format: 'seqlab-forecaster', name: 'holt-winters' } }, { task: 'forecast', kind: 'holt-winters' }],
  ])('reads %s', async (what, files, expected) => {
    const dir = await dirWith(what.replace(/\W+/g, '-'), files);
    expect(await readModelConfig(dir)).toMatchObject({ version: 1, ...expected });
  });

  it.each([
    ['no description at all', {}, 'not_found', /config\.json: file not found \(not a seqlab model directory\)/],
    ['a newer version', { 'config.json': { version: 2, task: 'sentiment', kind: 'rnn' } }, 'model_file_corrupt', /written by a newer seqlab \(config version 2/],
    ['an unknown task', { 'config.json': { version: 1, task: 'translation', kind: 'x' } }, 'model_file_corrupt', /"task" must be one of sentiment, text-classification, text-generation, forecast, embedding, got "translation"/],
    ['no kind', { 'config.json': { version: 1, task: 'sentiment' } }, 'model_file_corrupt', /"kind" must be a non-empty string/],
    ['broken JSON', { 'config.json': '{"task": ' }, 'model_file_corrupt', /config\.json: is not valid JSON/],
  ])('refuses %s with a coded error naming the file', async (what, files, code, message) => {
    const dir = await dirWith(`bad-${what.replace(/\W+/g, '-')}`, files);
    const err = await readModelConfig(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect(err).toMatchObject({ code, message: expect.stringMatching(message) });
  });

  it('a missing directory is not_found', async () => {
    await expect(readModelConfig(path.join(root, 'nowhere'))).rejects.toMatchObject({ code: 'not_found' });
  });

  it('nameModelInError replaces the directory by the model name', () => {
    const dir = path.join(root, 'm');
    const err = nameModelInError(new ModelFileError(path.join(dir, 'weights.bin'), 'truncated'), dir, 'my-model');
    expect(err.message).toBe('my-model/weights.bin: truncated');
  });
});
