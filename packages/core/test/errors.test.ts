import { describe, expect, it } from 'vitest';
import {
  BadInputError,
  CancelledError,
  InternalError,
  isSeqlabError,
  LimitExceededError,
  NotFoundError,
  SEQLAB_ERROR_CODES,
  SeqlabError,
  UnsupportedError,
} from '../src/index.js';

// Apps map `code` to statuses and exit codes and print `name: message`; packages subclass these
// classes (BadInputError -> RnnArgumentError). All of that must hold for every public class.

const CLASSES = [
  [BadInputError, 'bad_input'],
  [NotFoundError, 'not_found'],
  [UnsupportedError, 'unsupported'],
  [LimitExceededError, 'limit_exceeded'],
  [CancelledError, 'cancelled'],
  [InternalError, 'internal'],
] as const;

describe('SeqlabError classes', () => {
  for (const [Class, code] of CLASSES) {
    it(`${Class.name}: code ${code}, its own name, message, cause and details; instanceof itself, SeqlabError and Error`, () => {
      const cause = new RangeError('underlying');
      const err = new Class('rows[3] is empty', { cause, details: { row: 3 } });
      expect(err).toBeInstanceOf(Class);
      expect(err).toBeInstanceOf(SeqlabError);
      expect(err).toBeInstanceOf(Error);
      expect(isSeqlabError(err)).toBe(true);
      expect(err.code).toBe(code);
      expect(SEQLAB_ERROR_CODES).toContain(err.code);
      expect(err.name).toBe(Class.name);
      expect(err.message).toBe('rows[3] is empty');
      expect(err.cause).toBe(cause);
      expect(err.details).toEqual({ row: 3 });
      expect(String(err)).toBe(`${Class.name}: rows[3] is empty`);
      expect(err.stack).toContain(`${Class.name}: rows[3] is empty`);
      // Without options there is no cause, and no details.
      const bare = new Class('x');
      expect('cause' in bare).toBe(false);
      expect(bare.details).toBeUndefined();
      // The other classes are not this one.
      for (const [Other] of CLASSES) if (Other !== Class) expect(err).not.toBeInstanceOf(Other);
    });
  }

  it('CancelledError says "cancelled" when given no message', () => {
    expect(new CancelledError().message).toBe('cancelled');
  });

  it('a package subclass keeps its name, its parent code and every instanceof', () => {
    class ArgumentError extends BadInputError {
      override readonly name: string = 'ArgumentError';
    }
    const err = new ArgumentError('epochs must be positive');
    expect(err).toBeInstanceOf(ArgumentError);
    expect(err).toBeInstanceOf(BadInputError);
    expect(err).toBeInstanceOf(SeqlabError);
    expect(err.code).toBe('bad_input');
    expect(String(err)).toBe('ArgumentError: epochs must be positive');
  });

  it('isSeqlabError refuses plain errors and errors with unknown codes', () => {
    expect(isSeqlabError(new Error('x'))).toBe(false);
    expect(isSeqlabError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false);
    expect(isSeqlabError(Object.assign(new Error('x'), { code: 'not_found' }))).toBe(true);
    expect(isSeqlabError({ code: 'not_found' })).toBe(false);
  });
});
