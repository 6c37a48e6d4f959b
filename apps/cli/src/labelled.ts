import { InputError } from './errors.js';

/**
 * A file whose first row does not look like column names is refused unless the user said it
 * has none (`--no-header`): reading it either way without a word is how a header-less file was
 * once trained on with its first text as a "column name". Detection stays (the library reads
 * such files), the CLI only asks for the decision to be explicit.
 */
export function requireHeaderDecision(file: string, data: { header: boolean; columns: string[] }, headerOption: boolean | undefined): void {
  if (data.header || headerOption === false) return;
  throw new InputError(
    `${file}: the first row looks like data, not a header (no known column name, and its cells recur below); add a header row naming the text and label columns, or pass --no-header to read every row as data (columns become ${data.columns.join(', ')})`,
  );
}
