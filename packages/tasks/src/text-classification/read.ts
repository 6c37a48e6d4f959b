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

/** What a labelled file's first rows say about it, without reading the rest. */
export interface LabelledFileLayout {
  format: 'csv' | 'tsv' | 'jsonl';
  header: boolean;
  columns: string[];
  textColumn: string;
  labelColumn: string;
}

/**
 * The format, header and columns of a labelled file, detected from its first rows as
 * {@link readLabelledRows} detects them, reading no further: a caller that must decide about
 * the header row (the CLI refuses to guess) can do so before a file of any size is streamed.
 *
 * @throws BadInputError or NotFoundError naming the file, line or column.
 */
export async function peekLabelledFile(file: string, options: ReadOptions = {}): Promise<LabelledFileLayout> {
  const { openLabelledTexts } = await import('@seqlab/rnn');
  const stream = await openLabelledTexts(file, options);
  await stream.close();
  return { format: stream.format, header: stream.header, columns: stream.columns, textColumn: stream.textColumn, labelColumn: stream.labelColumn };
}
