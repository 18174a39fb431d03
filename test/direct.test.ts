// The fast entry's hand-over (bin → print.cjs → direct.cjs for print, refresh and status it parsed) against
// the full CLI (commander): for each command line, environment and config file, both run on homes set up
// alike (in a terminal too, under signals too), and give the same exit code, stdout, stderr and files left.
// The fast entry is always the built binary; the full CLI is the built one too (test/support/full-cli.cjs →
// cli.cjs) under signals, and otherwise src/cli/main.ts in this process (runCommand; in a terminal, one as
// script(1) makes), the same code without a Node start-up per case: half the file's CPU.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import type { Emulator } from '../src/emulator/index.ts';
import type { TokenRecord } from '../src/token/record.ts';
import { formatInstant } from '../src/time.ts';
import { runCommand } from './support/in-process.ts';
import { FULL_CLI, fakeYandex, issuedRecord, makeHome, startCli, writeConfig, type Home, type RunResult } from './support/harness.ts';

const DAY = 86_400_000;
/** Port 1 on loopback: nothing listens there (the same address for both paths, as it is in the messages). */
const OUT_OF_REACH = { YANDEX_OAUTH_URL: 'http://127.0.0.1:1', YANDEX_LOGIN_URL: 'http://127.0.0.1:1' };

/** A config folder as a test needs it, set up twice alike: once for each path. */
type Setup = (t: TestContext, yandex: Emulator) => Promise<Home>;

// Times fixed once, so that both homes of a pair hold the same ones (status shows them, and what follows);
// half a day off the whole days that status counts down (expiry, renewal at 90 days), so that each run's
// own now, a second or so apart, counts the same number of days.
const NOW = Date.now();
const at = (ms: number) => new Date(NOW + ms).toISOString();
const fresh = (yandex: Emulator, login: string) =>
  issuedRecord(yandex, { expiresInMs: 0, record: { login, expiresAt: at(300 * DAY + DAY / 2), obtainedAt: at(-DAY - DAY / 2) } });
/** Obtained 100 days ago (and a half): due for renewal, still working for months. */
const due = (yandex: Emulator, record: Partial<TokenRecord> = {}) =>
  issuedRecord(yandex, { expiresInMs: 0, record: { expiresAt: at(200 * DAY + DAY / 2), obtainedAt: at(-100 * DAY - DAY / 2), ...record } });

const HOMES: Record<string, Setup> = {
  'no config file': async (t, yandex) => makeHome(t, yandex),
  'a config file that is not JSON': async (t, yandex) => {
    const home = makeHome(t, yandex);
    mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
    writeFileSync(home.configFile, '{"profiles": ', { mode: 0o600 });
    return home;
  },
  'a folder where the config file should be': async (t, yandex) => {
    const home = makeHome(t, yandex);
    mkdirSync(home.configFile, { recursive: true, mode: 0o700 });
    return home;
  },
  'fresh tokens in default and work': async (t, yandex) => {
    const home = makeHome(t, yandex);
    writeConfig(home, { default: fresh(yandex, 'alice'), work: fresh(yandex, 'bob') });
    return home;
  },
  'a config file others can read': async (t, yandex) => {
    const home = makeHome(t, yandex);
    writeConfig(home, { default: fresh(yandex, 'alice') });
    chmodSync(home.configFile, 0o644);
    return home;
  },
  'a token due for renewal': async (t, yandex) => {
    const home = makeHome(t, yandex);
    writeConfig(home, { default: due(yandex), work: due(yandex) });
    return home;
  },
  'a due token whose refresh token Yandex refuses': async (t, yandex) => {
    const home = makeHome(t, yandex);
    writeConfig(home, { default: due(yandex, { refreshToken: '1:refused:refresh-token' }) });
    return home;
  },
  'a due token and Yandex out of reach': async (t, yandex) => {
    const home = makeHome(t, yandex);
    writeConfig(home, { default: due(yandex) });
    return { ...home, env: { ...home.env, ...OUT_OF_REACH } };
  },
  'an expired token and Yandex out of reach': async (t, yandex) => {
    const home = makeHome(t, yandex);
    writeConfig(home, { default: issuedRecord(yandex, { expiresInMs: 0, record: { expiresAt: at(-DAY), obtainedAt: at(-400 * DAY) } }) });
    return { ...home, env: { ...home.env, ...OUT_OF_REACH } };
  },
};

const EVERY_LINE_HOMES = new Set(['no config file', 'fresh tokens in default and work', 'a token due for renewal']);

/** What the fast entry hands to direct.cjs (or answers alone): every flag direct.cjs takes. */
const DIRECT_LINES = [
  ['print'],
  ['print', '--json'],
  ['print', '--header', 'bearer', '--profile', 'work'],
  ['refresh'],
  ['refresh', '--profile=work'],
  ['status'],
  ['status', '--json', '--profile', 'work'],
  ['status', '--profile', 'nope'],
];

/** What commander must explain (or parse its own way): the fast entry hands these to the full CLI. */
const COMMANDER_LINES = [
  ['status', '--profile'],
  ['status', '--profile='],
  ['refresh', '--profile', '--json'],
  ['refresh', '--json'],
  ['status', '--nope'],
  ['status', 'extra'],
  ['status', '--expires-within'],
  ['status', '--expires-within', '400d'],
  ['print', '--header=foo'],
  ['print', '--header='],
  ['print', '--json', '--header'],
  ['print', '--json=1'],
  ['print', '--iam'],
  ['print', '--for', 'x'],
  ['print', '--for', 'disk', '--header'],
  ['print', '--profile', '-x'],
  ['print', '--', 'extra'],
  ['print', '-'],
  ['print', '--header', 'bearer', '--header'],
];

/** Environments beside a home's own: the profile named, a bad one, a token given, stack traces, no colour. */
const ENVIRONMENTS: Record<string, Record<string, string>> = {
  'YANDEX_TOKEN_PROFILE=work': { YANDEX_TOKEN_PROFILE: 'work' },
  'YANDEX_TOKEN_PROFILE=../x': { YANDEX_TOKEN_PROFILE: '../x' },
  'YANDEX_TOKEN that is no token': { YANDEX_TOKEN: 'not a token' },
  'YANDEX_TOKEN (Yandex does not know it)': { YANDEX_TOKEN: 'y0_not-issued-by-the-emulator' },
  'DEBUG=yandex-token': { DEBUG: 'yandex-token' },
  NO_COLOR: { NO_COLOR: '1' },
};

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** What the config folder holds afterwards: the file's names (a lock, a marker, a kept file left?). */
  left: string[];
}

/**
 * A run's result with what differs between two homes by nature written as placeholders: the home's path, the
 * token and expiry Yandex issued each (read from the file the run left; a renewal's expiry is its run's now
 * plus a year), seconds counted from each run's
 * own now, and a stack trace's frames (the entries differ: direct.ts, program.ts), whose presence is kept.
 */
function outcome(home: Home, result: RunResult): Outcome {
  let text = (value: string) => value.split(home.dir).join('<home>');
  try {
    for (const record of Object.values((JSON.parse(readFileSync(home.configFile, 'utf8')) as { profiles: Record<string, TokenRecord> }).profiles)) {
      const before = text;
      const expiry = record.expiresAt ? [record.expiresAt, formatInstant(new Date(record.expiresAt))] : [];
      text = (value) => expiry.reduce((sofar, shown) => sofar.split(shown).join('<expiresAt>'), before(value).split(record.accessToken).join('<token>'));
    }
  } catch {
    // No file, or not one to read tokens from.
  }
  const normal = (value: string) =>
    text(value)
      .replace(/"expiresInSeconds": ?-?\d+/g, '"expiresInSeconds": <n>')
      .replace(/^(\s+at .*\n)+/gm, '    at <frames>\n');
  let left: string[] = [];
  try {
    left = readdirSync(home.configDir).sort();
  } catch {
    // No folder.
  }
  return { code: result.code, signal: result.signal, stdout: normal(result.stdout), stderr: normal(result.stderr), left };
}

interface Case {
  label: string;
  setup: Setup;
  argv: string[];
  env?: Record<string, string>;
  /** Run in a terminal (script(1)'s pseudo-terminal: stdout and stderr as one stream, in stdout). */
  tty?: boolean;
  /** Sent, 100 ms apart, once stderr says `after` (or it holds of the run's home). */
  signals?: { names: NodeJS.Signals[]; after: RegExp | ((home: Home) => boolean) };
}

/** Runs one case's command line on a home of its own, through bin/ (the fast entry) or FULL_CLI. */
async function runOn(home: Home, { argv, env = {}, signals, tty }: Case, entry?: string): Promise<Outcome> {
  // script runs one command line: the words joined (none of them holds a space).
  const wrapper = tty ? ['sh', '-c', 'exec script -qec "$*" /dev/null', 'sh'] : undefined;
  const running = startCli(argv, { ...home.env, ...env }, { entry, wrapper });
  if (signals) {
    const { names, after } = signals;
    if (after instanceof RegExp) await running.waitForStderr(after);
    else for (const deadline = Date.now() + 15_000; !after(home); await new Promise((resolve) => setTimeout(resolve, 20))) assert.ok(Date.now() < deadline, 'the moment to signal came');
    for (const [i, name] of names.entries()) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      running.child.kill(name);
    }
  }
  return outcome(home, await running.done);
}

/** The full CLI's answer in this process (src/cli/main.ts, as cli.cjs runs it), for a case with no signal: in a terminal, one as script(1) makes. */
async function runInProcess(home: Home, { argv, env = {}, tty }: Case): Promise<Outcome> {
  const result = await runCommand(argv, { ...home.env, ...env } as Record<string, string>, { terminal: tty });
  return outcome(home, { ...result, signal: null } as RunResult);
}

/** Runs the cases on both paths, each on its own home from `setup`, at most `width` runs at a time. */
async function compare(t: TestContext, yandex: Emulator, cases: Case[]): Promise<void> {
  const width = 6;
  const queue = [...cases];
  const failures: string[] = [];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { label, setup, argv, env = {} } = next;
      const [viaBin, viaCli] = await Promise.all([setup(t, yandex), setup(t, yandex)]);
      const [bin, cli] = await Promise.all([runOn(viaBin, next), next.signals ? runOn(viaCli, next, FULL_CLI) : runInProcess(viaCli, next)]);
      try {
        assert.deepEqual(bin, cli);
        if (env.DEBUG) assert.equal(bin.stderr.includes('<frames>'), bin.code !== 0, 'a failure under DEBUG has its stack');
        assert.doesNotMatch(bin.stderr, /Unexpected error/);
      } catch (error) {
        failures.push(`${argv.join(' ')} (${label}): ${(error as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  assert.deepEqual(failures, []);
}

test('print, refresh and status as the fast entry hands them to direct.cjs: the same as the full CLI on every kind of config file', async (t) => {
  const yandex = await fakeYandex(t);
  await compare(
    t,
    yandex,
    // Every line on the homes whose tokens work, renew or are missing; on the others (files that are wrong,
    // refusals, Yandex out of reach) one line of each command: what differs there is the file, not the flags.
    Object.entries(HOMES).flatMap(([label, setup]) =>
      (EVERY_LINE_HOMES.has(label) ? DIRECT_LINES : DIRECT_LINES.filter((argv) => argv.length === 1)).map((argv) => ({ label, setup, argv })),
    ),
  );
});

test('the same in every environment the fast entry reads: YANDEX_TOKEN_PROFILE, YANDEX_TOKEN, DEBUG, NO_COLOR', async (t) => {
  const yandex = await fakeYandex(t);
  const lines = [['print', '--json'], ['refresh'], ['status', '--json']];
  const homes = ['no config file', 'a token due for renewal'] as const;
  await compare(
    t,
    yandex,
    Object.entries(ENVIRONMENTS).flatMap(([name, env]) => homes.flatMap((home) => lines.map((argv) => ({ label: `${home}, ${name}`, setup: HOMES[home]!, argv, env })))),
  );
});

test('what commander rejects or parses its own way reaches it from the fast entry: the same sentence and exit code', async (t) => {
  const yandex = await fakeYandex(t);
  await compare(
    t,
    yandex,
    COMMANDER_LINES.map((argv) => ({ label: 'fresh tokens', setup: HOMES['fresh tokens in default and work']!, argv })),
  );
});

test('a signal while waiting for the lock another run holds: the same sentence, exit code and files left', async (t) => {
  const yandex = await fakeYandex(t);
  const locked: Setup = async (t, yandex) => {
    const home = await HOMES['a token due for renewal']!(t, yandex);
    // Held by another run (fresh, so not taken over): a renewal waits, says so after 2 s, and is stopped.
    mkdirSync(`${home.configFile}.lock`);
    return home;
  };
  const after = /Waiting for another yandex-token to finish with /;
  await compare(
    t,
    yandex,
    (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).flatMap((name) => [['print'], ['refresh']].map((argv) => ({ label: name, setup: locked, argv, signals: { names: [name], after } }))),
  );
});

test('a signal while Yandex holds the renewal\'s answer: the 2 s grace, and a second Ctrl-C that waits for it, the same on both paths', async (t) => {
  // Each home has an emulator of its own that never answers /token, so that the moment to signal is when
  // that home's request has arrived.
  const emulators = new Map<Home, Emulator>();
  const hanging: Setup = async (t) => {
    const own = await fakeYandex(t);
    own.fail('/token', 'hang');
    const home = await HOMES['a token due for renewal']!(t, own);
    emulators.set(home, own);
    return home;
  };
  const arrived = (home: Home) => emulators.get(home)!.requests.some((request) => request.path === '/token');
  const yandex = await fakeYandex(t);
  await compare(
    t,
    yandex,
    [['SIGINT'], ['SIGTERM'], ['SIGINT', 'SIGINT'], ['SIGHUP', 'SIGTERM']].flatMap((names) =>
      [['print'], ['refresh']].map((argv) => ({ label: names.join(', '), setup: hanging, argv, signals: { names: names as NodeJS.Signals[], after: arrived } })),
    ),
  );
});

test('in a terminal: the same colours, and none with NO_COLOR or TERM=dumb', async (t) => {
  if (spawnSync('script', ['-qec', 'true', '/dev/null']).status !== 0) return t.skip('script(1) is not available here');
  const yandex = await fakeYandex(t);
  const lines = [['print'], ['refresh'], ['status'], ['status', '--profile']];
  const environments = [{}, { NO_COLOR: '1' }, { TERM: 'dumb' }];
  const homes = ['a due token and Yandex out of reach', 'a config file others can read', 'no config file'] as const;
  await compare(
    t,
    yandex,
    environments.flatMap((env) => homes.flatMap((home) => lines.map((argv) => ({ label: `${home}, ${JSON.stringify(env)}, in a terminal`, setup: HOMES[home]!, argv, env: { TERM: 'xterm', ...env }, tty: true })))),
  );
});
