/**
 * `@rlr/cli`: the `rlr` command line (see the package README) and the pieces it is made of, for
 * programs that want the same reports or presets.
 */
export { runCli, buildProgram, type CliIo } from './program.js';
export { ExitCode, type ExitCodeValue } from './exit-codes.js';
export { CliError, classifyError, formatError } from './errors.js';
export { PRESETS, getPreset, paper, fast, demo, presetWidths, type Preset, type ModelSettings, type TileSettings, type TrainSettings, type KeepPolicy } from './presets.js';
export { PRESET_NAMES } from './preset-names.js';
export { loadConfigFile, parseConfigObject } from './config-file.js';
export { FORMATS, type DatasetFormat, type SettingValues } from './settings.js';
export type { ProgressFields, ProgressState, ProgressTask, TextSink } from './progress.js';
export { initBackend, probeBackends, BACKENDS, type BackendName, type BackendStatus } from './backend.js';
export { validateMetricsReport, type MetricsReport, type CategoryMetrics, type ImageMetrics, type PixelMetrics } from './metrics-report.js';
export { renderMarkdown } from './report-md.js';
export {
  PAPER_RESULTS,
  PAPER_SOURCE,
  UNIAD_MEANS,
  compareWithPaper,
  paperBenchmarkFor,
  type PaperBenchmark,
  type PaperComparison,
  type PaperDelta,
  type PaperRow,
  type PaperScore,
  type PaperTable,
} from './paper-results.js';
export { renderHtml } from './report-html.js';
export type { ReportData, GalleryEntry, Curve } from './report-data.js';
export { colourise, overlay, encodePng, type MapRange } from './heatmap.js';
export { lineChart, type ChartOptions, type Series } from './svg-chart.js';
export { Logger, type OutputMode } from './log.js';
