// The few command lines the fast entry hands over already parsed (built as dist/direct.cjs): a `print` it
// could not answer alone (a token due for renewal, not logged in, a warning to give), `refresh` and
// `status` with only --profile (and status's --json). They run the same commands inside the same catch-all
// (cli/settle.ts) on the same process setup (entry/process.ts) as the full CLI, without loading commander and
// the other commands: a renewal is a network request and a write, and commander with every command's
// declaration cost it about a third again (`npm run bench`). Anything else goes to dist/cli.cjs.
import { settle } from '../cli/settle.js';
import { ExitCode } from '../errors.js';
import { profileFor, statusProfileFor } from '../settings.js';
import type { PrintFormat } from '../token/record.js';
import { runOnProcess, type CliProcess } from './process.js';

/** A command line the fast entry parsed exactly as program.ts declares it (print-fast.ts directCommand). */
export type DirectCommand =
  | { name: 'print'; options: PrintFormat & { profile?: string } }
  | { name: 'refresh'; profile?: string }
  | { name: 'status'; profile?: string; json?: boolean };

export function run(proc: CliProcess, command: DirectCommand): Promise<void> {
  return runOnProcess(proc, (_argv, makeContext, io) =>
    settle(async (getContext) => {
      const ctx = getContext();
      // The same defaults as program.ts's actions (test/direct.test.ts runs both).
      if (command.name === 'print') {
        const { print } = await import('../commands/print.js');
        await print({ ...command.options, profile: profileFor(command.options.profile, ctx.settings) }, ctx);
      } else if (command.name === 'refresh') {
        const { refresh } = await import('../commands/refresh.js');
        await refresh({ profile: profileFor(command.profile, ctx.settings) }, ctx);
      } else {
        const { status } = await import('../commands/status.js');
        await status({ profile: statusProfileFor(command.profile, ctx.settings), json: command.json }, ctx);
      }
      return ExitCode.ok;
    }, makeContext, io),
  );
}
