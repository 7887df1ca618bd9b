import { assertEquals } from "../testing/assert.ts";
import { withoutThresholdError } from "./k6_run.ts";

Deno.test("k6's threshold error line is replaced by one plain line; everything else passes, split anywhere", () => {
  let seen = "";
  const out = withoutThresholdError({
    writeSync: (b) => {
      seen += new TextDecoder().decode(b);
      return b.length;
    },
  });
  const text = "running (0m15.0s)\n" +
    'time="2026-12-06T12:00:00Z" level=error msg="thresholds on metrics \'http_req_duration\' have been crossed"\n' +
    "done";
  const bytes = new TextEncoder().encode(text);
  for (let i = 0; i < bytes.length; i += 7) {
    out.writeSync(bytes.subarray(i, i + 7));
  }
  out.flush();
  assertEquals(
    seen,
    "running (0m15.0s)\n" +
      "k6: some thresholds' point values were crossed (exit 99); the assert below judges them against the baseline\n" +
      "done",
  );
});
