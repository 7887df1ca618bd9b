/** Re-exports for the sketch tests (one import line). */
export * from "./sketch.ts";
export { suggestTolerance as suggestToleranceForTest } from "./calibrate.ts";
