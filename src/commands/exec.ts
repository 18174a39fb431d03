// `yandex-token exec`: run a program with the profile's token in its environment, never in its arguments;
// pass it our signals, wait for it, and end as it ended.
import type { ForwardedSignal, RunningProgram } from '../child.js';
import type { Context } from '../context.js';
import { CommandError, ExitCode, UserError, untrusted } from '../errors.js';
import { currentToken } from '../token/current.js';
import { ENV_NAME_PATTERN } from '../settings.js';

export const DEFAULT_TOKEN_VARIABLE = 'YANDEX_TOKEN';
/** Where `exec --iam` puts the IAM token by default: Yandex Cloud's terraform provider reads it (not `yc`: its token setting is an OAuth token). */
export const DEFAULT_IAM_VARIABLE = 'YC_TOKEN';

export interface ExecOptions {
  profile: string;
  /** The variables that hold the token in the program's environment; default YANDEX_TOKEN (YC_TOKEN with iam). */
  env?: string[];
  /** Hand the program a Yandex Cloud IAM token got for the OAuth token, instead of the OAuth token. */
  iam?: boolean;
  command: string;
  args: string[];
}

/** Runs the program and resolves to the exit code to end with: its own, or 128 + n when signal n killed it. */
export async function exec(options: ExecOptions, ctx: Context): Promise<number> {
  const names = options.env && options.env.length > 0 ? options.env : [options.iam ? DEFAULT_IAM_VARIABLE : DEFAULT_TOKEN_VARIABLE];
  const bad = names.find((name) => !ENV_NAME_PATTERN.test(name));
  if (bad !== undefined) throw new UserError(`--env ${untrusted(bad, 60)} is not a variable name: use letters, digits and "_", not starting with a digit.`);
  // Renewed first when due, under print's lock and rule; not logged in ends here, before anything runs.
  const { token } = options.iam
    ? await (await import('../token/iam.js')).currentIamToken(ctx, options.profile)
    : await currentToken(ctx, options.profile);
  ctx.signal.throwIfAborted();
  const env = Object.fromEntries(names.map((name) => [name, token]));

  // From here until the program has ended, Ctrl-C, SIGTERM and SIGHUP are the program's to act on: each is
  // passed on (one that came while it was starting, once it has), and we wait for it whatever it does.
  const early: ForwardedSignal[] = [];
  let program: RunningProgram | undefined;
  const giveBack = ctx.takeSignals((signal) => {
    // At a terminal, Ctrl-C and a hang-up reach the program from the terminal itself (it is in the same
    // foreground process group): passing them on as well would be a second one (terraform stops at once on
    // a second Ctrl-C). A SIGTERM is sent to us alone, so it is always passed on.
    if (signal !== 'SIGTERM' && ctx.interactive) return;
    if (program) program.kill(signal);
    else early.push(signal);
  });
  try {
    program = await ctx.startProgram(options.command, options.args, env);
    for (const signal of early) program.kill(signal);
    const end = await program.ended;
    if ('code' in end) return end.code;
    if ('signal' in end) return 128 + end.signalNumber;
    throw notStarted(options.command, end);
  } finally {
    giveBack();
  }
}

function notStarted(command: string, end: { error: 'not-found' | 'cannot-run' | 'other'; detail: string }): UserError {
  const name = untrusted(command, 120);
  if (end.error === 'not-found') {
    return new CommandError(
      `Command not found: ${name}. Check its name and PATH; exec runs it directly, not through a shell, so shell built-ins, aliases and functions are not found.`,
      ExitCode.commandNotFound,
    );
  }
  if (end.error === 'cannot-run') {
    return new CommandError(`Cannot run ${name} (${untrusted(end.detail, 40)}): make it executable (chmod +x), or run the program that opens it.`, ExitCode.cannotRun);
  }
  return new UserError(`Could not start ${name} (${untrusted(end.detail, 80)}).`);
}
