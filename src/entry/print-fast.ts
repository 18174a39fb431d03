// The start-up rules, all in one place. bin/yandex-token.cjs runs this file (built as dist/print.cjs) for
// every command line. It answers alone what scripts call in loops and people call first: `print` (with
// --json, --header [oauth|bearer], --profile) of a token that needs nothing done, `--version`, `--help`
// and `completion <shell>` from what the build rendered, and the completion scripts' `__complete profiles`.
// For anything else it hands over before writing a byte, and what it hands to does it all again properly:
// a print it parsed (a token due for renewal, missing or unreadable, a warning to give, such as the daily
// one for a token that expires soon and will not be renewed), `refresh` and `status` with only --profile
// (and --json) go to dist/direct.cjs (src/entry/direct.ts), already parsed, without commander; any other
// flag or command goes to the full CLI (dist/cli.cjs, src/entry/cli.ts).
//
// Why: Node 20 pays for every module it loads and compiles; scripts call `print` in loops, and this path
// runs at about 1.1× bare `node -e 0`. So this file and what it imports hold no commander, conf, lock,
// undici, prompts or open, install no signal handlers (nothing here needs protecting), and do not build
// process.stdout or process.stderr (stdout.ts writes to fd 1 directly). `npm run bench` measures it, and
// test/lifecycle.test.ts proves which modules a fresh-token print loads.
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { HELP_WIDTH, helpRequest } from '../cli/help.js';
import { PROFILE_PATTERN, profileFor, readSettings, type Env } from '../settings.js';
import { columnsOf, createStdout } from '../stdout.js';
import { colourWanted, createOutput } from '../output.js';
import { ConfigFile, LOCK_GIVE_UP_MS, LOCK_NOTICE_MS, LOCK_STALE_MS, lockPath, permissionWarnings, profileNames, renewalMarker, waitingNotice } from '../store/read.js';
import { TOKEN_PATTERN, expiryWarningDue, forProfile, formatToken, isDue, isExpired, type HeaderScheme, type PrintFormat, type TokenRecord } from '../token/record.js';
import { VERSION } from '../version.js';
import type { DirectCommand } from './direct.js';
import type { CliProcess } from './process.js';

export interface FastProcess {
  argv: string[];
  env: Env;
  stdout: NodeJS.WriteStream;
  exit(code: number): never;
}

/**
 * `print [--json | --header [oauth|bearer]] [--profile NAME]` exactly as the full CLI declares it, or
 * undefined for anything else (help, an unknown flag, a bad profile name), which the full CLI explains.
 */
export function fastPrintOptions(argv: string[]): (PrintFormat & { profile?: string }) | undefined {
  if (argv[0] !== 'print') return undefined;
  const options: PrintFormat & { profile?: string } = {};
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

/**
 * A command line the direct bundle runs without commander (entry/direct.ts): a print fastPrintOptions
 * parsed, `refresh [--profile NAME]`, `status [--profile NAME] [--json]`; else undefined (the full CLI).
 */
export function directCommand(argv: string[]): DirectCommand | undefined {
  if (argv[0] === 'print') {
    const options = fastPrintOptions(argv);
    return options && { name: 'print', options };
  }
  if (argv[0] !== 'refresh' && argv[0] !== 'status') return undefined;
  const command: { profile?: string; json?: boolean } = {};
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json' && argv[0] === 'status') command.json = true;
    else if (arg === '--profile' && i + 1 < argv.length) command.profile = argv[++i];
    else if (arg.startsWith('--profile=')) command.profile = arg.slice('--profile='.length);
    else return undefined;
  }
  if (command.profile !== undefined && !PROFILE_PATTERN.test(command.profile)) return undefined;
  return { name: argv[0], ...command };
}

/** What print writes, when the token needs nothing done and there is nothing to warn about; else undefined. */
function printedAlone(argv: string[], env: Env): string | undefined {
  const options = fastPrintOptions(argv);
  if (!options) return undefined;
  let settings;
  try {
    settings = readSettings(env);
  } catch {
    return undefined;
  }
  const profile = profileFor(options.profile, settings);
  if (settings.token !== undefined) return TOKEN_PATTERN.test(settings.token) ? formatToken(settings.token, undefined, profile, options) : undefined;
  const file = new ConfigFile(settings.configDir);
  const stored = storedRecord(file, profile);
  // A record that needs renewing: the first print to see it claims the renewal and hands over; the others
  // wait here for what it stores (a crowd of prints on one due token loads the full CLI once, not 200 times).
  const record = stored?.fresh ? stored.record : stored?.renew && !claimRenewal(file) ? whileRenewed(file, profile, env) : undefined;
  if (!record || permissionWarnings(file.dir, file.path).length > 0) return undefined;
  return formatToken(record.accessToken, record, profile, options);
}

/**
 * The profile's record; whether it needs renewing (expired or due); and whether it can be printed as it
 * is: not renewing, a clean token, and no daily warning due that it expires soon and will not be renewed
 * (a comparison of dates in the record; the full CLI says it, and notes it in the file).
 */
function storedRecord(file: ConfigFile, profile: string): { record: TokenRecord; fresh: boolean; renew: boolean } | undefined {
  let data;
  try {
    data = file.read();
  } catch {
    return undefined;
  }
  const record = forProfile(data.profiles, profile);
  if (!record || !TOKEN_PATTERN.test(record.accessToken)) return undefined;
  const now = new Date();
  const renew = isExpired(record, now) || isDue(record, now);
  return { record, renew, fresh: !renew && !expiryWarningDue(record, now) };
}

/**
 * A marker older than this was left by a run killed before it took the lock (which it does within moments,
 * even on a machine busy with a crowd of prints): it no longer holds anyone back.
 */
const MARKER_STALE_MS = 5_000;

/**
 * Whether this run is the one to renew: it created the marker beside the file (renewalMarker), or nobody
 * holds one that is still fresh. The marker is only a hint that keeps a crowd here; the lock the full CLI
 * takes is what keeps two renewals apart, and the full CLI removes the marker when it is done.
 */
function claimRenewal(file: ConfigFile): boolean {
  const marker = renewalMarker(file.path);
  try {
    closeSync(openSync(marker, 'wx', 0o600));
    return true;
  } catch {
    const held = statSync(marker, { throwIfNoEntry: false });
    return !held || Date.now() - held.mtimeMs > MARKER_STALE_MS;
  }
}

/**
 * While another run renews the token (its marker or the file's lock is there and fresh), the record it
 * leaves, once it can be printed as it is; undefined when the renewal ended without one (the full CLI then
 * says why). After LOCK_NOTICE_MS it says why it waits, as the full CLI would; after LOCK_GIVE_UP_MS the
 * full CLI takes over. A blocking sleep: this process has nothing else to do.
 */
function whileRenewed(file: ConfigFile, profile: string, env: Env): TokenRecord | undefined {
  const fresh = (path: string, ms: number) => {
    const held = statSync(path, { throwIfNoEntry: false });
    return held !== undefined && Date.now() - held.mtimeMs <= ms;
  };
  const busy = () => fresh(lockPath(file.path), LOCK_STALE_MS) || fresh(renewalMarker(file.path), MARKER_STALE_MS);
  const started = Date.now();
  const nap = new Int32Array(new SharedArrayBuffer(4));
  let noticed = false;
  for (let delay = 5; Date.now() - started < LOCK_GIVE_UP_MS; delay = Math.min(delay * 1.5, 100)) {
    const waiting = busy();
    const stored = storedRecord(file, profile);
    if (stored?.fresh) return stored.record;
    if (!waiting) return undefined;
    if (!noticed && Date.now() - started >= LOCK_NOTICE_MS) {
      noticed = true;
      // node:tty only now: loading it costs every print.
      const tty = process.getBuiltinModule('node:tty').isatty(2);
      createOutput({ write: (text) => writeSync(2, text) }, colourWanted(tty, env)).warn(waitingNotice(file.path));
    }
    Atomics.wait(nap, 0, 0, delay);
  }
  return undefined;
}

/** The entry `key` of a table the build rendered beside this file (help.json, completion.json), if there. */
function rendered(file: string, key: string): string | undefined {
  try {
    const table = JSON.parse(readFileSync(join(__dirname, file), 'utf8')) as Record<string, string>;
    return Object.hasOwn(table, key) ? table[key] : undefined;
  } catch {
    return undefined;
  }
}

/** The help page this command line asks for, as rendered at build time, if it fits the terminal. */
function helpPage(argv: string[], proc: FastProcess): string | undefined {
  const command = helpRequest(argv);
  if (command === undefined || (columnsOf(1, () => proc.stdout) ?? HELP_WIDTH) < HELP_WIDTH) return undefined;
  return rendered('help.json', command);
}

/**
 * `completion <shell>` (the script rendered at build time) and `__complete profiles` (the stored profiles'
 * names, which the scripts ask for at every Tab press: silent whatever happens, as the full CLI's).
 */
function completionAnswer(argv: string[], env: Env): string | undefined {
  if (argv.length !== 2) return undefined;
  if (argv[0] === 'completion') return rendered('completion.json', argv[1]!);
  if (argv[0] !== '__complete' || argv[1] !== 'profiles') return undefined;
  try {
    const names = profileNames(new ConfigFile(readSettings(env).configDir).read());
    return names.length > 0 ? `${names.join('\n')}\n` : '';
  } catch {
    return '';
  }
}

export function run(proc: FastProcess): void {
  const argv = proc.argv.slice(2);
  const answer =
    argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')
      ? `${VERSION}\n`
      : (printedAlone(argv, proc.env) ?? helpPage(argv, proc) ?? completionAnswer(argv, proc.env));
  if (answer === undefined) {
    const direct = directCommand(argv);
    /* eslint-disable @typescript-eslint/no-require-imports */
    if (direct) void (require('./direct.cjs') as typeof import('./direct.js')).run(proc as unknown as CliProcess, direct);
    else void (require('./cli.cjs') as typeof import('./cli.js')).run(proc as unknown as CliProcess);
    /* eslint-enable @typescript-eslint/no-require-imports */
    return;
  }
  const stdout = createStdout(1, () => proc.stdout);
  stdout.write(answer);
  stdout.end(() => proc.exit(0));
}
