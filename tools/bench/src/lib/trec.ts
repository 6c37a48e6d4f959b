import { readFileSync } from 'node:fs';
import { dataPath } from './report.js';

/** One TREC question: its fine label (`COARSE:fine`) and its text. */
export interface TrecQuestion {
  fine: string;
  text: string;
}

/**
 * Reads a TREC file of `COARSE:fine question text` lines from the data folder. The training file
 * is Latin-1 and the test file UTF-8, so each is decoded as UTF-8 when it is valid and as Latin-1
 * otherwise.
 */
export function readTrec(file: string): TrecQuestion[] {
  const bytes = readFileSync(dataPath('trec', file));
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = new TextDecoder('latin1').decode(bytes);
  }
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => ({ fine: l.slice(0, l.indexOf(' ')), text: l.slice(l.indexOf(' ') + 1).trim() }));
}
