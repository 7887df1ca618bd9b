/**
 * Small statistics of samples shared by the benchmarks, the perf reports
 * and the test suites: percentiles by linear interpolation and the median.
 *
 * @module
 */
export { median, percentile } from "./quantiles.ts";
