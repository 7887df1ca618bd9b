/** Test helpers shared by the perf tests. */
export { rejectsWith } from "../testing/assert.ts";

/** The `testdata/` folder beside this file. */
export const TESTDATA: URL = new URL("./testdata/", import.meta.url);
