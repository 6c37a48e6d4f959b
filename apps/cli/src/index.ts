/**
 * @packageDocumentation
 * The `seqlab` command as a library: build the commander program (to embed it or drive it in
 * tests), the error kinds and exit codes, and the Vega-Lite chart helpers the commands use.
 *
 * @example
 * ```ts
 * import { buildProgram } from '@seqlab/cli';
 * await (await buildProgram()).parseAsync(['forecast', '--csv', 'sales.csv', '--horizon', '12'], { from: 'user' });
 * ```
 */
export { buildProgram } from './program.js';
export { EXIT, CliError, UsageError, InputError, NotFoundError, InterruptedError, handleError, describeError, classifyError, EXIT_BY_CODE } from './errors.js';
export {
  renderSvg,
  svgToPng,
  writeChart,
  forecastChart,
  trainingCurveChart,
  confusionChart,
  type ForecastPoint,
  type IntervalPoint,
  type CurvePoint,
} from './plots.js';
