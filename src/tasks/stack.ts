/**
 * `deno task stack [--port N] [--workers N] [--model NAME] [--redis-url URL]
 * [--durable] [--redis-maxmemory MIB]`: runs Redis (unless --redis-url; with
 * `maxmemory`, default a quarter of RAM up to 1 GiB, and `noeviction`), the
 * API and N workers; prints
 * exactly one line `ready: <base-url>` on stdout when everything is ready.
 * SIGINT/SIGTERM stop every process and exit 0; a component that dies is named
 * with the tail of its log (exit 1).
 */
import { parseArgs } from "node:util";
import { runCli } from "../cli/mod.ts";
import { ConfigError } from "../errors/mod.ts";
import { DEFAULT_MODEL } from "../models/mod.ts";
import { setup } from "../setup/mod.ts";
import { startStack } from "../stack/stack.ts";

function intFlag(
  name: string,
  raw: string | undefined,
  min: number,
  max: number,
): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < min || n > max) {
    throw new ConfigError(
      `--${name} must be an integer in ${min}..${max}, got "${raw}"`,
    );
  }
  return n;
}

if (import.meta.main) {
  await runCli("stack", async () => {
    const { values } = parseArgs({
      args: Deno.args,
      options: {
        port: { type: "string" },
        workers: { type: "string" },
        model: { type: "string" },
        "redis-url": { type: "string" },
        durable: { type: "boolean" },
        "redis-maxmemory": { type: "string" },
        "log-dir": { type: "string" },
      },
    });
    const model = values.model ?? Deno.env.get("DEFAULT_MODEL") ??
      DEFAULT_MODEL;
    await setup({ models: [model], k6: false });
    const stack = await startStack({
      port: intFlag("port", values.port, 0, 65535),
      workers: intFlag("workers", values.workers, 1, 64),
      model,
      redisUrl: values["redis-url"],
      durable: values.durable,
      redisMaxmemory: values["redis-maxmemory"] === undefined
        ? undefined
        : intFlag("redis-maxmemory", values["redis-maxmemory"], 0, 1 << 20)! *
          1024 * 1024,
      logDir: values["log-dir"],
      onEvent: (m) => console.error(`stack: ${m}`),
    });
    console.log(`ready: ${stack.baseUrl}`);
    console.error(`stack: logs in ${stack.logDir}; Ctrl-C stops everything`);
    const stopped = Promise.withResolvers<number>();
    const onSignal = () => stopped.resolve(0);
    Deno.addSignalListener("SIGINT", onSignal);
    Deno.addSignalListener("SIGTERM", onSignal);
    stack.died.then((d) => {
      console.error(
        `stack: ${d.component} died (code ${d.exit.code}${
          d.exit.signal ? `, ${d.exit.signal}` : ""
        }); ` +
          `log ${d.logPath}, last lines:\n  ${d.tail.join("\n  ")}`,
      );
      stopped.resolve(1);
    });
    const code = await stopped.promise;
    console.error("stack: stopping");
    await stack.stop();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    return code;
  });
}
