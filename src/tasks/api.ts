/**
 * `deno task api`: the HTTP API alone, configured by environment variables
 * (see README "Configuration"). Prints `listening: <url>` once it accepts
 * requests; exits 2 on bad configuration.
 */
import { ApiConfigSchema, parseEnv } from "../config/mod.ts";
import { ConfigError, exitCodeFor } from "../errors/mod.ts";
import { startApi } from "../api/server.ts";

if (import.meta.main) {
  try {
    const config = parseEnv(ApiConfigSchema);
    const api = await startApi(config);
    console.log(`listening: ${api.url}`);
    const stop = async () => {
      await api.close();
      Deno.exit(0);
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
  } catch (error) {
    console.error(
      error instanceof ConfigError ? `api: ${error.message}` : error,
    );
    Deno.exit(exitCodeFor(error));
  }
}
