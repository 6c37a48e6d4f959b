import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ModelFileError } from '@seqlab/core';
import { ForecastInputError as RealForecastInputError } from '@seqlab/forecast';
import { EXIT, InputError, NotFoundError, UsageError, describeError, optionFlag } from '../src/errors.js';
import { int, parseOptions, positiveInt, probability } from '../src/options.js';

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
