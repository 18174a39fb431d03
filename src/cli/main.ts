// The one catch-all: a command line in, an exit code out. Every failure becomes one sentence on stderr
// (with the stack only under DEBUG) and the exit code errors.ts assigns it. Tests run commands through this
// same function in-process, with a Context of their own (test/support/in-process.ts).
import type { Context } from '../context.js';
import { UserError, exitCodeFor } from '../errors.js';
import type { Sink } from '../stdout.js';
import { runCommandLine } from './program.js';

/** Runs one command line. Never throws: every failure becomes a message on stderr and an exit code. */
export async function main(argv: string[], makeContext: () => Context, io: { stdout: Sink; stderr: Sink }): Promise<number> {
  let ctx: Context | undefined;
  try {
    return await runCommandLine(argv, () => (ctx ??= makeContext()), io);
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
