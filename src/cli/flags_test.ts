import { assertEquals, assertMatch, assertThrows } from "../testing/assert.ts";
import { ConfigError, exitCodeFor } from "../errors/mod.ts";
import { parseFlags } from "./flags.ts";

const OPTIONS = {
  rate: { type: "string", default: "4" },
  "long-poll": { type: "boolean" },
} as const;

Deno.test("parseFlags returns values, defaults and positionals", () => {
  const p = parseFlags({
    args: ["--long-poll", "dir"],
    allowPositionals: true,
    options: OPTIONS,
  });
  assertEquals(p.values.rate, "4");
  assertEquals(p.values["long-poll"], true);
  assertEquals(p.positionals, ["dir"]);
});

Deno.test("parseFlags turns a bad flag into a ConfigError (exit 2) that names it, with the usage", () => {
  const err = assertThrows(() =>
    parseFlags({ args: ["--nope"], options: OPTIONS }, "usage: tool [--rate N]")
  );
  assertEquals(err instanceof ConfigError, true);
  assertEquals(exitCodeFor(err), 2);
  assertMatch((err as Error).message, /--nope.*; usage: tool \[--rate N\]$/);
  const bare = assertThrows(() =>
    parseFlags({ args: ["--rate"], options: OPTIONS })
  );
  assertMatch((bare as Error).message, /--rate/);
  assertEquals(/usage/.test((bare as Error).message), false);
});
