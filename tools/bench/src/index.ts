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
