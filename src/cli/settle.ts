// The one catch-all: a command run in, an exit code out. Every failure becomes one sentence on stderr (with
// the stack only under DEBUG) and the exit code errors.ts assigns it. main.ts runs commander's command lines
// through it; entry/direct.ts the few it runs without commander; tests, commands in-process.
import type { Context } from '../context.js';
import { UserError, exitCodeFor } from '../errors.js';
import type { Sink } from '../stdout.js';

/** Runs `command` with the Context made on first use. Never throws: a failure is reported, and its code returned. */
export async function settle(
  command: (getContext: () => Context) => Promise<number>,
  makeContext: () => Context,
  io: { stdout: Sink; stderr: Sink },
): Promise<number> {
  let ctx: Context | undefined;
  try {
    return await command(() => (ctx ??= makeContext()));
  } catch (error) {
    const { stderr } = io;
    if (error instanceof UserError) {
      stderr.write(`${error.message}\n`);
      if (ctx?.settings.debug && error.stack) stderr.write(`${error.stack}\n`);
    } else {
      const debug = ctx?.settings.debug ?? false;
      stderr.write(
        `Unexpected error: ${error instanceof Error ? error.message : String(error)}. ` +
          (debug ? '\n' : 'Run again with DEBUG=yandex-token for details, and please report it.\n'),
      );
      if (debug && error instanceof Error && error.stack) stderr.write(`${error.stack}\n`);
    }
    return exitCodeFor(error);
  }
}
