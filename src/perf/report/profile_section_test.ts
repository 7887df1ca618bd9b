import { assert, assertEquals, assertMatch } from "../../testing/assert.ts";
import { verdictOf } from "../profiles/mod.ts";
import { profileSection } from "./profile_section.ts";

Deno.test("profileSection shows each check, the notes and the figures (escaped)", () => {
  assertEquals(profileSection(undefined), []);
  const [s] = profileSection(verdictOf(
    "soak",
    [
      {
        name: "no leak",
        pass: false,
        detail: "worker-1 173.1 MiB/h (at most 50)",
      },
      { name: "no 5xx", pass: true, detail: "0 <5xx>" },
    ],
    { "growth_mib_per_hour.worker-1": 173.0575, lost: 0, recovery_s: null },
    [
      "Redis keeps each job's record",
    ],
  ));
  assert(s);
  assertEquals(s.id, "profile");
  assertEquals(s.title, "The soak test: FAIL");
  assertMatch(s.html, /<tr class="fail"><td>no leak<\/td><td>FAIL<\/td>/);
  assertMatch(
    s.html,
    /<tr class="pass"><td>no 5xx<\/td><td>PASS<\/td><td>0 &lt;5xx><\/td>/,
  );
  assertMatch(
    s.html,
    /<li>Redis keeps each job&apos;s record<\/li>|<li>Redis keeps each job&#39;s record<\/li>|<li>Redis keeps each job's record<\/li>/,
  );
  assertMatch(
    s.html,
    /growth_mib_per_hour\.worker-1<\/td><td class="num">173\.058/,
  );
  assertMatch(s.html, /recovery_s<\/td><td class="num">—/);
});
