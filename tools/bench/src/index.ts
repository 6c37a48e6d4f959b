/** Shared helpers of the benchmarks and recipes under tools/bench/src. */
export { REPO_ROOT, dataPath, median, formatTable, environment, writeResults } from './lib/report.js';
