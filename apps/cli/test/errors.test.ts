import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ModelFileError, SEQLAB_ERROR_CODES, SeqlabError, type SeqlabErrorCode } from '@seqlab/core';
import { generateCommand } from '../src/commands/generate.js';
import { sentimentCommand } from '../src/commands/sentiment.js';
import { ForecastInputError as RealForecastInputError } from '@seqlab/forecast';
import { EXIT, EXIT_BY_CODE, InputError, NotFoundError, UsageError, describeError, optionFlag } from '../src/errors.js';
import { int, parseOptions, positiveInt, probability } from '../src/options.js';
import { run } from './helpers.js';

describe('describeError', () => {
  it('maps the CLI\'s own errors to their documented exit codes', () => {
    expect(describeError(new UsageError('x')).exitCode).toBe(EXIT.usage);
    expect(describeError(new InputError('x')).exitCode).toBe(EXIT.usage);
    expect(describeError(new NotFoundError('x')).exitCode).toBe(EXIT.notFound);
    expect(describeError(new Error('boom')).exitCode).toBe(EXIT.runtime);
    expect(describeError(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"))).toEqual({
      code: 'bad_input',
      message: "unknown option '--x'",
      exitCode: EXIT.usage,
    });
  });

  it('maps package errors by their code, never by class name', () => {
    // A class named like a package error but without a code is an internal fault.
    class ForecastInputError extends Error {
      override readonly name = 'ForecastInputError';
    }
    expect(describeError(new ForecastInputError('column "x" not found')).code).toBe('internal');
    expect(describeError(new RealForecastInputError('column "x" not found'))).toMatchObject({ code: 'bad_input', exitCode: EXIT.usage });
    expect(describeError(new ModelFileError('/m/model.json', 'truncated'))).toMatchObject({ code: 'model_file_corrupt', exitCode: EXIT.corrupt });
    const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', path: '/nope.csv' });
    expect(describeError(enoent)).toEqual({ code: 'not_found', message: 'file not found: /nope.csv', exitCode: 3 });
  });

  it('keeps only the first line of a message', () => {
    expect(describeError(new Error('first\n    at stack')).message).toBe('first');
  });
});

describe('option schemas', () => {
  const schema = z.object({ maxTokens: positiveInt, topP: probability.optional(), beam: int(1, 8).default(1) });

  it('coerces valid strings', () => {
    expect(parseOptions(schema, { maxTokens: '12', topP: '0.9' })).toEqual({ maxTokens: 12, topP: 0.9, beam: 1 });
  });

  it('names the flag, the expectation and the received value', () => {
    expect(() => parseOptions(schema, { maxTokens: 'abc' })).toThrow('--max-tokens: expected a positive integer, got "abc"');
    expect(() => parseOptions(schema, { maxTokens: '3', topP: '1.5' })).toThrow('--top-p: expected a number in (0, 1], got "1.5"');
    expect(() => parseOptions(schema, { maxTokens: '3', beam: '9' })).toThrow('--beam: expected an integer between 1 and 8, got "9"');
    expect(() => parseOptions(schema, { maxTokens: '2.5' })).toThrow(UsageError);
  });

  it('spells camelCase keys as flags', () => {
    expect(optionFlag('repetitionPenalty')).toBe('--repetition-penalty');
  });
});

describe('the code -> exit code table, on real failures', () => {
  const EXPECTED: Record<SeqlabErrorCode, number> = {
    bad_input: 2,
    not_found: 3,
    unsupported: 2,
    limit_exceeded: 2,
    model_file_corrupt: 4,
    cancelled: 130,
    internal: 1,
  };

  it.each(SEQLAB_ERROR_CODES.map((c) => [c, EXPECTED[c]] as const))('%s -> exit %i', (code, exit) => {
    expect(EXIT_BY_CODE[code]).toBe(exit);
    expect(describeError(new SeqlabError(code, 'x')).exitCode).toBe(exit);
  });

  let root: string;
  const previous = process.env.SEQLAB_MODELS;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'seqlab-cli-errors-'));
    const shipped = fileURLToPath(new URL('../../../models/shakespeare-char', import.meta.url));
    cpSync(shipped, join(root, 'lm'), { recursive: true });
    cpSync(shipped, join(root, 'no-config'), { recursive: true });
    rmSync(join(root, 'no-config', 'config.json'));
    cpSync(shipped, join(root, 'no-weights'), { recursive: true });
    rmSync(join(root, 'no-weights', readdirSync(join(root, 'no-weights')).find((f) => f.endsWith('.bin'))!));
    process.env.SEQLAB_MODELS = root;
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.SEQLAB_MODELS;
    else process.env.SEQLAB_MODELS = previous;
    rmSync(root, { recursive: true, force: true });
  });

  it.each([
    [['generate', '--model', 'no-config', '--prompt', 'x'], 3, /^seqlab: no-config\/config\.json: file not found/],
    [['generate', '--model', 'no-weights', '--prompt', 'x'], 4, /^seqlab: no-weights\/weights\.[0-9a-f]+\.bin: weights file listed in model\.json is missing/],
    [['generate', '--model', 'nope', '--prompt', 'x'], 3, /^seqlab: no model named "nope"; available models: lm, no-config, no-weights/],
    [['sentiment', '--model', 'lm', 'fine'], 2, /^seqlab: model "lm" is a text-generation model, not a sentiment model/],
  ])('%j -> exit %i', async (argv, exit, message) => {
    const command = argv[0] === 'generate' ? generateCommand() : sentimentCommand();
    const r = await run(command, argv.slice(1));
    expect(r.exitCode).toBe(exit);
    expect(r.stderr).toMatch(message);
    // Models named by name are reported by name: the models folder's path is not printed.
    expect(r.stderr).not.toContain(root);
  });
});
