/** Runs a CLI's main function and maps its outcome to an exit code. */
import { AppError, ConfigError, exitCodeFor } from "../errors/mod.ts";

/**
 * Awaits `main`, which returns an exit code; any thrown error is printed as
 * `<name>: <message>` (a stack only for unexpected errors) and mapped with
 * {@linkcode exitCodeFor}.
 */
export async function runCli(
  name: string,
  main: () => Promise<number>,
): Promise<never> {
  let code: number;
  try {
    code = await main();
  } catch (error) {
    if (error instanceof ConfigError || error instanceof AppError) {
      console.error(`${name}: ${error.message}`);
    } else {
      console.error(`${name}: unexpected error:`, error);
    }
    code = exitCodeFor(error);
  }
  Deno.exit(code);
}
