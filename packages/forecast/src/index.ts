/**
 * @packageDocumentation
 * Time-series forecasting for seqlab: CSV loading with missing-value policies, ETT-protocol
 * splits and windows, invertible scalers, statistical / linear / recurrent forecasters behind one
 * interface, conformal intervals, metrics, rolling-origin backtests and plot data.
 */
export { ForecastInputError } from './errors.js';
export { createSeries, isIrregular, selectColumns, seriesLength, sliceSeries, validateSeries, type TimeSeries } from './data/series.js';
export { fillMissing, parseDate, readCsvRows, readCsvSeries, type MissingPolicy, type ReadCsvOptions } from './data/csv.js';
export { compileDateFormat, parseIsoDate, type DateFormat, type DateParser } from './data/dates.js';
export { DUPLICATE_POLICIES, resolveDuplicateDates, type DuplicatePolicy } from './data/duplicates.js';
export { CSV_DELIMITERS, decodeCsvBytes, detectDelimiter, parseCsvNumber, type CsvEncoding, type CsvReadReport } from './data/sniff.js';
export { readCsvPanel, readWideCsv, type PanelSeries, type ReadPanelOptions, type ReadWideOptions } from './data/panel.js';
export { ettSplit, makeWindows, splitAtRows, splitByDate, splitByRatio, windowStarts, type SeriesSplit, type WindowSet } from './data/windows.js';
export { instanceDenormalize, instanceNormalize, Scaler, type InstanceStats, type ScalerKind, type ScalerState } from './data/scalers.js';
export { coverage, mae, mape, mase, mse, rmse, smape } from './metrics.js';
export {
  Forecaster,
  type BacktestOptions,
  type BacktestResult,
  type BaseOptions,
  type CalibrationSource,
  type EpochLog,
  type FitOptions,
  type FitCheckpoint,
  type Forecast,
  type ForecastBounds,
  type ForecasterCapabilities,
  type PredictOptions,
  type SavedForecaster,
} from './forecaster.js';
export {
  DriftForecaster,
  HoltWintersForecaster,
  MovingAverageForecaster,
  NaiveForecaster,
  SeasonalNaiveForecaster,
  type HoltWintersMode,
  type HoltWintersOptions,
  type MovingAverageOptions,
  type SeasonalOptions,
} from './models/baselines.js';
export { DLinearForecaster, LinearForecaster, type LinearNormalization, type LinearOptions } from './models/linear.js';
export { MeanEnsembleForecaster, type EnsembleMember, type MeanEnsembleOptions } from './models/ensemble.js';
export { NeuralForecaster, type NeuralOptions, type TrainingReport } from './neural/base.js';
export { SegRnnForecaster, type SegRnnOptions } from './neural/segrnn.js';
export { setEncoderImplementation, type EncoderImplementation } from './neural/cells.js';
export { Seq2SeqForecaster, type Seq2SeqOptions } from './neural/seq2seq.js';
export { createForecaster, FORECASTER_NAMES, FORECASTERS, loadForecaster } from './registry.js';
export { FORECASTER_OPTION_SCHEMAS, forecasterOptionNames, validateForecasterOptions } from './options.js';
export { forecastPlotData, type PlotRow } from './plot.js';
export { checkForecastOptions, forecastCost, type ForecastCost, type ForecastCostInput } from './cost.js';
export { assertFiniteForecast } from './finite.js';
export { evaluatePanel, type PanelEvaluation, type PanelEvaluationOptions, type PanelSeriesResult } from './panel-eval.js';
export { evaluateOnSplit, splitBySpec, type ErrorSummary, type SplitEvaluation, type SplitEvaluationOptions } from './protocol.js';
export {
  AutoForecaster,
  autoCandidates,
  DLINEAR_MAX_LOOKBACK,
  SEGRNN_MIN_ROWS,
  SEGRNN_WINDOWS_PER_EPOCH,
  type AutoCandidate,
  type AutoCandidateScore,
  type AutoChoice,
  type AutoOptions,
} from './auto.js';
export { describeDateGaps, detectDateGaps, detectSeasons, detrendedAutocorrelation, type DateGapReport, type DetectedSeason, type DetectSeasonsOptions } from './data-seasons.js';
export { inferSeasonality, type SeasonCandidate, type SeasonReport } from './season.js';
export {
  ForecastPipeline,
  forecasterOptionsFor,
  forecastRequestSchema,
  inferSeason,
  saveForecaster,
  seasonFor,
  usesSeason,
  reconcileSegments,
  holdoutOverlap,
  lastRows,
  type ForecastRequest,
  type ForecastResult,
} from './task.js';
export {
  forecastPanelWith,
  panelForecastCsv,
  panelForecastRequestSchema,
  panelForecastRows,
  type PanelForecastRequest,
  type PanelForecastResult,
  type PanelForecastRow,
  type PanelInterval,
  type SeriesForecast,
} from './panel-task.js';
export { PooledConformal, seriesScale } from './global/conformal.js';
export { fitSmoothing, positiveShift, seasonalAt, seasonalFactor, smoothSeries, type SecondSeason, type SeriesSmoothing } from './global/smoothing.js';
export {
  GlobalForecaster,
  readSavedGlobal,
  validatePanel,
  type GlobalBacktestOptions,
  type GlobalCapabilities,
  type GlobalFitOptions,
  type GlobalPredictOptions,
  type PanelForecast,
  type SavedGlobalForecaster,
} from './global/forecaster.js';
export { EsHybridForecaster, type EsHybridOptions, type EsHybridReport } from './global/es-hybrid.js';
export { createGlobalForecaster, GLOBAL_FORECASTER_NAMES, GLOBAL_FORECASTERS, isGlobalForecaster, loadGlobalForecaster } from './global/registry.js';
