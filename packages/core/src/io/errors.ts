/** A model file that is missing, truncated, corrupt or does not match its manifest. */
export class ModelFileError extends Error {
  override readonly name = 'ModelFileError';
  constructor(
    /** The file at fault. */
    readonly file: string,
    /** What is wrong with it. */
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}
