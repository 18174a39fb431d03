// `login --with-token`: each form of a token one already has (bare, the verification_code page's address,
// a token endpoint's JSON) stored as /info confirmed it, and every refusal leaving the config file as it
// was. In-process against the emulator; the token is never echoed.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { loginWithToken, NotLoggedInError } from 'yandex-token';
import type { Question } from '../src/ask.ts';
import { browseConsent } from '../src/emulator/person.ts';
import { readGivenToken } from '../src/login/token-flow.ts';
import type { TokenRecord } from '../src/token/record.ts';
import { DEMO_CLIENT, fakeYandex, makeHome, writeConfig, type Home } from './support/harness.ts';
import { Terminal, requireProgram } from './support/e2e.ts';
import { runCommand, testClock } from './support/in-process.ts';

function stored(home: Home): Record<string, TokenRecord> {
  return (JSON.parse(readFileSync(home.configFile, 'utf8')) as { profiles: Record<string, TokenRecord> }).profiles;
}

/** Seconds from now to an ISO time. */
function secondsUntil(iso: string | undefined): number {
  return (Date.parse(iso ?? '') - Date.now()) / 1000;
}

/** A home that already holds another profile's login, so that "nothing stored" can be checked byte for byte. */
async function setUp(t: TestContext) {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const other = yandex.issueToken({});
  writeConfig(home, {
    other: { accessToken: other.access_token, refreshToken: other.refresh_token, clientId: DEMO_CLIENT.id, clientSecret: DEMO_CLIENT.secret, obtainedAt: new Date().toISOString() },
  });
  return { yandex, home, before: readFileSync(home.configFile) };
}

test('a bare token: checked once at /info, stored with its login and app, no refresh token and no expiry', async (t) => {
  const { yandex, home } = await setUp(t);
  const { access_token } = yandex.issueToken({ scope: 'cloud_api:disk.read' });
  const infoBefore = yandex.counts.info ?? 0;

  const result = await runCommand(['login', '--with-token', '--profile', 'work'], home.env, { input: `${access_token}\n` });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '');
  assert.ok(!result.stderr.includes(access_token), 'the token is never echoed');
  assert.match(result.stderr, /Yandex's \/info does not say when the token \(profile "work"\) expires/);
  assert.match(result.stderr, /Logged in as demo\.user\. Token saved to/);
  assert.equal((yandex.counts.info ?? 0) - infoBefore, 1, 'one check at /info');

  const record = stored(home).work!;
  assert.equal(record.accessToken, access_token);
  assert.equal(record.login, 'demo.user');
  assert.equal(record.clientId, DEMO_CLIENT.id, "the app is /info's client_id");
  assert.equal(record.refreshToken, undefined);
  assert.equal(record.clientSecret, undefined);
  assert.equal(record.expiresAt, undefined);
  assert.equal(record.oauthUrl, yandex.url, 'the server it was checked at is kept, as for any login');
  assert.ok(stored(home).other, 'the other profile is kept');

  const printed = await runCommand(['print', '--profile', 'work'], home.env);
  assert.equal(printed.stdout, `${access_token}\n`);
});

test('the whole verification_code address from the implicit flow: stored with its expiry; status says it will not be renewed', async (t) => {
  const { yandex, home } = await setUp(t);
  const page = await browseConsent(`${yandex.url}/authorize?response_type=token&client_id=${DEMO_CLIENT.id}`);
  assert.match(page.location ?? '', /\/verification_code#access_token=/);
  const token = new URLSearchParams(new URL(page.location!).hash.slice(1)).get('access_token')!;

  const result = await runCommand(['login', '--with-token'], home.env, { input: page.location });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!result.stderr.includes(token));
  assert.match(result.stderr, /The token expires .* \(in 36[45] days\) and will not be renewed/);
  const record = stored(home).default!;
  assert.equal(record.accessToken, token);
  assert.equal(record.refreshToken, undefined);
  assert.ok(Math.abs(secondsUntil(record.expiresAt) - 31_536_000) < 600, `a year from now: ${record.expiresAt}`);

  const status = await runCommand(['status'], home.env);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stderr, /Profile default: valid/);
  assert.match(status.stderr, /Expires +\d{4}-\d\d-\d\d .*\(in 36[45] days\)/);
  assert.match(status.stderr, /Renewal +not possible: no refresh token/);
  const json = JSON.parse((await runCommand(['status', '--json'], home.env)).stdout) as { profiles: { profile: string; refreshable: boolean; expiresAt: string; clientId: string }[] };
  const entry = json.profiles.find((p) => p.profile === 'default')!;
  assert.equal(entry.refreshable, false);
  assert.equal(entry.expiresAt, record.expiresAt);
  assert.equal(entry.clientId, DEMO_CLIENT.id);
  const gate = await runCommand(['status', '--expires-within', '400d'], home.env);
  assert.equal(gate.code, 5, 'the expiry gate knows it will not be renewed');

  // Every way out it names is the way it came in: another token given to --with-token, not an app's login.
  assert.equal(record.imported, true);
  const again = /Run `yandex-token login --with-token` again with a new token/;
  const soon = await runCommand(['print'], home.env, { clock: testClock({ start: Date.parse(record.expiresAt!) - 7 * 86_400_000 }) });
  assert.equal(soon.code, 0, soon.stderr);
  assert.match(soon.stderr, /expires .* and will not be renewed \(no refresh token is stored\)\. Run `yandex-token login --with-token` again with a new token before then\./);
  const refresh = await runCommand(['refresh'], home.env);
  assert.equal(refresh.code, 4);
  assert.match(refresh.stderr, again);
  const expired = await runCommand(['status'], home.env, { clock: testClock({ start: Date.parse(record.expiresAt!) + 1000 }) });
  assert.equal(expired.code, 4);
  assert.match(expired.stderr, again);
});

test("a token endpoint's JSON, over several lines: its expiry and scope kept, its refresh token not", async (t) => {
  const { yandex, home } = await setUp(t);
  const issued = yandex.issueToken({ scope: 'cloud_api:disk.read', expiresIn: 3600 });
  const json = JSON.stringify({ ...issued, token_type: 'bearer', scope: 'cloud_api:disk.read' }, null, 2);

  const result = await runCommand(['login', '--with-token', '--profile', 'json'], home.env, { input: json });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!result.stderr.includes(issued.access_token) && !result.stderr.includes(issued.refresh_token));
  assert.match(result.stderr, /The refresh token in the JSON was not kept/);
  const record = stored(home).json!;
  assert.equal(record.accessToken, issued.access_token);
  assert.equal(record.refreshToken, undefined);
  assert.equal(record.tokenType, 'bearer');
  assert.equal(record.scope, 'cloud_api:disk.read');
  assert.ok(Math.abs(secondsUntil(record.expiresAt) - 3600) < 600);
});

test('Yandex answering 401: exit 4, the file byte for byte, the token not echoed', async (t) => {
  const { yandex, home, before } = await setUp(t);
  const revoked = yandex.issueToken({}).access_token;
  yandex.revokeAll();
  for (const token of ['y0_never-issued-by-this-server', revoked]) {
    const result = await runCommand(['login', '--with-token', '--profile', 'other'], home.env, { input: token });
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /Yandex rejected the token \(HTTP 401\).*Nothing was stored; get a new token and run `yandex-token login --with-token --profile other` again/);
    assert.ok(!result.stderr.includes(token));
    assert.deepEqual(readFileSync(home.configFile), before);
  }
});

test('Yandex rejecting the token with no config file yet creates none', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const result = await runCommand(['login', '--with-token'], home.env, { input: 'y0_unknown' });
  assert.equal(result.code, 4, result.stderr);
  assert.equal(existsSync(home.configFile), false);
});

test('/info unreachable or not JSON: exit 1, nothing stored', async (t) => {
  const { yandex, home, before } = await setUp(t);
  const { access_token } = yandex.issueToken({});
  for (const mode of ['server-error', 'html'] as const) {
    yandex.fail('/info', mode, 1);
    const result = await runCommand(['login', '--with-token'], home.env, { input: access_token });
    assert.equal(result.code, 1, result.stderr);
    assert.ok(!result.stderr.includes(access_token));
    assert.deepEqual(readFileSync(home.configFile), before);
  }
});

test('what is not a token is refused before Yandex is asked, without echoing it, and the file is kept', async (t) => {
  const { yandex, home, before } = await setUp(t);
  const secret = 'y0_secretpart';
  const cases: [string, RegExp][] = [
    ['', /is needed, and stdin was empty/],
    [`${secret} with spaces`, /is not a token/],
    [`${secret}\n${secret}2`, /is not a token/],
    [`${secret}\x1b[31m`, /is not a token/],
    ['{"access_token": ', /not a JSON object/],
    [`{"refresh_token": "${secret}"}`, /The JSON given has no access_token/],
    [`{"access_token": "${secret} x"}`, /The JSON given: its access_token is not a token/],
    ['{"error": "invalid_grant"}', /error answer \(invalid_grant\)/],
    ['https://oauth.yandex.ru/verification_code#error=access_denied', /access was declined/],
    ['https://oauth.yandex.ru/verification_code#error=unauthorized_client&state=x', /Yandex's error unauthorized_client/],
    ['https://oauth.yandex.ru/verification_code?code=1234567&state=x', /confirmation code \(response_type=code\), not a token.*login --no-localhost/],
    [`https://oauth.yandex.ru/verification_code#access_token=${secret}%0Ax&expires_in=1`, /The address given: its access_token is not a token/],
    ['https://oauth.yandex.ru/verification_code', /The address given has no access_token/],
  ];
  const infoBefore = yandex.counts.info ?? 0;
  for (const [input, message] of cases) {
    const result = await runCommand(['login', '--with-token'], home.env, { input });
    assert.equal(result.code, 1, `${JSON.stringify(input)}: ${result.stderr}`);
    assert.match(result.stderr, message, JSON.stringify(input));
    assert.ok(!result.stderr.includes('secretpart'), `never echoed: ${result.stderr}`);
    assert.deepEqual(readFileSync(home.configFile), before);
  }
  assert.equal((yandex.counts.info ?? 0) - infoBefore, 0, 'nothing was sent to Yandex');
});

test('over 64 KiB on stdin is refused', async (t) => {
  const { home, before } = await setUp(t);
  const result = await runCommand(['login', '--with-token'], home.env, { input: 'x'.repeat(70 * 1024) });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /over 64 KiB/);
  assert.deepEqual(readFileSync(home.configFile), before);
});

test('the token as `OAuth <token>` or a whole Authorization header, as print --header writes it', async (t) => {
  const { yandex, home } = await setUp(t);
  for (const form of ['OAuth %s', 'Authorization: Bearer %s']) {
    const { access_token } = yandex.issueToken({});
    const result = await runCommand(['login', '--with-token', '--profile', 'header'], home.env, { input: `${form.replace('%s', access_token)}\n` });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(stored(home).header!.accessToken, access_token);
  }
});

test('on a terminal the token is asked with a hidden prompt', async (t) => {
  const { yandex, home } = await setUp(t);
  const { access_token } = yandex.issueToken({});
  const asked: Question[] = [];
  const ask = async (question: Question) => (asked.push(question), access_token);
  const result = await runCommand(['login', '--with-token'], home.env, { ask });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(asked.length, 1);
  assert.equal(asked[0]!.secret, true, 'hidden');
  assert.equal(asked[0]!.wholeStdin, true, 'without a terminal, all of stdin');
  assert.equal(stored(home).default!.accessToken, access_token);
});

test('in a real terminal (tmux) the prompt hides the token as it is typed, and stores it', { timeout: 60_000 }, async (t) => {
  if (!requireProgram(t, '/usr/bin/tmux', 'apt-get install tmux')) return;
  const { yandex, home } = await setUp(t);
  const { access_token } = yandex.issueToken({});
  const terminal = Terminal.start(t, ['login', '--with-token', '--profile', 'typed'], home.env);
  await terminal.waitFor(/Token, or the address of the page that shows it \(hidden\)/);
  terminal.type(access_token);
  // Give the terminal every chance to echo it before looking: nothing may appear, not even one * per key.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.ok(!terminal.screen().includes(access_token.slice(0, 12)), `the token is on the screen:\n${terminal.screen()}`);
  terminal.press('Enter');
  const done = await terminal.waitFor(/Logged in as demo\.user\. Token saved to /);
  assert.equal(await terminal.exitCode(), 0);
  assert.ok(!done.includes(access_token.slice(0, 12)));
  assert.equal(terminal.stdout(), '');
  assert.equal(stored(home).typed!.accessToken, access_token);
});

test('flags about getting a token from Yandex are refused with --with-token, before anything is read', async (t) => {
  const { home, before } = await setUp(t);
  const cases: [string[], RegExp][] = [
    [['--device'], /^--device is for getting a token from Yandex.*drop it, or drop --with-token/],
    [['--client-id', 'x', '--client-secret', 'y'], /^--client-id and --client-secret are for getting a token/],
    [['--port', '9000'], /^--port is/],
    [['--scope', 'a'], /^--scope is/],
    [['--no-localhost'], /^--no-localhost is/],
    [['--demo'], /^--demo is/],
    [['--no-browser'], /^--no-browser is/],
  ];
  for (const [flags, message] of cases) {
    const result = await runCommand(['login', '--with-token', ...flags], home.env, { input: 'y0_whatever' });
    assert.equal(result.code, 1, flags.join(' '));
    assert.match(result.stderr, message, flags.join(' '));
  }
  assert.deepEqual(readFileSync(home.configFile), before);
});

test('logout of a --with-token login: cannot revoke without the secret, says so, forgets it', async (t) => {
  const { yandex, home } = await setUp(t);
  const { access_token } = yandex.issueToken({});
  assert.equal((await runCommand(['login', '--with-token', '--profile', 'given'], home.env, { input: access_token })).code, 0);
  const result = await runCommand(['logout', '--profile', 'given'], home.env);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /No client secret is stored, so the token could not be revoked at Yandex/);
  assert.equal(stored(home).given, undefined);
  assert.ok(stored(home).other);
});

test('readGivenToken: the forms, read without I/O', () => {
  assert.deepEqual(readGivenToken('  y0_abc \n').token, { access_token: 'y0_abc' });
  const fromPage = readGivenToken('https://oauth.yandex.com/verification_code#access_token=y0_abc&token_type=bearer&expires_in=31536000&cid=x').token;
  assert.equal(fromPage.access_token, 'y0_abc');
  assert.equal(fromPage.expires_in, 31_536_000);
  assert.equal(readGivenToken('access_token=y0_abc&expires_in=60').token.expires_in, 60, 'the fragment alone');
  assert.equal(readGivenToken('https://oauth.yandex.ru/verification_code#access_token=y0_abc&expires_in=-5').token.expires_in, undefined, 'a nonsense expiry is not said');
  const fromJson = readGivenToken('{"access_token":"y0_abc","expires_in":"3600","refresh_token":"1:x:y"}');
  assert.equal(fromJson.token.expires_in, 3600);
  assert.equal(fromJson.token.refresh_token, undefined);
  assert.equal(fromJson.droppedRefreshToken, true);
});

test('the Node API: loginWithToken stores what /info confirmed, and a rejected token stores nothing', async (t) => {
  const { yandex, home, before } = await setUp(t);
  const lines: string[] = [];
  const rejected = loginWithToken({ env: home.env, profile: 'other', token: 'y0_unknown', onMessage: (line) => lines.push(line) });
  await assert.rejects(rejected, (error: unknown) => error instanceof NotLoggedInError && error.exitCode === 4);
  assert.deepEqual(readFileSync(home.configFile), before);

  const { access_token, expires_in } = yandex.issueToken({});
  const address = `${yandex.url}/verification_code#access_token=${access_token}&token_type=bearer&expires_in=${expires_in}`;
  const credentials = await loginWithToken({ env: home.env, profile: 'api', token: address, onMessage: (line) => lines.push(line) });
  assert.equal(credentials.profile, 'api');
  assert.equal(credentials.accessToken, access_token);
  assert.equal(credentials.login, 'demo.user');
  assert.equal(credentials.refreshToken, undefined);
  const { profile: _profile, ...record } = credentials;
  assert.deepEqual(stored(home).api, record, 'what is returned is what is stored');
  assert.ok(record.expiresAt, 'with its expiry, from the address');
  assert.ok(lines.some((line) => line.startsWith('Logged in as demo.user.')));
  assert.ok(!lines.join('\n').includes(access_token));
});
