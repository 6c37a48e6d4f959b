import { readRows, type ReadOptions, type ReadRows } from './data.js';
import type { TextClassificationData } from './options.js';

/**
 * Reads labelled texts as `train('text-classification')` reads them: a CSV, TSV or JSONL file
 * (delimiter, header and columns detected unless given) or `{ text, label }` rows, checked row
 * by row. Callers that must decide about a header row themselves (the CLI refuses to guess)
 * read `header` and `columns` here first.
 *
 * @throws BadInputError naming the file line or row index that is bad.
 */
export function readLabelledRows(data: TextClassificationData, options: ReadOptions = {}): Promise<ReadRows> {
  return readRows(data, options, 'data');
}
