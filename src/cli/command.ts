/** What every command of the project (build-index, eval, search) does the same way. */
import { errorMessage } from '../core/util/error-message.ts';

/** Ctrl-C aborts the signal once, with `message` as the reason the command prints; a second Ctrl-C
 * ends the process at once, as usual. */
export function abortOnCtrlC(message: string): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error(message)));
  return controller.signal;
}

/** Runs a command's main: an error is printed as `name: message` and the exit code is 1. */
export function runCommand(name: string, main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(`${name}: ${errorMessage(error)}`);
    process.exit(1);
  });
}
