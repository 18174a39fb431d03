// The logins that need no listener (--device, --no-localhost) and the advice for remote machines, against
// the emulator. Device logins run in-process on a test clock the emulator shares (no real 1 s waits); a
// process only where one shows something more (Ctrl-C, stdin left open).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Emulator, EmulatorOptions, LoggedRequest } from '../src/emulator/index.ts';
import { BIN, credentials, DEMO_CLIENT, fakeYandex, freePort, makeHome, startCli, type Home, type Running } from './support/harness.ts';
import { devicePerson, runCommand, testClock } from './support/in-process.ts';

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Waits (bounded) until the condition holds; the emulator is in this process, so it sees every request. */
async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function polls(yandex: Emulator): LoggedRequest[] {
  return yandex.requests.filter((r) => r.path === '/token' && r.form.grant_type === 'device_code');
}

/** Milliseconds between consecutive polls, as the emulator received them. */
function gaps(yandex: Emulator): number[] {
  const at = polls(yandex).map((r) => r.at);
  return at.slice(1).map((t, i) => t - at[i]!);
}

async function startDeviceLogin(yandex: Emulator, home: Home, extra: string[] = []): Promise<{ running: Running; userCode: string; url: string }> {
  const running = startCli(['login', '--device', ...credentials(), '--no-browser', ...extra], home.env);
  const stderr = await running.waitForStderr(/enter this code:\n\n {2}\S+\n/);
  const userCode = /enter this code:\n\n {2}(\S+)\n/.exec(stderr)![1]!;
  const url = /open (\S+) in a browser/.exec(stderr)![1]!;
  return { running, userCode, url };
}

/** What a person does on the device page: type the code, then Allow or Deny. */
async function enterCodeOnPage(url: string, userCode: string, decision: 'allow' | 'deny'): Promise<string> {
  assert.equal((await fetch(url)).status, 200);
  const consent = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ user_code: userCode }),
  });
  const html = await consent.text();
  assert.equal(consent.status, 200, html);
  const request = /name="request" value="([^"]+)"/.exec(html)![1]!;
  const decided = await fetch(new URL('/device/decision', url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, decision }),
  });
  return decided.text();
}

/**
 * `login --device` in-process, on a test clock the emulator shares (its 1 s interval costs no waiting);
 * `onPoll` is the person, acting before the poll of its choosing goes out.
 */
async function deviceLogin(t: TestContext, options: EmulatorOptions, onPoll: (yandex: Emulator, userCode: string, poll: number) => unknown, extra: string[] = []) {
  const clock = testClock();
  const yandex = await fakeYandex(t, { deviceIntervalSeconds: 1, ...options, now: clock.now });
  const home = makeHome(t, yandex);
  const fetch = devicePerson((userCode, poll) => onPoll(yandex, userCode, poll));
  const result = await runCommand(['login', '--device', ...credentials(), '--no-browser', ...extra], home.env, { clock, fetch });
  return { yandex, home, result };
}

test('--device: the code is entered on the device page and allowed; stored like the loopback login', async (t) => {
  const { yandex, home, result } = await deviceLogin(
    t,
    {},
    async (yandex, userCode, poll) => {
      if (poll === 2) assert.match(await enterCodeOnPage(`${yandex.url}/device`, userCode, 'allow'), /Access allowed/);
    },
    ['--scope', 'cloud_api:disk.read', '--device-name', 'CI box'],
  );

  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, new RegExp(`open ${escape(yandex.url)}/device in a browser`));
  assert.match(result.stderr, new RegExp(`Logged in as demo\\.user\\. Token saved to ${escape(home.configFile)}\\.\\n$`));
  assert.match(result.stderr, /the code expires in 5 min/);
  assert.ok(!result.stderr.includes('\r'), 'no countdown without a terminal');
  assert.ok(!result.stderr.includes(DEMO_CLIENT.secret));

  const asked = yandex.requests.find((r) => r.path === '/device/code')!;
  assert.equal(asked.form.client_id, DEMO_CLIENT.id);
  assert.equal(asked.form.client_secret, undefined, 'Yandex does not want the secret for /device/code');
  assert.match(asked.form.device_id!, /^[\x20-\x7e]{6,50}$/);
  assert.equal(asked.form.device_name, 'CI box');
  assert.equal(asked.form.scope, 'cloud_api:disk.read');

  const all = polls(yandex);
  assert.ok(all.length >= 2, 'at least one authorization_pending before the token');
  for (const poll of all) {
    assert.equal(poll.form.code, all[0]!.form.code, "the device code goes in `code`, Yandex's shape");
    assert.equal(poll.form.client_secret, DEMO_CLIENT.secret);
    assert.equal(poll.form.device_id, asked.form.device_id);
  }
  assert.ok(gaps(yandex).every((gap) => gap >= 1000), `polls no faster than the 1 s interval: ${gaps(yandex)}`);
  assert.equal(yandex.counts.slow_down, undefined, 'the emulator never had to say slow_down');

  const record = JSON.parse(readFileSync(home.configFile, 'utf8')).profiles.default;
  assert.match(record.accessToken, /^y0_emu_/);
  assert.equal(record.login, 'demo.user');
  assert.equal(record.deviceId, asked.form.device_id);
  assert.equal(record.deviceName, 'CI box');
  assert.equal(record.scope, 'cloud_api:disk.read');
  const print = await runCommand(['print'], home.env);
  assert.equal(print.stdout, `${record.accessToken}\n`);
});

test('--device: denied on the page (invalid_grant, as Yandex is known to answer) is exit 1, one sentence, nothing stored', async (t) => {
  const { home, result } = await deviceLogin(t, {}, (yandex, userCode, poll) => {
    if (poll === 2) assert.ok(yandex.decideDevice(userCode, false));
  });
  assert.equal(result.code, 1);
  assert.equal(
    result.stderr.trim().split('\n').at(-1),
    'Yandex answered invalid_grant (The user denied access): the code expired or was declined, and Yandex no longer accepts it. Run `yandex-token login --device` again and enter the new code.',
  );
  assert.ok(!existsSync(home.configFile));
});

test('--device: denied on the page, in RFC 8628\'s words (access_denied), is exit 1, one sentence, nothing stored', async (t) => {
  const { home, result } = await deviceLogin(t, { deviceErrors: 'rfc8628' }, (yandex, userCode, poll) => {
    if (poll === 2) assert.ok(yandex.decideDevice(userCode, false));
  });
  assert.equal(result.code, 1);
  assert.equal(result.stderr.trim().split('\n').at(-1), 'Access was declined on the Yandex page. Nothing was stored; run `yandex-token login --device` again to retry.');
  assert.ok(!existsSync(home.configFile));
});

for (const [deviceErrors, pattern] of [
  ['invalid_grant', /^Yandex answered invalid_grant \(Device code has expired\): the code expired or was declined, and Yandex no longer accepts it\. Run `yandex-token login --device` again/],
  ['rfc8628', /^Yandex answered expired_token \(Device code has expired\): the code expired before access was allowed\. Run `yandex-token login --device` again/],
] as const) {
  test(`--device: a code Yandex reports expired (${deviceErrors}) is exit 1, saying to run again`, async (t) => {
    const { home, result } = await deviceLogin(t, { deviceErrors }, (yandex, _userCode, poll) => {
      if (poll === 2) yandex.expireDeviceCodes();
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr.trim().split('\n').at(-1)!, pattern);
    assert.ok(!existsSync(home.configFile));
  });
}

test('--device: the wait ends when the code expires by expires_in, without polling on', async (t) => {
  const { yandex, home, result } = await deviceLogin(t, { deviceExpiresInSeconds: 3 }, () => undefined);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /the code expires in 3 s/);
  assert.match(result.stderr.trim().split('\n').at(-1)!, /expired.*Run `yandex-token login --device` again and enter the new code\.$/);
  assert.ok(polls(yandex).length <= 3, `at most one poll per second of the code's life: ${polls(yandex).length}`);
  assert.ok(!existsSync(home.configFile));
});

test('--device: after slow_down the interval grows by 5 s and no poll comes faster than asked', async (t) => {
  // The second poll is answered slow_down; the code is allowed before the third.
  const { yandex, result } = await deviceLogin(t, {}, (yandex, userCode, poll) => {
    if (poll === 2) yandex.slowDownNextPoll();
    if (poll === 3) assert.ok(yandex.decideDevice(userCode, true));
  });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /Logged in as demo\.user\./);

  const between = gaps(yandex);
  assert.equal(polls(yandex).length, 3, 'the next poll after slow_down got the token');
  assert.ok(between.at(-1)! >= 6000, `the interval grew to 6 s after slow_down: ${between}`);
  assert.ok(between.every((gap) => gap >= 1000), `no poll faster than 1 s: ${between}`);
  assert.equal(yandex.counts.slow_down, 1, 'the client never polled faster than the grown interval');
});

test('--device: Ctrl-C while waiting is exit 2, nothing stored', async (t) => {
  const yandex = await fakeYandex(t, { deviceIntervalSeconds: 1 });
  const home = makeHome(t, yandex);
  const { running } = await startDeviceLogin(yandex, home);
  running.child.kill('SIGINT');
  const result = await running.done;
  assert.equal(result.code, 2);
  assert.match(result.stderr, /Cancelled\. Nothing was stored\./);
  assert.ok(!existsSync(home.configFile));
});

test('--device with a wrong client id: Yandex\'s error as one sentence', async (t) => {
  const yandex = await fakeYandex(t, { deviceIntervalSeconds: 1 });
  const home = makeHome(t, yandex);
  const result = await runCommand(['login', '--device', '--client-id', 'nope', '--client-secret', 'x'], home.env);
  assert.equal(result.code, 1);
  assert.match(result.stderr.trim(), /^Yandex answered invalid_client \(Client not found\): the client ID or client secret is wrong\./);
});

const conflicts = [
  { args: ['--device', '--no-localhost'], pattern: /Pass either --device or --no-localhost, not both/ },
  { args: ['--device', '--port', '9000'], pattern: /--port is for the loopback listener, which --device does not use/ },
  { args: ['--device', '--redirect-uri', 'http://127.0.0.1:9000/cb'], pattern: /--redirect-uri is for the loopback listener, which --device does not use/ },
  { args: ['--device', '--port', '9000', '--redirect-uri', 'http://127.0.0.1:9000/cb'], pattern: /--port and --redirect-uri are for the loopback listener/ },
  { args: ['--no-localhost', '--port', '9000'], pattern: /--port is for the loopback listener, which --no-localhost does not use/ },
  {
    args: ['--no-localhost', '--redirect-uri', 'http://oauth.yandex.com/verification_code'],
    pattern: /^--redirect-uri with --no-localhost must be the https address of the page that shows the code, exactly as registered in the app \(e\.g\. https:\/\/oauth\.yandex\.com\/verification_code\), not "http:\/\/oauth\.yandex\.com\/verification_code"\.$/m,
  },
  { args: ['--no-localhost', '--redirect-uri', 'oauth.yandex.com/verification_code'], pattern: /--redirect-uri with --no-localhost must be the https address/ },
  { args: ['--no-localhost', '--redirect-uri', 'https://oauth.yandex.com/verification_code#code'], pattern: /--redirect-uri with --no-localhost must be the https address/ },
  { args: ['--device', '--login-hint', 'someone'], pattern: /--login-hint cannot be passed with --device/ },
];

for (const conflict of conflicts) {
  test(`login ${conflict.args.join(' ')} is refused before anything starts`, async (t) => {
    const yandex = await fakeYandex(t);
    const home = makeHome(t, yandex);
    const result = await runCommand(['login', ...conflict.args, ...credentials()], home.env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, conflict.pattern);
    assert.equal(result.stderr.trim().split('\n').length, 1, 'one sentence');
    assert.equal(yandex.requests.length, 0);
  });
}

/** Starts `login --no-localhost` with stdin open, and follows its URL through the consent page. */
async function startPasteLogin(t: TestContext, decision: 'allow' | 'deny' = 'allow') {
  // As a standards-enforcing server: the exchange must repeat the redirect_uri (RFC 6749 §4.1.3).
  const yandex = await fakeYandex(t, { requireRedirectUri: true });
  const home = makeHome(t, yandex);
  const running = startCli(['login', '--no-localhost', ...credentials(), '--no-browser', '--device-name', 'build box'], home.env);
  const stderr = await running.waitForStderr(/Reading the code from stdin/);
  const url = /(http:\/\/\S+\/authorize\S+)/.exec(stderr)![1]!;
  const { visit } = await import('./support/scripted-browser.mjs');
  const page = await visit(url, { decision });
  return { yandex, home, running, url, page };
}

function shownCode(html: string): string {
  return /<code id="code">([^<]+)<\/code>/.exec(html)![1]!;
}

test('--no-localhost: the code from the verification page, piped on stdin, logs in', async (t) => {
  const { yandex, home, running, page } = await startPasteLogin(t);
  assert.equal(page.status, 200);
  running.child.stdin!.end(`${shownCode(page.html)}\n`);
  const result = await running.done;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, new RegExp(`Logged in as demo\\.user\\. Token saved to ${escape(home.configFile)}\\.\\n$`));

  const authorize = yandex.requests.find((r) => r.path === '/authorize')!;
  assert.equal(authorize.query.redirect_uri, `${yandex.url}/verification_code`);
  assert.ok(authorize.query.state!.length >= 22);
  assert.equal(authorize.query.code_challenge_method, 'S256');
  assert.equal(authorize.query.device_name, 'build box');
  const exchange = yandex.requests.find((r) => r.path === '/token')!;
  assert.equal(exchange.form.grant_type, 'authorization_code');
  assert.match(exchange.form.code_verifier!, /^[A-Za-z0-9_-]{43,128}$/);
  assert.equal(exchange.form.device_id, authorize.query.device_id);
  assert.equal(exchange.form.redirect_uri, `${yandex.url}/verification_code`, 'the exchange repeats the redirect_uri');
  assert.doesNotMatch(result.stderr, /The pasted address is on/);
  const record = JSON.parse(readFileSync(home.configFile, 'utf8')).profiles.default;
  assert.equal(record.deviceName, 'build box');
  assert.equal((await runCommand(['print'], home.env)).stdout, `${record.accessToken}\n`);
});

test('--no-localhost: pasting the whole verification_code address works too', async (t) => {
  const { running, page } = await startPasteLogin(t);
  assert.match(page.location!, /\/verification_code\?code=/);
  running.child.stdin!.end(`\n  ${page.location}  \n`);
  const result = await running.done;
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /Logged in as demo\.user\./);
});

test('--no-localhost: an invalid pasted code is Yandex\'s error as one sentence, nothing stored', async (t) => {
  const { home, running } = await startPasteLogin(t);
  running.child.stdin!.end('AAAAAAAAAAAAAAAA\n');
  const result = await running.done;
  assert.equal(result.code, 1);
  const last = result.stderr.trim().split('\n').at(-1)!;
  assert.equal(
    last,
    'Yandex answered invalid_grant (Code has expired): the pasted code is mistyped, expired or already used; run `yandex-token login --no-localhost` again and paste the new code.',
  );
  assert.ok(!existsSync(home.configFile));
});

test('--no-localhost: an address from another login, or a refusal, is named and nothing is exchanged', async (t) => {
  const { yandex, running, page } = await startPasteLogin(t);
  const forged = page.location!.replace(/state=[^&]+/, 'state=someone-else');
  running.child.stdin!.end(`${forged}\n`);
  const result = await running.done;
  assert.equal(result.code, 1);
  assert.match(result.stderr, /The pasted address belongs to another login/);
  assert.equal(yandex.requests.filter((r) => r.path === '/token').length, 0);

  const denied = await startPasteLogin(t, 'deny');
  assert.match(denied.page.location!, /error=access_denied/);
  denied.running.child.stdin!.end(`${denied.page.location}\n`);
  const refused = await denied.running.done;
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /Access was declined in the browser\. Nothing was stored; run `yandex-token login --no-localhost` again/);
});

test('--no-localhost --redirect-uri: the https page the app registered (Yandex\'s English docs\' .com) is asked for and repeated', async (t) => {
  const page = 'https://oauth.yandex.com/verification_code';
  const yandex = await fakeYandex(t, { strictRedirect: true, requireRedirectUri: true, clients: [{ ...DEMO_CLIENT, redirectUris: [page] }] });
  const home = makeHome(t, yandex);
  const running = startCli(['login', '--no-localhost', '--redirect-uri', page, ...credentials(), '--no-browser'], home.env);
  const stderr = await running.waitForStderr(/Reading the code from stdin/);
  assert.ok(stderr.includes(`add ${page} to the app's Redirect URIs.`), stderr);
  const url = /(http:\/\/\S+\/authorize\S+)/.exec(stderr)![1]!;
  assert.equal(new URL(url).searchParams.get('redirect_uri'), page);
  // The person's part, stopping at the redirect: its target is Yandex's real page, never fetched here.
  const consent = await (await fetch(url)).text();
  const request = /name="request" value="([^"]+)"/.exec(consent)![1]!;
  const decided = await fetch(`${yandex.url}/authorize/decision`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, decision: 'allow' }),
    redirect: 'manual',
  });
  const location = decided.headers.get('location')!;
  assert.ok(location.startsWith(`${page}?code=`), location);
  running.child.stdin!.end(`${location}\n`);
  const result = await running.done;
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /The pasted address is on/, 'the page is on the host asked for');
  assert.equal(yandex.requests.find((r) => r.path === '/token')!.form.redirect_uri, page);
});

test('--no-localhost: a pasted page on another host than the one asked for says which to register, then tries the code', async (t) => {
  const { yandex, running, page } = await startPasteLogin(t);
  const elsewhere = new URL(page.location!);
  const asked = `${yandex.url}/verification_code`;
  const pasted = `https://oauth.yandex.com/verification_code${elsewhere.search}`;
  running.child.stdin!.end(`${pasted}\n`);
  const result = await running.done;
  assert.equal(result.code, 0, result.stderr);
  const note = result.stderr.split('\n').filter((line) => line.startsWith('The pasted address is on'));
  assert.deepEqual(note, [
    `The pasted address is on oauth.yandex.com, but this login asked Yandex to redirect to ${asked}: register exactly that in the app, or, if the app has https://oauth.yandex.com/verification_code instead, pass that as --redirect-uri next time. Trying the code anyway.`,
  ]);
  assert.ok(!result.stderr.includes(elsewhere.searchParams.get('code')!), 'the pasted code is not echoed');
  assert.equal(yandex.requests.find((r) => r.path === '/token')!.form.redirect_uri, asked, 'the exchange repeats what was asked for');
});

test('--no-localhost against Yandex names both verification_code pages: .ru is sent, .com is the way to --redirect-uri', async (t) => {
  // Nothing is sent anywhere: stdin ends before a code, so the login stops after printing its advice.
  const home = makeHome(t, undefined, { YANDEX_OAUTH_URL: 'https://oauth.yandex.ru' });
  const result = await runCommand(['login', '--no-localhost', ...credentials(), '--no-browser'], home.env, { input: '\n' });
  assert.equal(result.code, 1);
  assert.ok(
    result.stderr.includes(
      'If Yandex says the redirect URI does not match, add https://oauth.yandex.ru/verification_code to the app\'s Redirect URIs (apps created "for API access" have it already), or, if the app has https://oauth.yandex.com/verification_code instead, pass --redirect-uri https://oauth.yandex.com/verification_code.',
    ),
    result.stderr,
  );
});

test('--no-localhost: stdin that ends without a line is exit 1 naming what to pass', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const result = await runCommand(['login', '--no-localhost', ...credentials(), '--no-browser'], home.env, { input: '\n\n' });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /Code from the Yandex page is needed, and stdin had no line to read\. Pass the code .* as one line on stdin, or run on a terminal\./);
});

test('--no-localhost: the wait for the code is bounded by --timeout', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const running = startCli(['login', '--no-localhost', ...credentials(), '--no-browser', '--timeout', '1'], home.env);
  const result = await running.done;
  assert.equal(result.code, 1);
  assert.match(result.stderr, /No code was pasted within 1 s\. Nothing was stored; run `yandex-token login --no-localhost` again\./);
});

test('over SSH the loopback login says in one line before waiting what fits; the rest comes with the hint', async (t) => {
  const yandex = await fakeYandex(t);
  const port = await freePort();
  // On a test clock the hint's 30 s and the timeout's 60 s pass at once, in that order.
  const ssh = makeHome(t, yandex, { SSH_CONNECTION: '10.0.0.2 50000 10.0.0.1 22', DISPLAY: ':0' });
  const overSsh = await runCommand(['login', ...credentials(), '--port', String(port), '--no-browser', '--timeout', '60'], ssh.env, { clock: testClock() });
  const before = overSsh.stderr.slice(0, overSsh.stderr.indexOf('Waiting up to'));
  const after = overSsh.stderr.slice(overSsh.stderr.indexOf('Waiting up to'));
  assert.match(before, /This is an SSH session/);
  assert.ok(before.includes(`ssh -N -L ${port}:127.0.0.1:${port} <this host>`), before);
  assert.match(before, /yandex-token login --device/);
  assert.doesNotMatch(before, /no-localhost|redirect URI does not match/);
  assert.ok(after.includes(`yandex-token login --no-localhost\`: paste back the code Yandex shows; the app needs ${yandex.url}/verification_code`), after);
  assert.match(after, /If Yandex says the redirect URI does not match.*"Unknown client", the client ID is wrong/);

  const headless = makeHome(t, yandex);
  const noDisplay = await runCommand(['login', ...credentials(), '--port', String(port), '--no-browser', '--timeout', '60'], headless.env, { clock: testClock() });
  assert.match(noDisplay.stderr, /There is no display here/);
  assert.doesNotMatch(noDisplay.stderr, /ssh -N -L/);
  assert.match(noDisplay.stderr, /login --device`: type a code at Yandex on any device/);

  const desktop = makeHome(t, yandex, { DISPLAY: ':0' });
  const local = await runCommand(['login', ...credentials(), '--port', String(port), '--no-browser', '--timeout', '1'], desktop.env);
  assert.doesNotMatch(local.stderr, /SSH session|no display/);
});

/** The lines login prints before "Waiting up to". */
function linesBeforeWaiting(stderr: string): string[] {
  return stderr.slice(0, stderr.indexOf('Waiting up to')).split('\n').slice(0, -1);
}

test('headless login: the URL and one line of advice before "Waiting"; none when BROWSER works; nothing about a browser with BROWSER=none', async (t) => {
  const yandex = await fakeYandex(t);
  const port = await freePort();
  const login = ['login', ...credentials(), '--port', String(port), '--timeout', '1'];
  // No display, no BROWSER: the URL, and the one line that says what fits.
  const bare = await runCommand(login, makeHome(t, yandex, { BROWSER: '' }).env, { openBrowser: async () => false });
  const bareLines = linesBeforeWaiting(bare.stderr);
  assert.deepEqual(bareLines.filter((line) => line.trim() !== '' && !line.includes('/authorize?')), [
    'Open this URL in a browser to log in to Yandex:',
    'Could not start a browser; open the URL above yourself.',
    'There is no display here (DISPLAY and WAYLAND_DISPLAY are unset): open the URL in a browser on this machine, or press Ctrl-C and run `yandex-token login --device`.',
  ]);
  assert.ok(bareLines.length <= 6, bareLines.join('\n'));
  // BROWSER names a browser that starts (here `true`): it runs on this machine, so no advice at all.
  const withBrowser = await runCommand(login, makeHome(t, yandex, { BROWSER: 'true' }).env);
  assert.deepEqual(linesBeforeWaiting(withBrowser.stderr).filter((line) => line.trim() !== '' && !line.includes('/authorize?')), ['Open this URL in a browser to log in to Yandex:']);
  // BROWSER=none asks for no browser: no "Could not start a browser".
  const none = await runCommand(login, makeHome(t, yandex, { BROWSER: 'none' }).env);
  assert.doesNotMatch(none.stderr, /Could not start a browser/);
  assert.match(none.stderr, /There is no display here/);
  assert.doesNotMatch(none.stderr, /redirect URI does not match/, 'the long advice waits for the hint');
});

test('login --demo says only what applies: no "log in to Yandex", no redirect-URI advice', async (t) => {
  // No display and no BROWSER: the demo plays the browser itself.
  const home = makeHome(t, undefined, { BROWSER: '' });
  const demo = await runCommand(['login', '--demo', '--port', String(await freePort())], home.env);
  assert.equal(demo.code, 0, demo.stderr);
  assert.match(demo.stderr, /Open this URL in a browser to log in to the emulator:/);
  assert.doesNotMatch(demo.stderr, /log in to Yandex|redirect URI does not match|Redirect URI|Could not start a browser|No browser here/);
});

test('--help describes --device and --no-localhost and the Redirect URI the latter needs', async (t) => {
  const help = await runCommand(['login', '--help'], makeHome(t).env);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--device /);
  assert.match(help.stdout, /--no-localhost /);
  assert.match(help.stdout, /https:\/\/oauth\.yandex\.ru\/verification_code/);
  assert.match(help.stdout, /ssh -N -L 8765:127\.0\.0\.1:8765/);
});

// On a terminal: a countdown on stderr, the pasted code from a prompt. `script` gives the CLI a pty.
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs a shell command on a pseudo-terminal; screen() is everything drawn so far. */
function onTerminal(t: TestContext, command: string, home: Home) {
  const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...home.env, TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let drawn = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (drawn += d));
  const done = new Promise<number | null>((resolve) => child.on('close', resolve));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  t.after(() => {
    clearTimeout(killer);
    child.kill('SIGKILL');
  });
  return { child, screen: () => drawn, done };
}

test('--device on a terminal draws a countdown on stderr and keeps stdout empty', { skip: !hasScript && 'no `script` to make a pty' }, async (t) => {
  const yandex = await fakeYandex(t, { deviceIntervalSeconds: 1 });
  const home = makeHome(t, yandex);
  const stdoutFile = join(home.dir, 'stdout.txt');
  const command = [process.execPath, BIN, 'login', '--device', ...credentials(), '--no-browser'].map(quote).join(' ');
  const { child, screen, done } = onTerminal(t, `exec ${command} > ${quote(stdoutFile)}`, home);
  await until(() => /left/.test(screen()), 'the countdown');
  const userCode = /enter this code:\r?\n\r?\n {2}(?:\x1b\[1m)?([a-z]+)/.exec(screen())![1]!;
  assert.ok(yandex.decideDevice(userCode, true));
  assert.equal(await done, 0, screen());
  assert.match(screen(), /\r[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for the code to be entered… \d:\d\d left/);
  assert.match(screen(), /left(\x1b\[K)?\r\x1b\[KLogged in as/, 'the countdown is erased (to the end of the line) before the last line');
  assert.equal(readFileSync(stdoutFile, 'utf8'), '');
  child.kill('SIGKILL');
});

test('--no-localhost on a terminal asks for the code with a prompt', { skip: !hasScript && 'no `script` to make a pty' }, async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const command = [process.execPath, BIN, 'login', '--no-localhost', ...credentials(), '--no-browser'].map(quote).join(' ');
  const { child, screen, done } = onTerminal(t, `exec ${command}`, home);
  await until(() => /Code from the Yandex page/.test(screen()), 'the prompt');
  assert.doesNotMatch(screen(), /Reading the code from stdin/);
  const url = /(http:\/\/\S+\/authorize\S+)/.exec(screen())![1]!;
  const { visit } = await import('./support/scripted-browser.mjs');
  const page = await visit(url);
  child.stdin!.write(`${shownCode(page.html)}\r`);
  assert.equal(await done, 0, screen());
  assert.match(screen(), /Logged in as/);
});
