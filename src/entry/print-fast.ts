// The start-up rules, all in one place. bin/yandex-token.cjs runs this file (built as dist/print.cjs) for
// every command line. It answers alone what scripts call in loops and people call first: `print` (with
// --json, --header [oauth|bearer], --profile) of a token that needs nothing done, `--version`, and `--help`
// from the pages rendered at build time. For anything else (a token due for renewal, missing or unreadable,
// a warning to give, any other flag or command) it hands the whole command line to the full CLI
// (dist/cli.cjs, src/entry/cli.ts) before writing a byte, and the full CLI does it all again properly.
//
// Why: Node 20 pays for every module it loads and compiles; scripts call `print` in loops, and this path
// runs at about 1.1× bare `node -e 0`. So this file and what it imports hold no commander, conf, lock,
// undici, prompts or open, install no signal handlers (nothing here needs protecting), and do not build
// process.stdout or process.stderr (stdout.ts writes to fd 1 directly). `npm run bench` measures it, and
// test/bin/fast-entry.test.ts proves which modules a fresh-token print loads.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HELP_WIDTH, helpRequest } from '../cli/help.js';
import { PROFILE_PATTERN, readSettings, type Env } from '../settings.js';
import { columnsOf, createStdout } from '../stdout.js';
import { ConfigFile, permissionWarnings } from '../store/read.js';
import { TOKEN_PATTERN, formatToken, isDue, isExpired, type HeaderScheme, type PrintFormat } from '../token/record.js';
import { VERSION } from '../version.js';

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
  const profile = options.profile ?? settings.profile;
  if (settings.token !== undefined) return TOKEN_PATTERN.test(settings.token) ? formatToken(settings.token, undefined, profile, options) : undefined;
  const file = new ConfigFile(settings.configDir);
  let data;
  try {
    data = file.read();
  } catch {
    return undefined;
  }
  const record = Object.hasOwn(data.profiles, profile) ? data.profiles[profile] : undefined;
  const now = new Date();
  if (!record || isExpired(record, now) || isDue(record, now) || !TOKEN_PATTERN.test(record.accessToken)) return undefined;
  if (permissionWarnings(file.dir, file.path).length > 0) return undefined;
  return formatToken(record.accessToken, record, profile, options);
}

/** The help page this command line asks for, as rendered at build time beside this file, if it fits. */
function helpPage(argv: string[], proc: FastProcess): string | undefined {
  const command = helpRequest(argv);
  if (command === undefined || (columnsOf(1, () => proc.stdout) ?? HELP_WIDTH) < HELP_WIDTH) return undefined;
  try {
    const pages = JSON.parse(readFileSync(join(__dirname, 'help.json'), 'utf8')) as Record<string, string>;
    return Object.hasOwn(pages, command) ? pages[command] : undefined;
  } catch {
    return undefined;
  }
}

export function run(proc: FastProcess): void {
  const argv = proc.argv.slice(2);
  const answer =
    argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v') ? `${VERSION}\n` : (printedAlone(argv, proc.env) ?? helpPage(argv, proc));
  if (answer === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('./cli.cjs') as typeof import('./cli.js')).run(proc as unknown as import('./cli.js').CliProcess);
    return;
  }
  const stdout = createStdout(1, () => proc.stdout);
  stdout.write(answer);
  stdout.end(() => proc.exit(0));
}
