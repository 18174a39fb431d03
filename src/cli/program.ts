// The only place commander is declared: every command, its options and help. cli/main.ts runs it for every
// command line the fast entry (entry/print-fast.ts) does not answer alone.
import { Argument, Command, CommanderError, InvalidArgumentError, Option, type OptionValues } from 'commander';
import type { CompletionOption, CompletionSpec } from '../commands/completion.js';
import type { Context } from '../context.js';
import type { LoginOptions } from '../login/options.js';
import { ExitCode } from '../errors.js';
import { HELP_WIDTH } from './help.js';
import type { Sink } from '../stdout.js';
import { DEFAULT_EMULATOR_PORT, DEFAULT_LOGIN_TIMEOUT_SECONDS, DEFAULT_OAUTH_URL, DEFAULT_PORT, PROFILE_PATTERN, ENV_NAME_PATTERN, profileFor, statusProfileFor } from '../settings.js';

import { SERVICE_NAMES, SETTING_NAMES } from '../services.js';
import { parseDuration } from '../time.js';
import { VERSION } from '../version.js';

const EXIT_CODES = `
Exit codes:
  0  success
  1  failure (the message says why and what to do)
  2  cancelled (Ctrl-C)
  3  login --device --poll: the code has not been entered yet; poll again later
  4  not logged in, or the token can no longer be used: run \`yandex-token login\`
  5  status --expires-within: a token expires within that time and will not be
     renewed before then`;

const FILES_AND_NETWORK = `
Files and network:
  The token is kept in config.json under $YANDEX_TOKEN_CONFIG_DIR, else
  $XDG_CONFIG_HOME/yandex-token (an absolute XDG_CONFIG_HOME only), else
  ~/.config/yandex-token; written 0600 in a 0700 folder. A file or folder
  others can use, or that belongs to another user, is a warning on stderr
  naming the fix. Requests to Yandex go through HTTPS_PROXY / HTTP_PROXY
  (lower case too), except hosts in NO_PROXY.`;

function positiveInt(name: string, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}.`);
    return n;
  };
}

function wholeNumber(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    return n;
  };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function profileName(value: string): string {
  if (!PROFILE_PATTERN.test(value)) {
    throw new InvalidArgumentError('A profile name is 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit.');
  }
  return value;
}

function envName(value: string, previous: string[] = []): string[] {
  if (!ENV_NAME_PATTERN.test(value)) {
    throw new InvalidArgumentError('A variable name is letters, digits and "_", not starting with a digit (e.g. YANDEX_OAUTH_TOKEN).');
  }
  return [...previous, value];
}

function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError('A duration is a number of seconds, or a number with d, h, m or s: 30d, 12h, 90m.');
  return ms;
}

function profileOption(): Option {
  return new Option('--profile <name>', 'which stored login to use (env: YANDEX_TOKEN_PROFILE)').argParser(profileName);
}

/** The commands and options as the completion scripts need them, read from the program itself. */
function completionSpec(program: Command): CompletionSpec {
  const optionsOf = (command: Command): CompletionOption[] => [
    ...command.options
      .filter((o) => !o.hidden && o.long)
      .map((o) => ({
        long: o.long!,
        short: o.short,
        description: o.description,
        value: o.required || o.optional ? (o.attributeName() === 'profile' ? ('profile' as const) : ('other' as const)) : undefined,
        choices: o.required ? o.argChoices : undefined,
      })),
    { long: '--help', short: '-h', description: 'display help for command' },
  ];
  // A command with subcommands (profile): they are its first word, the first subcommand's argument choices
  // its second, and its options are theirs.
  const merged = (command: Command): CompletionOption[] => {
    const all = [command, ...command.commands].flatMap(optionsOf);
    return all.filter((option, i) => all.findIndex((o) => o.long === option.long) === i);
  };
  const commands = program.commands
    .filter((c) => !c.name().startsWith('__'))
    .map((c) =>
      c.commands.length > 0
        ? { name: c.name(), description: c.description(), options: merged(c), argumentChoices: c.commands.map((sub) => sub.name()), nextChoices: c.commands[0]!.registeredArguments[0]?.argChoices }
        : { name: c.name(), description: c.description(), options: optionsOf(c), argumentChoices: c.registeredArguments[0]?.argChoices },
    );
  const help = { name: 'help', description: 'display help for command', options: [], argumentChoices: commands.map((c) => c.name) };
  return { program: program.name(), commands: [...commands, help], options: optionsOf(program) };
}

type CommandLineIo = { stdout: Sink; stderr: Sink };

/**
 * Commander writes and measures through our sinks only, so that it never builds process.stdout or
 * process.stderr just to measure them (for a pipe that costs Node 20 about 3 ms), and ends by throwing,
 * not by process.exit. Help has no colour, so there is none to keep.
 */
function outputFor(io: CommandLineIo) {
  return {
    writeOut: (text: string) => io.stdout.write(text),
    writeErr: (text: string) => io.stderr.write(text),
    getOutHelpWidth: () => Math.min(io.stdout.columns() ?? HELP_WIDTH, HELP_WIDTH),
    getErrHelpWidth: () => Math.min(io.stderr.columns() ?? HELP_WIDTH, HELP_WIDTH),
    getOutHasColors: () => false,
    getErrHasColors: () => false,
  };
}

/** What every command's declaration uses: the Context (made on first use), the streams, the exit code. */
interface Declaring {
  getContext: () => Context;
  io: CommandLineIo;
  exitWith: (code: number) => void;
  profileOf: (opts: { profile?: string }, ctx: Context) => string;
}

/**
 * The program; set before any command is added, as commands copy these settings when they are. A command
 * that ends with an exit code of its own (exec: its program's) hands it to `exitWith`.
 */
function buildProgram(getContext: () => Context, io: CommandLineIo, exitWith: (code: number) => void = () => undefined): Command {
  const program = new Command('yandex-token')
    .exitOverride()
    // Options after a command belong to it: exec's program gets every word after its name as it is.
    .enablePositionalOptions()
    .configureOutput(outputFor(io))
    .description('Get a Yandex OAuth token once, then hand it to your scripts.')
    .version(VERSION, '-v, --version')
    .showHelpAfterError('(run `yandex-token --help` for usage)')
    .addHelpText('after', FILES_AND_NETWORK)
    .addHelpText('after', EXIT_CODES);

  const use: Declaring = { getContext, io, exitWith, profileOf: (opts, ctx) => profileFor(opts.profile, ctx.settings) };
  declareLogin(program, use);
  declarePrint(program, use);
  declareExec(program, use);
  declareApi(program, use);
  declareProfile(program, use);
  declareStatus(program, use);
  declareRefresh(program, use);
  declareLogout(program, use);
  declareEmulator(program, use);
  declareCompletion(program, use);
  declareComplete(program, use);
  return program;
}

/** What `login --help` says after the options: the Redirect URI, the ways without a listener, two steps, a token. */
const LOGIN_HELP = `
Register this Redirect URI in your app at https://oauth.yandex.ru
(Platforms → Web services):
  http://127.0.0.1:${DEFAULT_PORT}/callback
(with --port N: http://127.0.0.1:N/callback; with --redirect-uri: exactly that)

When the browser cannot reach this machine (SSH, containers, CI), or the app
was created "for API access":
  --device        prints a code to type at Yandex's device page on any device;
                  nothing to register. Waits as long as the code lives (Yandex
                  says how long, usually 5 min), or --timeout if shorter.
  --no-localhost  Yandex shows a code on its verification page; paste it (or
                  the page's address) here, or pipe it in as one line. The app
                  needs this Redirect URI (API-access apps have it):
                  ${DEFAULT_OAUTH_URL}/verification_code
                  If it has https://oauth.yandex.com/verification_code (as
                  Yandex's English docs say), pass that as --redirect-uri.
After 30 s without an answer from the browser, login itself suggests these two.
Over SSH you can also keep the loopback login by forwarding the port from your
computer:
  ssh -N -L ${DEFAULT_PORT}:127.0.0.1:${DEFAULT_PORT} <remote host>

In two steps, for CI jobs and programs that cannot sit in a wait:
  yandex-token login --device --no-wait --json
      prints the code as JSON, keeps it pending, exits 0
  yandex-token login --device --poll
      later: 0 logged in, 3 not entered yet, 1 declined or expired
The pending code is kept beside the profile's token, which stays in use until
--poll succeeds.

A token you already have (a debug token from Yandex's page, say):
  yandex-token login --with-token < token.txt
      checked once with Yandex and stored without a refresh token: it is used
      until it expires; Yandex rejecting it is exit 4, and nothing is stored

Requests to Yandex go through HTTPS_PROXY / HTTP_PROXY except for hosts in
NO_PROXY (lower-case too).
${EXIT_CODES}`;

/** login's flags, in the order --help lists them. */
function loginFlags(command: Command): Command {
  return command
    .option('--client-id <id>', 'the app\'s ClientID (env: YANDEX_CLIENT_ID; asked for on a terminal)')
    .option('--client-secret <secret>', 'the app\'s Client secret (env: YANDEX_CLIENT_SECRET; asked for, hidden, on a terminal)')
    .addOption(new Option('--port <port>', `loopback port for the redirect (default ${DEFAULT_PORT})`).argParser(positiveInt('--port', 65535)))
    .option('--redirect-uri <uri>', 'the exact loopback Redirect URI registered in the app, e.g. http://localhost:8899/; with --no-localhost, the https page that shows the code')
    .option('--scope <scopes>', 'required permissions, space-separated (default: all the app has)')
    .option('--optional-scope <scopes>', 'optional permissions, space-separated')
    .option('--login-hint <login>', 'the Yandex account to log in as')
    .option('--force-confirm', 'always show the consent page (pick another account)')
    .option('--device-id <id>', 'device id shown in Yandex ID (default: a random id kept per profile)')
    .option('--device-name <name>', 'device name shown in Yandex ID (default: "yandex-token on <hostname>")')
    .option('--no-browser', 'do not open a browser; only print the URL')
    .option('--demo', 'try the whole login (with --device: the device login) against a built-in Yandex emulator, no app needed; stores a fake token in profile "demo"')
    .option('--device', 'no listener: enter a code shown here at Yandex, on any device (SSH, containers, CI)')
    .option('--no-localhost', 'no listener: paste back the code Yandex shows on its verification_code page')
    .option('--no-wait', 'with --device: print the code, keep it pending in the config and exit 0; finish with --poll')
    .option('--poll', 'with --device: finish the pending --no-wait login: poll once (or up to --timeout); exit 3 while not entered')
    .option('--json', 'with --device --no-wait: write {user_code, verification_url, expires_in, interval} to stdout')
    .option('--client-login <login>', 'after the login, set the profile\'s client-login (Direct: an agency\'s client account)')
    .option('--org-id <id>', 'after the login, set the profile\'s org-id (Tracker, Wiki: a Yandex 360 organisation)')
    .addOption(new Option('--cloud-org-id <id>', 'after the login, set the profile\'s cloud-org-id (Tracker, Wiki: a Yandex Cloud organisation)').conflicts('orgId'))
    .option('--with-token', 'store a token you already have, read from stdin (hidden prompt on a terminal): the token, the verification_code page\'s address with #access_token=, or token JSON; no app needed')
    .addOption(
      new Option('--timeout <seconds>', 'how long to wait for the browser, the pasted code or the device code (with --poll: how long to keep polling)')
        .default(DEFAULT_LOGIN_TIMEOUT_SECONDS)
        .argParser(positiveInt('--timeout', 86_400)),
    )
    .addOption(profileOption());
}

/** The one LoginOptions (login/options.ts) from the flags commander parsed. */
function loginOptionsFrom(opts: OptionValues, command: Command): LoginOptions {
  return {
    // The demo's own profile unless --profile names one: YANDEX_TOKEN_PROFILE never receives a fake token.
    profile: opts.profile,
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
    port: opts.port,
    redirectUri: opts.redirectUri,
    scope: opts.scope,
    optionalScope: opts.optionalScope,
    loginHint: opts.loginHint,
    forceConfirm: opts.forceConfirm,
    deviceId: opts.deviceId,
    deviceName: opts.deviceName,
    browser: opts.browser,
    // Only a --timeout given counts: --poll then polls once, --device waits as long as the code lives,
    // and the other waits take their default; --no-wait refuses one.
    timeoutSeconds: command.getOptionValueSource('timeout') === 'cli' ? opts.timeout : undefined,
    device: opts.device,
    localhost: opts.localhost,
    wait: opts.wait,
    poll: opts.poll,
    json: opts.json,
    demo: opts.demo,
    withToken: opts.withToken,
    serviceSettings: { 'client-login': opts.clientLogin, 'org-id': opts.orgId, 'cloud-org-id': opts.cloudOrgId },
  };
}

function declareLogin(program: Command, use: Declaring): void {
  const { getContext } = use;
  loginFlags(program.command('login').description('Log in with your Yandex app in the browser and store the token.'))
    .addHelpText('after', LOGIN_HELP)
    .action(async (opts: OptionValues, command: Command) => {
      const ctx = getContext();
      const options = loginOptionsFrom(opts, command);
      if (options.demo) {
        const { loginDemo } = await import('../commands/demo.js');
        return loginDemo(options, ctx);
      }
      const { login } = await import('../commands/login.js');
      await login(options, ctx);
    });
}

function declarePrint(program: Command, use: Declaring): void {
  const { getContext, profileOf } = use;
  program
    .command('print')
    .description('Write the token, and nothing else, to stdout: curl -H "Authorization: OAuth $(yandex-token print)" …')
    .addOption(profileOption())
    .addOption(new Option('--json', 'one JSON object: token, expiresAt, login, scope, profile, source (with --iam: token, expiresAt, kind, profile)').conflicts('header'))
    .addOption(
      new Option('--header [scheme]', 'write "Authorization: OAuth <token>" (bearer: "Authorization: Bearer <token>", for Direct), for curl -H @-')
        .choices(['oauth', 'bearer'])
        .preset('oauth'),
    )
    .addOption(new Option('--for <service>', 'the token that service takes; with --header, every header it needs (one per line), from the profile\'s settings').choices([...SERVICE_NAMES]))
    .addOption(new Option('--iam', 'write a Yandex Cloud IAM token got for the OAuth token (cached, renewed hourly); as a header: --header --for cloud').conflicts(['header', 'for']))
    .addHelpText(
      'after',
      `
  yandex-token print --header --for tracker |
    curl -H @- https://api.tracker.yandex.net/v3/myself
writes "Authorization: OAuth <token>" and X-Org-ID (or X-Cloud-Org-ID), as
\`yandex-token profile set\` keeps them; --for direct writes Bearer and
Client-Login. A setting the service needs and lacks is exit 1.

A token due for renewal (90 days after it was obtained or last renewed, or at
three quarters of its lifetime) is renewed first, once however many print run
at the same moment; if that fails while it still works, it is printed with a
warning. When YANDEX_TOKEN is set, print writes it and reads nothing.

--iam exchanges the OAuth token at Yandex Cloud's IAM API (YANDEX_IAM_URL,
default https://iam.api.cloud.yandex.net) and keeps the IAM token in the
config file: reused until an hour after it was issued or ten minutes before it
expires, then a new one, once however many print run at the same moment.
  curl -H "Authorization: Bearer $(yandex-token print --iam)" \\
    https://resource-manager.api.cloud.yandex.net/resource-manager/v1/clouds
Yandex Cloud refusing the OAuth token is exit 4.
${EXIT_CODES}`,
    )
    .action(async (opts) => {
      const ctx = getContext();
      const { print } = await import('../commands/print.js');
      await print({ profile: profileOf(opts, ctx), json: opts.json, header: opts.header, service: opts.for, iam: opts.iam }, ctx);
    });
}

function declareExec(program: Command, use: Declaring): void {
  const { getContext, exitWith, profileOf } = use;
  program
    .command('exec')
    .description('Run a program with the token in its environment (YANDEX_TOKEN), never in its arguments.')
    .usage('[options] -- <command> [args...]')
    .addOption(profileOption())
    .addOption(new Option('--env <name>', 'put the token in this variable instead of YANDEX_TOKEN (YC_TOKEN with --iam) (repeatable)').argParser(envName))
    .option('--iam', 'hand over a Yandex Cloud IAM token got for the OAuth token (as print --iam), in YC_TOKEN by default')
    .argument('<command>', 'the program to run, directly (no shell)')
    .argument('[args...]', 'its arguments, as given')
    .passThroughOptions()
    .addHelpText(
      'after',
      `
The token is renewed first when due, as print does, and goes into the
program's environment only: it is never in any process's arguments, so \`ps\`
does not show it. The program gets this terminal's stdin, stdout and stderr;
SIGINT, SIGTERM and SIGHUP are passed on to it, and exec waits for it.

Examples:
  yandex-token exec -- ./report.sh
  yandex-token exec --env YANDEX_OAUTH_TOKEN --profile work -- ./report.sh
  yandex-token exec --iam -- terraform plan      # YC_TOKEN: an IAM token

Exit codes:
  the program's own; 128+n when signal n killed it
  2    cancelled (Ctrl-C) before the program started
  4    not logged in, or the token can no longer be used (nothing is run)
  126  the program cannot be run (not executable)
  127  the program was not found`,
    )
    .action(async (command: string, args: string[], opts) => {
      const ctx = getContext();
      const { exec } = await import('../commands/exec.js');
      exitWith(await exec({ profile: profileOf(opts, ctx), env: opts.env, iam: opts.iam, command, args }, ctx));
    });
}

function declareApi(program: Command, use: Declaring): void {
  const { getContext, profileOf } = use;
  program
    .command('api')
    .description('Send one request to a Yandex API with the authorization its host wants; the answer\'s body goes to stdout.')
    .argument('<url>', 'https://… on a Yandex API host, or a path (/v1/disk/) with --for')
    .addOption(profileOption())
    .addOption(new Option('--for <service>', 'the service whose authorization and headers to send (needed for a path)').choices([...SERVICE_NAMES]))
    .option('-X, --method <method>', 'the HTTP method (default GET, or POST with -d)')
    .option('-H, --header <header>', 'a header \'Name: value\' (repeatable); replaces the service\'s of that name', collect)
    .option('-d, --data <data>', 'the request body: text, @FILE, or @- for stdin (JSON is sent as application/json)')
    .option('-i, --include', 'write the status line and the headers before the body')
    .option('--allow-host <host>', 'send the token to this host although it is not Yandex\'s (repeatable)', collect)
    .addHelpText(
      'after',
      `
Direct gets "Authorization: Bearer" and Client-Login; Tracker and Wiki
"Authorization: OAuth" and their organisation header; Cloud hosts
(*.api.cloud.yandex.net) an IAM token; Disk, Metrica, 360 and other Yandex
hosts "Authorization: OAuth". A 401 renews the token once and retries once.
Redirects are not followed. Hosts that are not Yandex's are refused unless
--allow-host names them. {orgId} in the URL is the profile's org-id.

Examples:
  yandex-token api https://cloud-api.yandex.net/v1/disk/
  yandex-token api --for tracker /v3/myself
  yandex-token api --for 360 '/directory/v1/org/{orgId}/users'
  yandex-token api https://api.direct.yandex.com/json/v5/campaigns \\
    -d '{"method": "get", "params": {"SelectionCriteria": {},
         "FieldNames": ["Id"]}}'

Exit codes:
  0  the API answered 1xx or 2xx
  1  it answered 3xx or 400 and above (the status line on stderr, its body on
     stdout), or the request failed
  2  cancelled (Ctrl-C)
  4  not logged in, or the token can no longer be used: run \`yandex-token login\``,
    )
    .action(async (url: string, opts) => {
      const ctx = getContext();
      const { api } = await import('../commands/api.js');
      await api(
        {
          profile: profileOf(opts, ctx),
          url,
          service: opts.for,
          method: opts.method,
          headers: opts.header,
          data: opts.data,
          include: opts.include,
          allowHosts: opts.allowHost,
        },
        ctx,
      );
    });
}

function declareProfile(program: Command, use: Declaring): void {
  const { getContext, profileOf } = use;
  const keys = SETTING_NAMES.join(', ');
  const profile = program
    .command('profile')
    .description('Keep what services need beside the token, per profile: client-login (Direct), org-id or cloud-org-id (Tracker).')
    .addHelpText(
      'after',
      `
Keys:
  client-login  Direct: the client account an agency works for (Client-Login)
  org-id        Tracker, Wiki: a Yandex 360 organisation's id, digits (X-Org-ID)
  cloud-org-id  Tracker, Wiki: a Yandex Cloud organisation's id (X-Cloud-Org-ID)
A profile has an org-id or a cloud-org-id, not both. Settings stay when you
log in again or log out; \`profile unset\` removes them.`,
    );
  profile
    .command('set')
    .description('Set one of the profile\'s settings (the profile need not be logged in yet).')
    .addArgument(new Argument('<key>', keys).choices([...SETTING_NAMES]))
    .argument('<value>', 'its value')
    .addOption(profileOption())
    .action(async (key: string, value: string, opts) => {
      const ctx = getContext();
      const { profileSet } = await import('../commands/profile.js');
      await profileSet({ profile: profileOf(opts, ctx), key, value }, ctx);
    });
  profile
    .command('unset')
    .description('Remove settings: the keys named, or all of the profile\'s.')
    .addArgument(new Argument('[keys...]', keys).choices([...SETTING_NAMES]))
    .addOption(profileOption())
    .action(async (keys: string[], opts) => {
      const ctx = getContext();
      const { profileUnset } = await import('../commands/profile.js');
      await profileUnset({ profile: profileOf(opts, ctx), keys }, ctx);
    });
  profile
    .command('show')
    .description('Write the profile\'s settings to stdout, as key=value lines.')
    .addOption(profileOption())
    .option('--json', 'one JSON object: profile, clientLogin, orgId, cloudOrgId (null when not set)')
    .action(async (opts) => {
      const ctx = getContext();
      const { profileShow } = await import('../commands/profile.js');
      await profileShow({ profile: profileOf(opts, ctx), json: opts.json }, ctx);
    });
}

function declareStatus(program: Command, use: Declaring): void {
  const { getContext } = use;
  program
    .command('status')
    .description('Show each stored login (account, client ID, expiry, scopes) and check its token with Yandex.')
    .addOption(profileOption())
    .option('--json', 'write the report as JSON to stdout')
    .addOption(
      new Option('--expires-within <duration>', 'exit 5 if a token expires within this time (30d, 12h, 90m, seconds) and will not be renewed first').argParser(duration),
    )
    .addHelpText(
      'after',
      `
Without --profile (or YANDEX_TOKEN_PROFILE) every stored profile is shown. With
YANDEX_TOKEN set, that token is checked instead.

Exit codes:
  0  every token is valid
  1  Yandex could not be reached to check
  2  cancelled (Ctrl-C)
  4  not logged in, or a token was rejected or cannot be renewed:
     run \`yandex-token login\`
  5  with --expires-within: a token expires within that time, and print will
     not renew it first (no refresh token, or its renewal was refused or
     failed); --json adds "expiresSoon" to each entry. 4 and 1 come first.`,
    )
    .action(async (opts) => {
      const ctx = getContext();
      const { status } = await import('../commands/status.js');
      await status({ profile: statusProfileFor(opts.profile, ctx.settings), json: opts.json, expiresWithinMs: opts.expiresWithin }, ctx);
    });
}

function declareRefresh(program: Command, use: Declaring): void {
  const { getContext, profileOf } = use;
  program
    .command('refresh')
    .description('Renew the stored token now with its refresh token (print does this by itself when due).')
    .addOption(profileOption())
    .addHelpText('after', EXIT_CODES)
    .action(async (opts) => {
      const ctx = getContext();
      const { refresh } = await import('../commands/refresh.js');
      await refresh({ profile: profileOf(opts, ctx) }, ctx);
    });
}

function declareLogout(program: Command, use: Declaring): void {
  const { getContext, profileOf } = use;
  program
    .command('logout')
    .description('Revoke the token at Yandex (when Yandex allows it) and remove the stored login.')
    .addOption(profileOption())
    .addHelpText(
      'after',
      `
A failed revocation is a warning: the login is removed here anyway. Logging out
when logged out is not an error (exit 0).
${EXIT_CODES}`,
    )
    .action(async (opts) => {
      const ctx = getContext();
      const { logout } = await import('../commands/logout.js');
      await logout({ profile: profileOf(opts, ctx) }, ctx);
    });
}

function declareEmulator(program: Command, use: Declaring): void {
  const { getContext } = use;
  program
    .command('emulator')
    .description('Serve a local Yandex OAuth emulator (not Yandex) for trying yandex-token and testing scripts offline.')
    .addOption(
      new Option('--port <port>', `port on 127.0.0.1 (0: any free port)`).default(DEFAULT_EMULATOR_PORT).argParser(wholeNumber('--port', 0, 65535)),
    )
    .option('--json', 'also write {url, env, client, account} as one JSON line to stdout, for programs')
    .option('--strict-redirect <uri>', 'accept only this Redirect URI (repeatable), as a real app registration does', collect)
    .addOption(new Option('--token-lifetime <seconds>', 'expires_in of issued tokens (default 31536000, a year)').argParser(positiveInt('--token-lifetime', 315_360_000)))
    .option('--login <name>', 'the account\'s login (default demo.user)')
    .option('--fail <endpoint=mode>', 'make every request to an endpoint fail (repeatable), e.g. token=server-error', collect)
    .addOption(new Option('--slow <ms>', 'delay every answer by this many milliseconds').argParser(wholeNumber('--slow', 0, 600_000)))
    .addHelpText(
      'after',
      `
Endpoints: authorize, token, device/code, revoke_token, info, iam/v1/tokens
Failure modes: server-error (503 HTML), html (200 HTML), truncated (half a
  JSON), no-access-token, huge (10 MB), reset (connection dropped), hang (never
  answers)

The emulator is for trying things and for tests. It is never a stand-in for
Yandex in production.
Ctrl-C or SIGTERM stops it (exit 0).`,
    )
    .action(async (opts) => {
      const ctx = getContext();
      const { emulator } = await import('../commands/emulator.js');
      await emulator(
        {
          port: opts.port,
          json: opts.json,
          strictRedirect: opts.strictRedirect,
          tokenLifetimeSeconds: opts.tokenLifetime,
          login: opts.login,
          fail: opts.fail,
          slowMs: opts.slow,
        },
        ctx,
      );
    });
}

function declareCompletion(program: Command, use: Declaring): void {
  const { getContext } = use;
  program
    .command('completion')
    .description('Print a completion script for bash, zsh or fish: commands, options and your profile names.')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      `
Install (see the README for more):
  bash  yandex-token completion bash \\
          > ~/.local/share/bash-completion/completions/yandex-token
  zsh   yandex-token completion zsh > ~/.zsh/completions/_yandex-token
          (with fpath=(~/.zsh/completions $fpath) before compinit)
  fish  yandex-token completion fish \\
          > ~/.config/fish/completions/yandex-token.fish
Profile names are read from the config file each time you press Tab.`,
    )
    .action(async (shell: string) => {
      const ctx = getContext();
      const { completion } = await import('../commands/completion.js');
      await completion({ shell, spec: completionSpec(program) }, ctx);
    });
}

/** For the completion scripts: `__complete profiles` lists the stored profiles, silently. */
function declareComplete(program: Command, use: Declaring): void {
  const { getContext } = use;
  program
    .command('__complete', { hidden: true })
    .argument('[what]')
    .action(async (what?: string) => {
      const { complete } = await import('../commands/completion.js');
      await complete(what, getContext);
    });
}

/**
 * Parses and runs a command line with commander. Commander's own errors (unknown option, --help, --version)
 * are already written to stderr/stdout and come back as an exit code; every other error is thrown to the
 * one catch-all in main.ts.
 */
export async function runCommandLine(argv: string[], getContext: () => Context, io: CommandLineIo): Promise<number> {
  let code: number = ExitCode.ok;
  const program = buildProgram(getContext, io, (value) => (code = value));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.failure;
    throw error;
  }
}

/** The completion scripts as `completion <shell>` writes them: what src/build.mjs writes to dist/completion.json. */
export async function renderCompletionScripts(): Promise<Record<string, string>> {
  const { SHELLS, bashScript, fishScript, zshScript } = await import('../commands/completion.js');
  const quiet = { write: () => {}, columns: () => undefined };
  const spec = completionSpec(
    buildProgram(
      () => {
        throw new Error('a completion script needs no context');
      },
      { stdout: quiet, stderr: quiet },
    ),
  );
  const render = { bash: bashScript, zsh: zshScript, fish: fishScript };
  return Object.fromEntries(SHELLS.map((shell) => [shell, render[shell](spec)]));
}

/**
 * Every help page as `<command> --help` writes it where the output is no narrower than HELP_WIDTH, keyed
 * by command ('' for the program): what src/build.mjs writes to dist/help.json for the fast entry.
 */
export async function renderHelpPages(): Promise<Record<string, string>> {
  const noContext = (): Context => {
    throw new Error('a help page needs no context');
  };
  const quiet = { write: () => {}, columns: () => undefined };
  const render = async (argv: string[]) => {
    let page = '';
    const stdout = { write: (text: string) => void (page += text), columns: () => undefined };
    const stderr = { write: (text: string) => void process.stderr.write(text), columns: () => undefined };
    if ((await runCommandLine([...argv, '--help'], noContext, { stdout, stderr })) !== ExitCode.ok) throw new Error(`${argv.join(' ')} --help failed`);
    return page;
  };
  const pages: Record<string, string> = { '': await render([]) };
  for (const command of buildProgram(noContext, { stdout: quiet, stderr: quiet }).commands) {
    if (!command.name().startsWith('__')) pages[command.name()] = await render([command.name()]);
  }
  return pages;
}
