/**
 * Test types (`deno task perf --profile smoke|load|stress|soak|spike`): their
 * defaults, the k6 load shape they ask for, and the verdicts of the smoke,
 * soak and spike runs (load is judged against the baseline, stress by the
 * capacity search).
 *
 * @module
 */
export * from "./profile.ts";
export * from "./verdict.ts";
export * from "./facts.ts";
export * from "./judge.ts";
export { judgeSmoke } from "./smoke.ts";
export { drift, judgeSoak, SOAK_WARMUP_FRACTION } from "./soak.ts";
export { judgeSpike, RECOVERY_WINDOW_S, sloWindows } from "./spike.ts";
export type { SpikeWindow } from "./spike.ts";
export { stressVerdict } from "./stress.ts";
