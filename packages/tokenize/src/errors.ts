/** A vocabulary or vectorizer file (or JSON value) that cannot be read: says what and where. */
export class TokenizeFormatError extends Error {
  override readonly name = 'TokenizeFormatError';
  constructor(
    message: string,
    /** File the JSON came from, when known. */
    readonly file?: string,
  ) {
    super(file ? `${file}: ${message}` : message);
  }
}
