// The device login in two steps, for CI jobs and programs: `login --device --no-wait --json` keeps the code
// pending in the config and exits; `login --device --poll` finishes it (0), is still waiting (3), or ends
// it (1). In-process against the emulator, with 1 s intervals on a test clock both share.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import type { Emulator, EmulatorOptions } from '../src/emulator/index.ts';
import type { ConfigData } from '../src/store/read.ts';
import type { TokenRecord } from '../src/token/record.ts';
import { DEMO_CLIENT, credentials, fakeYandex, makeHome, type Home, type RunResult } from './support/harness.ts';
import { devicePerson, runCommand, testClock } from './support/in-process.ts';

interface CodeJson {
  user_code: string;
  verification_url: string;
  expires_in: number;
  interval: number;
}

function readConfig(home: Home): ConfigData {
  return JSON.parse(readFileSync(home.configFile, 'utf8')) as ConfigData;
}

function polls(yandex: Emulator) {
  return yandex.requests.filter((r) => r.path === '/token' && r.form.grant_type === 'device_code');
}

/**
 * The emulator and every run of a test on one test clock: --poll keeps Yandex's interval since the last
 * poll (or --no-wait), and that wait passes at once. `run` runs a command on that clock.
 */
async function onClock(t: TestContext, options: EmulatorOptions = {}) {
  const clock = testClock();
  const yandex = await fakeYandex(t, { deviceIntervalSeconds: 1, ...options, now: clock.now });
  const home = makeHome(t, yandex);
  const run = (args: string[], env = home.env, fetch?: typeof globalThis.fetch) => runCommand(args, env, { clock, fetch });
  return { clock, yandex, home, run };
}

async function setUp(t: TestContext, extra: string[] = [], options: EmulatorOptions = {}) {
  const { yandex, home, run } = await onClock(t, options);
  const started = await run(['login', '--device', '--no-wait', '--json', ...credentials(), ...extra]);
  assert.equal(started.code, 0, started.stderr);
  const code = JSON.parse(started.stdout) as CodeJson;
  return { yandex, home, started, code, run };
}

function assertExit(result: RunResult, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, `exit code; stderr:\n${result.stderr}`);
  assert.equal(result.stdout, '');
  assert.match(result.stderr.trim().split('\n').at(-1) ?? '', pattern);
  assert.doesNotMatch(result.stderr, /^\s+at |Unexpected error/m);
}

test('--no-wait --json prints the code as JSON and exits 0; --poll is 3 while pending, then 0 and stores the token', async (t) => {
  const { yandex, home, run } = await onClock(t);
  // A working login already in the profile: a pending one must not replace it until it succeeds.
  const old = yandex.issueToken({ expiresIn: 3600 });
  const working: TokenRecord = { accessToken: old.access_token, clientId: DEMO_CLIENT.id, obtainedAt: new Date().toISOString() };
  mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
  writeFileSync(home.configFile, JSON.stringify({ profiles: { default: working }, deviceIds: {} }), { mode: 0o600 });

  const started = await run(['login', '--device', '--no-wait', '--json', ...credentials(), '--scope', 'cloud_api:disk.read']);
  assert.equal(started.code, 0, started.stderr);
  const code = JSON.parse(started.stdout) as CodeJson;
  assert.deepEqual(Object.keys(code).sort(), ['expires_in', 'interval', 'user_code', 'verification_url']);
  assert.equal(code.verification_url, `${yandex.url}/device`);
  assert.equal(code.expires_in, 300);
  assert.equal(code.interval, 1);
  assert.match(started.stderr, new RegExp(`enter this code:\\n\\n {2}${code.user_code}\\n`));
  assert.match(started.stderr, /Then run `yandex-token login --device --poll` \(exit 0: logged in, 3: not entered yet\)/);
  assert.ok(!started.stderr.includes(DEMO_CLIENT.secret));
  assert.equal(polls(yandex).length, 0, '--no-wait does not poll');

  const config = readConfig(home);
  assert.equal(config.profiles.default!.accessToken, old.access_token, 'the working token stays');
  const pending = config.pending!.default!;
  assert.equal(pending.userCode, code.user_code);
  assert.equal(pending.clientId, DEMO_CLIENT.id);
  assert.equal(pending.scope, 'cloud_api:disk.read');
  assert.equal((await run(['print'])).stdout, `${old.access_token}\n`, 'print keeps printing the working token');

  const waiting = await run(['login', '--device', '--poll']);
  assertExit(waiting, 3, new RegExp(`^The code ${code.user_code} has not been entered at .* yet \\(it expires in .*\\)\\. Run \`yandex-token login --device --poll\` again`));
  assert.equal(polls(yandex).length, 1, '--poll polls once');
  assert.equal(readConfig(home).profiles.default!.accessToken, old.access_token);

  assert.ok(yandex.decideDevice(code.user_code, true));
  const done = await run(['login', '--device', '--poll']);
  assert.equal(done.code, 0, done.stderr);
  assert.equal(done.stdout, '');
  assert.match(done.stderr, /Logged in as demo\.user\. Token saved to /);
  const after = readConfig(home);
  assert.notEqual(after.profiles.default!.accessToken, old.access_token);
  assert.equal(after.profiles.default!.scope, 'cloud_api:disk.read');
  assert.equal(after.profiles.default!.deviceId, pending.deviceId);
  assert.deepEqual(after.pending, {}, 'the pending login is gone');
  assert.equal((await run(['print'])).stdout, `${after.profiles.default!.accessToken}\n`);

  // The polls kept Yandex's interval across runs (a lower bound, so never flaky).
  const at = polls(yandex).map((r) => r.at);
  assert.ok(at[1]! - at[0]! >= 950, `second poll ${at[1]! - at[0]!} ms after the first`);

  assertExit(await run(['login', '--device', '--poll']), 1, /^No device login is pending: start one with `yandex-token login --device --no-wait`/);
});

test('--poll --timeout keeps polling until the code is allowed', async (t) => {
  const { yandex, home, code, run } = await setUp(t, ['--profile', 'ci']);
  // The person allows the code before the second poll.
  const person = devicePerson((_userCode, poll) => poll === 2 && assert.ok(yandex.decideDevice(code.user_code, true)));
  const result = await run(['login', '--device', '--poll', '--timeout', '60', '--profile', 'ci'], home.env, person);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /Logged in as demo\.user\./);
  assert.equal(polls(yandex).length, 2);
  const config = readConfig(home);
  assert.ok(config.profiles.ci);
  assert.equal(config.pending?.ci, undefined);
  assert.equal(config.profiles.default, undefined);
});

test('declined on the page, in RFC 8628\'s words: --poll exits 1 saying to start again, and the pending code is dropped', async (t) => {
  const { yandex, home, code, run } = await setUp(t, [], { deviceErrors: 'rfc8628' });
  assert.ok(yandex.decideDevice(code.user_code, false));
  const result = await run(['login', '--device', '--poll']);
  assertExit(result, 1, /^Access was declined on the Yandex page\. Nothing was stored; run `yandex-token login --device --no-wait` again/);
  const config = readConfig(home);
  assert.deepEqual(config.pending, {});
  assert.deepEqual(config.profiles, {});
  assertExit(await run(['login', '--device', '--poll']), 1, /^No device login is pending/);
});

test('expired, as Yandex says or by the clock: --poll exits 1 saying to start again, and the pending code is dropped', async (t) => {
  const { yandex, home, run } = await setUp(t);
  yandex.expireDeviceCodes();
  assertExit(await run(['login', '--device', '--poll']), 1, /expired.*`yandex-token login --device --no-wait`/);
  assert.deepEqual(readConfig(home).pending, {});

  // A code whose lifetime has passed is not polled at all.
  const again = await run(['login', '--device', '--no-wait', ...credentials()]);
  assert.equal(again.code, 0, again.stderr);
  const config = readConfig(home);
  config.pending!.default!.expiresAt = new Date(Date.now() - 1000).toISOString();
  writeFileSync(home.configFile, JSON.stringify(config), { mode: 0o600 });
  const before = polls(yandex).length;
  assertExit(await run(['login', '--device', '--poll']), 1, /^The code expired \(it lives 5 min\) before access was allowed\. Run `yandex-token login --device --no-wait` again/);
  assert.equal(polls(yandex).length, before, 'no poll for a dead code');
  assert.deepEqual(readConfig(home).pending, {});
});

test('declined or expired, as Yandex is known to answer (invalid_grant): --poll exits 1 saying to start again, the code is dropped', async (t) => {
  const { yandex, home, code, run } = await setUp(t);
  assert.ok(yandex.decideDevice(code.user_code, false));
  assertExit(
    await run(['login', '--device', '--poll']),
    1,
    /^Yandex answered invalid_grant \(The user denied access\): the code expired or was declined, and Yandex no longer accepts it\. Run `yandex-token login --device --no-wait` again and enter the new code\.$/,
  );
  assert.deepEqual(readConfig(home).pending, {});
  assert.deepEqual(readConfig(home).profiles, {});
});

test('slow_down during --poll: exit 3, and the longer interval is kept for the next run', async (t) => {
  const { yandex, home, run } = await setUp(t);
  yandex.slowDownNextPoll();
  assertExit(await run(['login', '--device', '--poll']), 3, /again in 6 s or more\.$/);
  assert.equal(readConfig(home).pending!.default!.interval, 6);
});

test('--poll with nothing pending, in another profile, and flags that do not fit: exit 1 before any request', async (t) => {
  const { yandex, home, run } = await setUp(t);
  const requests = yandex.requests.length;
  assertExit(await run(['login', '--device', '--poll', '--profile', 'other']), 1, /^No device login is pending \(profile "other"\): start one with `yandex-token login --device --no-wait --profile other`/);
  const refused: [string[], RegExp][] = [
    [['login', '--no-wait', ...credentials()], /^--no-wait is for the two-step device login: pass it with --device/],
    [['login', '--poll'], /^--poll is for the two-step device login/],
    [['login', '--device', '--no-wait', '--poll'], /^Pass --no-wait or --poll, not both/],
    [['login', '--device', '--json', ...credentials()], /^--json goes with --device --no-wait/],
    [['login', '--device', '--poll', '--json'], /^--json goes with --device --no-wait/],
    [['login', '--device', '--poll', '--client-id', 'x', '--scope', 'a'], /^--client-id, --scope differ from what the pending login was started with, and --poll cannot change them/],
    [['login', '--device', '--poll', ...credentials(), '--client-secret', 'another'], /^--client-secret differs from what the pending login was started with/],
    [['login', '--device', '--no-wait', '--timeout', '30', ...credentials()], /^--timeout does not apply to --no-wait, which returns at once/],
    [['login', '--device', '--no-wait', '--no-browser', ...credentials()], /^--no-browser does not apply to --no-wait/],
    [['login', '--device', '--poll', '--no-browser'], /^--no-browser does not apply to --poll/],
  ];
  for (const [args, pattern] of refused) assertExit(await runCommand(args, home.env), 1, pattern);
  assert.equal(yandex.requests.length, requests);
  assert.ok(readConfig(home).pending!.default, 'the pending login is still there');
});

test('a broken pending entry is dropped, not fatal: print still works and --poll says nothing is pending', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const token = yandex.issueToken({ expiresIn: 3600 });
  mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
  const record: TokenRecord = { accessToken: token.access_token, clientId: DEMO_CLIENT.id, obtainedAt: new Date().toISOString() };
  writeFileSync(home.configFile, JSON.stringify({ profiles: { default: record }, deviceIds: {}, pending: { default: { deviceCode: 42 } } }), { mode: 0o600 });
  const print = await runCommand(['print'], home.env);
  assert.equal(print.code, 0, print.stderr);
  assert.equal(print.stdout, `${token.access_token}\n`);
  assertExit(await runCommand(['login', '--device', '--poll'], home.env), 1, /^No device login is pending/);
});

test('--help names --no-wait, --poll, --json and exit code 3', async (t) => {
  const home = makeHome(t);
  const help = await runCommand(['login', '--help'], home.env);
  for (const text of ['--no-wait', '--poll', '--json', 'login --device --no-wait --json', '3  login --device --poll']) {
    assert.ok(help.stdout.includes(text), `login --help mentions ${text}`);
  }
  assert.match((await runCommand(['--help'], home.env)).stdout, /3 {2}login --device --poll: the code has not been entered yet/);
});

test('status shows a pending device login (never its device code): alone it is not-logged-in, exit 4', async (t) => {
  const { home, code, run } = await setUp(t);
  const { deviceCode, expiresAt } = readConfig(home).pending!.default!;
  const human = await run(['status']);
  assert.equal(human.code, 4, human.stderr);
  assert.equal(human.stdout, '');
  const when = expiresAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  assert.ok(
    human.stderr.includes(`a device login is pending: enter ${code.user_code} at ${code.verification_url} before ${when}, then run \`yandex-token login --device --poll\``),
    human.stderr,
  );
  assert.match(human.stderr.trim().split('\n').at(-1) ?? '', /^Not logged in yet: a device login is pending; enter its code, then run `yandex-token login --device --poll`\.$/);

  const json = await run(['status', '--json']);
  assert.equal(json.code, 4, json.stderr);
  const report = JSON.parse(json.stdout) as { profiles: { profile: string; state: string; pendingDeviceLogin: Record<string, unknown> | null }[] };
  assert.equal(report.profiles.length, 1);
  const [entry] = report.profiles;
  assert.equal(entry!.profile, 'default');
  assert.equal(entry!.state, 'not-logged-in');
  assert.deepEqual(Object.keys(entry!.pendingDeviceLogin!).sort(), ['expiresAt', 'expiresInSeconds', 'userCode', 'verificationUrl']);
  assert.equal(entry!.pendingDeviceLogin!.userCode, code.user_code);
  assert.equal(entry!.pendingDeviceLogin!.verificationUrl, code.verification_url);
  assert.equal(entry!.pendingDeviceLogin!.expiresAt, expiresAt);
  assert.ok((entry!.pendingDeviceLogin!.expiresInSeconds as number) > 0);
  for (const run of [human, json]) assert.ok(!`${run.stdout}${run.stderr}`.includes(deviceCode), 'the device code is never shown');

  // Another profile has nothing pending.
  const other = await run(['status', '--json', '--profile', 'other']);
  assert.equal(other.code, 4);
  assert.equal((JSON.parse(other.stdout) as { profiles: { pendingDeviceLogin: unknown }[] }).profiles[0]!.pendingDeviceLogin, null);
});

test('status beside a working token: the token is reported as before and the pending login in its profile too', async (t) => {
  const yandex = await fakeYandex(t, { deviceIntervalSeconds: 1 });
  const home = makeHome(t, yandex);
  const old = yandex.issueToken({ expiresIn: 3600 });
  const working: TokenRecord = { accessToken: old.access_token, clientId: DEMO_CLIENT.id, obtainedAt: new Date().toISOString() };
  mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
  writeFileSync(home.configFile, JSON.stringify({ profiles: { ci: working }, deviceIds: {} }), { mode: 0o600 });
  const started = await runCommand(['login', '--device', '--no-wait', '--json', ...credentials(), '--profile', 'ci'], home.env);
  assert.equal(started.code, 0, started.stderr);
  const code = JSON.parse(started.stdout) as CodeJson;

  const human = await runCommand(['status'], home.env);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stderr, /Profile ci: valid/);
  assert.ok(human.stderr.includes(`a device login is pending: enter ${code.user_code} at ${code.verification_url} before `), human.stderr);
  assert.match(human.stderr, /then run `yandex-token login --device --poll --profile ci`/);

  // Expired by the clock: said so, with how to start again.
  const config = readConfig(home);
  config.pending!.ci!.expiresAt = new Date(Date.now() - 60_000).toISOString();
  writeFileSync(home.configFile, JSON.stringify(config), { mode: 0o600 });
  const expired = await runCommand(['status', '--profile', 'ci'], home.env);
  assert.equal(expired.code, 0, expired.stderr);
  assert.match(expired.stderr, /a device login is pending, but its code expired at .* UTC; start again with `yandex-token login --device --no-wait --profile ci`/);
  const json = JSON.parse((await runCommand(['status', '--json', '--profile', 'ci'], home.env)).stdout) as { profiles: { pendingDeviceLogin: { expiresInSeconds: number } }[] };
  assert.ok(json.profiles[0]!.pendingDeviceLogin.expiresInSeconds < 0);
});

test('a pending login keeps the server its code came from: --poll asks it even when the environment no longer names it', async (t) => {
  const { yandex, home, code, run } = await setUp(t);
  assert.equal(readConfig(home).pending!.default!.oauthUrl, yandex.url);
  assert.ok(yandex.decideDevice(code.user_code, true));
  const { YANDEX_OAUTH_URL: _oauth, YANDEX_LOGIN_URL: _login, ...withoutUrls } = home.env;
  const done = await run(['login', '--device', '--poll'], withoutUrls);
  assert.equal(done.code, 0, done.stderr);
  assert.equal(polls(yandex).length, 1, 'the emulator was polled, not Yandex');
  const record = readConfig(home).profiles.default!;
  assert.equal(record.login, 'demo.user');
  assert.equal(record.oauthUrl, yandex.url);
  assert.equal(record.loginUrl, yandex.url);
});

test('--poll --timeout through an outage: it says so, keeps polling, and logs in when Yandex answers again', async (t) => {
  const { yandex, code, run } = await setUp(t);
  assert.ok(yandex.decideDevice(code.user_code, true));
  yandex.fail('/token', 'server-error', 1);
  const done = await run(['login', '--device', '--poll', '--timeout', '10']);
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stderr, /^Warning: http:\/\/127\.0\.0\.1:\d+ answered HTTP 503 \(a server error\) while waiting for the code to be entered on the Yandex page\. Still trying for up to 10 s \(--timeout\)\.$/m);
  assert.match(done.stderr, /^Yandex can be reached again; still waiting for the code to be entered\.$/m);
  assert.match(done.stderr, /Logged in as demo\.user\./);
  assert.equal(polls(yandex).length, 2);
});

test('--poll with the same --client-id and --client-secret as --no-wait (one CI script, both steps): accepted', async (t) => {
  const { yandex, code, run } = await setUp(t);
  assert.ok(yandex.decideDevice(code.user_code, true));
  const result = await run(['login', '--device', '--poll', ...credentials()]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /Logged in as demo\.user\./);
});
