/**
 * Small statistics shared by the benchmarks, the perf reports, the verdict
 * and the test suites: percentiles by linear interpolation, the median, and
 * a seeded pseudo-random generator.
 *
 * @module
 */
export { median, percentile } from "./quantiles.ts";
export { seededRandom } from "./random.ts";
