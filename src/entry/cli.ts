// The full CLI's process entry (built as dist/cli.cjs, loaded by the fast entry for every command line it
// does not answer alone): the process's signals become one AbortController (or go to the command that took
// them: exec), the Context is built on the real process, and the command line runs through cli/main.ts.
import type { ForwardedSignal } from '../child.js';
import { main } from '../cli/main.js';
import { createContext, type ProcessLike } from '../context.js';
import { CancelledError, HungUpError, TerminatedError, UserError, exitCodeFor } from '../errors.js';
import { isShielded } from '../shield.js';
import { columnsOf, createStdout } from '../stdout.js';

export type CliProcess = ProcessLike & { argv: string[]; title: string; exit(code: number): never; on: NodeJS.Process['on'] };

export async function run(proc: CliProcess): Promise<void> {
  const argv = proc.argv.slice(2);
  // A secret on the command line shows in `ps` for as long as the process lives: replace the title (on
  // Linux and macOS this rewrites the arguments ps reads) so it shows only in the instant before this line.
  if (argv.some((arg) => arg === '--client-secret' || arg.startsWith('--client-secret='))) {
    proc.title = `yandex-token ${argv[0] ?? ''}`.trim();
  }
  // Ctrl-C, SIGTERM and SIGHUP become the signal's abort, so that waits end, locks are released, nothing
  // half-done is stored and the exit code says why. A second signal ends the process at once, unless an
  // answer from Yandex is being kept (shield.ts).
  // While a command has taken them (exec, whose program is running), they are that command's instead.
  const controller = new AbortController();
  let told = false;
  let taker: ((signal: ForwardedSignal) => void) | undefined;
  const takeSignals = (handler: (signal: ForwardedSignal) => void) => {
    taker = handler;
    return () => {
      if (taker === handler) taker = undefined;
    };
  };
  const stop = (name: ForwardedSignal, error: UserError) => () => {
    if (taker) return taker(name);
    if (!controller.signal.aborted) {
      // A terminal echoed ^C where the cursor was: clear that line, so that the message starts a clean one.
      if (name === 'SIGINT' && proc.stderr.isTTY) proc.stderr.write('\r\x1b[K');
      return controller.abort(error);
    }
    if (!isShielded()) return proc.exit(exitCodeFor(error));
    // Yandex's answer is on its way or being stored: losing it could cost the stored refresh token.
    if (!told) proc.stderr.write("Storing Yandex's answer first (2 s at most)…\n");
    told = true;
  };
  proc.on('SIGINT', stop('SIGINT', new CancelledError()));
  proc.on('SIGTERM', stop('SIGTERM', new TerminatedError()));
  proc.on('SIGHUP', stop('SIGHUP', new HungUpError()));
  const stdout = createStdout(1, () => proc.stdout);
  const code = await main(argv, () => createContext(proc, controller.signal, stdout, takeSignals), {
    stdout,
    stderr: { write: (text) => void proc.stderr.write(text), columns: () => columnsOf(2, () => proc.stderr) },
  });
  // Exit now rather than wait on handles a library may leave open (a browser launcher, a prompt).
  stdout.end(() => proc.exit(code));
}
// What the build renders the help pages and completion scripts with (src/build.mjs).
export { renderCompletionScripts, renderHelpPages } from '../cli/program.js';
// The emulator's scripted person, for drivers outside this process (test/support/scripted-browser.mjs plays a
// browser with it) as `login --demo` plays one inside.
export { browseConsent } from '../emulator/person.js';
