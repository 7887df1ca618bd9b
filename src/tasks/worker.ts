/**
 * `deno task worker`: one transcription worker, configured by environment
 * variables (see README "Configuration"). Prints `ready: worker <id>` once its
 * models are loaded; SIGTERM/SIGINT finish the current jobs, then exit 0.
 * Exits 2 on bad configuration.
 */
import { parseEnv, WorkerConfigSchema } from "../config/mod.ts";
import { ConfigError, exitCodeFor } from "../errors/mod.ts";
import { startWorker } from "../worker/worker.ts";

if (import.meta.main) {
  try {
    const config = parseEnv(WorkerConfigSchema);
    const worker = await startWorker(config);
    if (worker.notReadyReason) {
      console.log(`not ready: worker ${worker.id}: ${worker.notReadyReason}`);
    } else {
      console.log(
        `ready: worker ${worker.id} models=${worker.models.join(",")}`,
      );
    }
    const stop = async () => {
      await worker.close();
      Deno.exit(0);
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
  } catch (error) {
    console.error(
      error instanceof ConfigError ? `worker: ${error.message}` : error,
    );
    Deno.exit(exitCodeFor(error));
  }
}
