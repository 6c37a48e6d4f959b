import { SeqlabError } from '../errors.js';

/**
 * A model file that is missing, truncated, corrupt or does not match its manifest. A file
 * that does not exist at all is `not_found`; one that exists but cannot be used (or a file a
 * manifest lists that has gone) is `model_file_corrupt`.
 */
export class ModelFileError extends SeqlabError {
  override readonly name: string = 'ModelFileError';
  constructor(
    /** The file at fault. */
    readonly file: string,
    /** What is wrong with it. */
    readonly problem: string,
    code: 'model_file_corrupt' | 'not_found' = 'model_file_corrupt',
  ) {
    super(code, `${file}: ${problem}`);
  }
}
