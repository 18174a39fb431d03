// The entry point and the only catch-all: argv in, exit code out. The commonest calls from scripts
// (`print` with its usual flags, `--version`) are answered here without loading commander; everything
// else, including every malformed or unusual `print` line, goes to cli.ts.
// In the built CLI this file and what print needs are dist/print.cjs; cli.ts and what only it needs are
// dist/cli.cjs, loaded by the import below when a command line needs it (see src/build.mjs).
import { createContext, type Context, type ProcessLike } from './context.js';
import { CancelledError, ExitCode, HungUpError, TerminatedError, UserError, exitCodeFor } from './errors.js';
import { PROFILE_PATTERN } from './settings.js';
import { columnsOf, createStdout, type Sink } from './stdout.js';
import { VERSION } from './version.js';
import { HELP_WIDTH, helpRequest } from './help.js';
import { helpPages } from './help-pages.js';
import { print as printToken, type HeaderScheme, type PrintOptions } from './commands/print.js';

/**
 * `print [--json | --header [oauth|bearer]] [--profile NAME]` exactly as cli.ts declares it, or undefined for anything
 * else (help, an unknown flag, a bad profile name), which commander then parses and explains.
 */
export function fastPrintOptions(argv: string[]): Omit<PrintOptions, 'profile'> & { profile?: string } | undefined {
  if (argv[0] !== 'print') return undefined;
  const options: { json?: boolean; header?: HeaderScheme; profile?: string } = {};
  const isScheme = (value: string | undefined): value is HeaderScheme => value === 'oauth' || value === 'bearer';
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json') options.json = true;
    else if (arg === '--header') options.header = isScheme(argv[i + 1]) ? (argv[++i] as HeaderScheme) : 'oauth';
    else if (arg.startsWith('--header=') && isScheme(arg.slice('--header='.length))) options.header = arg.slice('--header='.length) as HeaderScheme;
    else if (arg === '--profile' && i + 1 < argv.length) options.profile = argv[++i];
    else if (arg.startsWith('--profile=')) options.profile = arg.slice('--profile='.length);
    else return undefined;
  }
  if (options.json && options.header) return undefined;
  if (options.profile !== undefined && !PROFILE_PATTERN.test(options.profile)) return undefined;
  return options;
}

let pages: Readonly<Record<string, string>> | undefined;
/** The help page this command line asks for, if it was rendered at build time. */
function helpPage(argv: string[]): string | undefined {
  const command = helpRequest(argv);
  if (command === undefined) return undefined;
  pages ??= helpPages();
  return Object.hasOwn(pages, command) ? pages[command] : undefined;
}

function isVersion(argv: string[]): boolean {
  return argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v');
}

/** Whether this command line is answered here without commander (and so without cli.cjs). */
export function answersAlone(argv: string[]): boolean {
  return isVersion(argv) || fastPrintOptions(argv) !== undefined || helpPage(argv) !== undefined;
}

async function dispatch(argv: string[], getContext: () => Context, io: { stdout: Sink; stderr: Sink }): Promise<number> {
  if (isVersion(argv)) {
    io.stdout.write(`${VERSION}\n`);
    return ExitCode.ok;
  }
  // A help page as commander rendered it at build time, unless the terminal is too narrow for it.
  const page = helpPage(argv);
  if (page !== undefined && (io.stdout.columns() ?? HELP_WIDTH) >= HELP_WIDTH) {
    io.stdout.write(page);
    return ExitCode.ok;
  }
  const print = fastPrintOptions(argv);
  if (print) {
    const ctx = getContext();
    await printToken({ ...print, profile: print.profile ?? ctx.settings.profile }, ctx);
    return ExitCode.ok;
  }
  const { runCommandLine } = await import('./cli.js');
  return runCommandLine(argv, getContext, io);
}

/** Runs one command line. Never throws: every failure becomes a message on stderr and an exit code. */
export async function main(argv: string[], makeContext: () => Context, io: { stdout: Sink; stderr: Sink }): Promise<number> {
  let ctx: Context | undefined;
  const getContext = () => (ctx ??= makeContext());
  try {
    return await dispatch(argv, getContext, io);
  } catch (error) {
    // Only now: process.stderr is created on first use, which print's happy path never needs.
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

/** The process entry point: wires signals to cancellation, runs, and exits. */
export async function run(
  proc: ProcessLike & { argv: string[]; title: string; exit(code: number): never; on: NodeJS.Process['on'] },
): Promise<void> {
  const argv = proc.argv.slice(2);
  // A secret on the command line shows in `ps` for as long as the process lives: replace the title (on
  // Linux and macOS this rewrites the arguments ps reads) so it shows only in the instant before this line.
  if (argv.some((arg) => arg === '--client-secret' || arg.startsWith('--client-secret='))) {
    proc.title = `yandex-token ${argv[0] ?? ''}`.trim();
  }
  let controller: AbortController | undefined;
  // Ctrl-C, SIGTERM and SIGHUP become the signal's abort, so that waits end, locks are released, nothing
  // half-done is stored and the exit code says why. print and --version create it only if they come to
  // need it (print, to refresh): the controller and the handlers cost start-up time that scripts calling
  // print in a loop would pay every time.
  const signal = () => {
    if (!controller) {
      const armed = (controller = new AbortController());
      const stop = (error: UserError) => () => {
        if (armed.signal.aborted) return proc.exit(exitCodeFor(error));
        armed.abort(error);
      };
      proc.on('SIGINT', stop(new CancelledError()));
      proc.on('SIGTERM', stop(new TerminatedError()));
      proc.on('SIGHUP', stop(new HungUpError()));
    }
    return controller.signal;
  };
  if (!answersAlone(argv)) signal();
  const stdout = createStdout(1, () => proc.stdout);
  const code = await main(argv, () => createContext(proc, signal, stdout), {
    stdout,
    stderr: { write: (text) => void proc.stderr.write(text), columns: () => columnsOf(2, () => proc.stderr) },
  });
  // Exit now rather than wait on handles a library may leave open (a browser launcher, a prompt).
  stdout.end(() => proc.exit(code));
}
