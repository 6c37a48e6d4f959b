/** Shared helpers of the benchmarks and recipes under tools/bench/src. */
export {
  REPO_ROOT,
  dataPath,
  median,
  formatTable,
  environment,
  writeResults,
  resultsFileOf,
  resultsPath,
  readResultsFile,
  readResultsRun,
  type ResultsFile,
  type ResultsRun,
} from './lib/report.js';
export { readSst2, sst2Holdout, sst2ChoiceRows, tiedTo, HOLDOUT_MIN_TOKENS, type Sst2Split, type Sst2Holdout, type Sst2ChoiceRows } from './lib/sst2.js';
export { readTrec, type TrecQuestion } from './lib/trec.js';
