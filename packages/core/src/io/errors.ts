import { SeqlabError } from '../errors.js';

/** A model file that is missing, truncated, corrupt or does not match its manifest. */
export class ModelFileError extends SeqlabError {
  override readonly name: string = 'ModelFileError';
  constructor(
    /** The file at fault. */
    readonly file: string,
    /** What is wrong with it. */
    readonly problem: string,
  ) {
    super('model_file_corrupt', `${file}: ${problem}`);
  }
}
