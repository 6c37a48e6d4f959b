import { SeqlabError } from '@seqlab/core/base';

/**
 * A vocabulary or vectorizer file (or JSON value) that cannot be read: says what and where.
 * Code `model_file_corrupt`: these files are saved model state, not user arguments.
 */
export class TokenizeFormatError extends SeqlabError {
  override readonly name: string = 'TokenizeFormatError';
  constructor(
    message: string,
    /** File the JSON came from, when known. */
    readonly file?: string,
  ) {
    super('model_file_corrupt', file ? `${file}: ${message}` : message);
  }
}
