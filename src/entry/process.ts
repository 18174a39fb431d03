// Running a command on the real process, for both bundles that do (entry/cli.ts, entry/direct.ts): the
// process's signals become one AbortController (or go to the command that took them: exec), the Context is
// built on the real process, and the process exits with the command's code once stdout is flushed.
import type { ForwardedSignal } from '../child.js';
import { type Context, createContext, type ProcessLike } from '../context.js';
import { CancelledError, HungUpError, TerminatedError, UserError, exitCodeFor } from '../errors.js';
import { isShielded } from '../shield.js';
import { createStdout, type Sink } from '../stdout.js';

export type CliProcess = ProcessLike & { argv: string[]; title: string; exit(code: number): never; on: NodeJS.Process['on'] };

/** What runs: the command line's words, the Context (made on first use), the streams; its exit code out. */
export type Command = (argv: string[], makeContext: () => Context, io: { stdout: Sink; stderr: Sink }) => Promise<number>;

export async function runOnProcess(proc: CliProcess, command: Command): Promise<void> {
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
    if (!told) proc.stderr.write("Waiting up to 2 s for Yandex's answer, to store it first…\n");
    told = true;
  };
  proc.on('SIGINT', stop('SIGINT', new CancelledError()));
  proc.on('SIGTERM', stop('SIGTERM', new TerminatedError()));
  proc.on('SIGHUP', stop('SIGHUP', new HungUpError()));
  const stdout = createStdout(1, () => proc.stdout);
  // Messages, too, go straight to descriptor 2: building process.stderr costs Node 20 about 3 ms.
  const stderr = createStdout(2, () => proc.stderr);
  const code = await command(argv, () => createContext(proc, controller.signal, stdout, takeSignals, { stderr }), { stdout, stderr });
  // Exit now rather than wait on handles a library may leave open (a browser launcher, a prompt).
  stderr.end(() => stdout.end(() => proc.exit(code)));
}
