/**
 * `deno task setup [--model NAME ...]`: installs or finds redis-server, builds
 * the whisper.cpp engine, installs the models (default tiny.en), k6, the
 * OpenAI Python SDK and chromium (both optional). Safe to run again: what is
 * there is only checked.
 */
import { parseArgs } from "node:util";
import { runCli } from "../cli/mod.ts";
import { setup } from "../setup/setup.ts";

if (import.meta.main) {
  await runCli("setup", async () => {
    const { values } = parseArgs({
      args: Deno.args,
      options: { model: { type: "string", multiple: true } },
    });
    await setup({
      models: values.model?.length ? values.model : undefined,
      openAiPython: true,
      browser: true,
    });
    console.error("setup: everything is in place");
    return 0;
  });
}
