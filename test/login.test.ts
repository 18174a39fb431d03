// Black-box runs of the built CLI: login against the emulator with the scripted browser, then print.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { browserEnv, browserPage, credentials, DEMO_CLIENT, fakeYandex, freePort, makeHome, startCli } from './support/harness.ts';
import { runCommand } from './support/in-process.ts';

test('login by flags stores a token that print then writes, and nothing else', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const port = await freePort();
  const login = await runCommand(['login', ...credentials(), '--port', String(port)], browserEnv(home));
  assert.equal(login.code, 0, login.stderr);
  assert.equal(login.stdout, '', 'login writes nothing to stdout');
  assert.match(login.stderr, new RegExp(`Logged in as demo\\.user\\. Token saved to ${home.configFile.replace(/[.]/g, '\\.')}\\.\\n$`));
  assert.ok(!login.stderr.includes(DEMO_CLIENT.secret), 'the client secret is never printed');

  const stored = JSON.parse(readFileSync(home.configFile, 'utf8'));
  const record = stored.profiles.default;
  assert.match(record.accessToken, /^y0_emu_/);
  assert.ok(!login.stderr.includes(record.accessToken), 'the token is not printed by login');
  assert.equal(record.login, 'demo.user');
  assert.equal(record.clientId, DEMO_CLIENT.id);
  assert.ok(record.refreshToken);
  assert.ok(Date.parse(record.expiresAt) > Date.now() + 300 * 24 * 3600 * 1000);
  assert.equal(statSync(home.configFile).mode & 0o777, 0o600);
  assert.equal(statSync(home.configDir).mode & 0o777, 0o700);

  const print = await runCommand(['print'], home.env);
  assert.equal(print.code, 0);
  assert.equal(print.stdout, `${record.accessToken}\n`);
  assert.equal(print.stderr, '');

  const page = await browserPage(home);
  assert.equal(page.status, 200);
  assert.match(page.html, /Logged in/);
  assert.match(page.html, /close this tab/);
  assert.ok(!page.html.includes(record.accessToken), 'the callback page never shows the token');
});

test('login by environment variables works the same', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const port = await freePort();
  const env = { ...browserEnv(home), YANDEX_CLIENT_ID: DEMO_CLIENT.id, YANDEX_CLIENT_SECRET: DEMO_CLIENT.secret };
  const login = await runCommand(['login', '--port', String(port)], env);
  assert.equal(login.code, 0, login.stderr);
  const print = await runCommand(['print'], home.env);
  assert.match(print.stdout, /^y0_emu_\S+\n$/);
});

test('the authorize and token requests carry state, PKCE, device and the requested options', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const port = await freePort();
  const args = ['login', ...credentials(), '--port', String(port), '--scope', 'cloud_api:disk.read cloud_api:disk.info', '--optional-scope', 'login:email', '--login-hint', 'someone', '--force-confirm', '--device-name', 'CI box'];
  const login = await runCommand(args, browserEnv(home));
  assert.equal(login.code, 0, login.stderr);
  const authorize = yandex.requests.find((r) => r.path === '/authorize')!;
  assert.equal(authorize.query.response_type, 'code');
  assert.equal(authorize.query.redirect_uri, `http://127.0.0.1:${port}/callback`);
  assert.ok(authorize.query.state!.length >= 22, 'state carries at least 128 bits');
  assert.equal(authorize.query.code_challenge_method, 'S256');
  assert.match(authorize.query.code_challenge!, /^[A-Za-z0-9_-]{43}$/);
  assert.match(authorize.query.device_id!, /^[\x20-\x7e]{6,50}$/);
  assert.equal(authorize.query.device_name, 'CI box');
  assert.equal(authorize.query.scope, 'cloud_api:disk.read cloud_api:disk.info');
  assert.equal(authorize.query.optional_scope, 'login:email');
  assert.equal(authorize.query.login_hint, 'someone');
  assert.equal(authorize.query.force_confirm, 'yes');
  const exchange = yandex.requests.find((r) => r.path === '/token')!;
  assert.equal(exchange.form.grant_type, 'authorization_code');
  assert.match(exchange.form.code_verifier!, /^[A-Za-z0-9_-]{43,128}$/);
  assert.equal(exchange.form.client_secret, DEMO_CLIENT.secret);
  const info = yandex.requests.find((r) => r.path === '/info')!;
  assert.match(info.authorization!, /^OAuth y0_emu_/);

  // The device id is kept per profile: a second login sends the same one.
  const again = await runCommand(['login', ...credentials(), '--port', String(port)], browserEnv(home));
  assert.equal(again.code, 0, again.stderr);
  const second = yandex.requests.filter((r) => r.path === '/authorize')[1]!;
  assert.equal(second.query.device_id, authorize.query.device_id);
  assert.notEqual(second.query.state, authorize.query.state);
});

test('the code exchange repeats the redirect_uri, so a server that enforces RFC 6749 §4.1.3 accepts it', async (t) => {
  const yandex = await fakeYandex(t, { requireRedirectUri: true });
  const home = makeHome(t, yandex);
  const port = await freePort();
  const login = await runCommand(['login', ...credentials(), '--port', String(port)], browserEnv(home));
  assert.equal(login.code, 0, login.stderr);
  const authorize = yandex.requests.find((r) => r.path === '/authorize')!;
  const exchange = yandex.requests.find((r) => r.path === '/token')!;
  assert.equal(exchange.form.redirect_uri, authorize.query.redirect_uri);
  assert.equal(exchange.form.redirect_uri, `http://127.0.0.1:${port}/callback`);
});

for (const codeFormat of ['16-alphanumeric', '7-digit'] as const) {
  test(`a ${codeFormat} authorization code logs in alike: the code is opaque to the CLI`, async (t) => {
    const yandex = await fakeYandex(t, { codeFormat });
    const home = makeHome(t, yandex);
    const login = await runCommand(['login', ...credentials(), '--port', String(await freePort())], browserEnv(home));
    assert.equal(login.code, 0, login.stderr);
    const code = yandex.requests.find((r) => r.path === '/token')!.form.code!;
    assert.match(code, codeFormat === '7-digit' ? /^\d{7}$/ : /^[A-Za-z0-9]{16}$/);
  });
}

test('a registered --redirect-uri on localhost with path / is used exactly', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const port = await freePort();
  const uri = `http://localhost:${port}/`;
  const login = await runCommand(['login', ...credentials(), '--redirect-uri', uri], browserEnv(home));
  assert.equal(login.code, 0, login.stderr);
  assert.equal(yandex.requests.find((r) => r.path === '/authorize')!.query.redirect_uri, uri);
  assert.equal(yandex.requests.find((r) => r.path === '/token')!.form.redirect_uri, uri, 'the exchange repeats it exactly');
});

test('a non-loopback --redirect-uri is refused before anything starts', async (t) => {
  const home = makeHome(t);
  const result = await runCommand(['login', ...credentials(), '--redirect-uri', 'https://example.com/cb'], home.env);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /--redirect-uri must be http:\/\/ on 127\.0\.0\.1, localhost or \[::1\]/);
});

test('Deny in the browser: exit 1, a plain sentence, nothing stored', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const port = await freePort();
  const login = await runCommand(['login', ...credentials(), '--port', String(port)], browserEnv(home, 'deny'));
  assert.equal(login.code, 1);
  assert.match(login.stderr, /Access was declined in the browser\. Nothing was stored/);
  assert.ok(!existsSync(home.configFile));
  const page = await browserPage(home);
  assert.match(page.html, /Login declined/);
});

test('a busy port fails at once, naming the port and --port', async (t) => {
  const home = makeHome(t, await fakeYandex(t));
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const result = await runCommand(['login', ...credentials(), '--port', String(port)], home.env);
  assert.equal(result.code, 1);
  assert.match(result.stderr, new RegExp(`Port ${port} is in use .*Free it or pass --port`));
  assert.ok(!result.stderr.includes('    at '), 'no stack trace');
});

test('without a terminal and without credentials, login fails at once naming the flag and the variable', async (t) => {
  const home = makeHome(t, await fakeYandex(t));
  const noId = await runCommand(['login'], home.env);
  assert.equal(noId.code, 1);
  assert.match(noId.stderr, /--client-id or set YANDEX_CLIENT_ID/);
  const noSecret = await runCommand(['login', '--client-id', 'x'], home.env);
  assert.equal(noSecret.code, 1);
  assert.match(noSecret.stderr, /--client-secret or set YANDEX_CLIENT_SECRET/);
  // The error names what is missing, not the prompt's label.
  assert.match(noSecret.stderr, /^Client secret is needed, and there is no terminal to ask on\./m);
  assert.doesNotMatch(noSecret.stderr, /\(hidden\)/);
});

test('forged state and stray paths are answered and ignored; the real callback still completes', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const port = await freePort();
  const running = startCli(['login', ...credentials(), '--port', String(port), '--no-browser'], home.env);
  const stderr = await running.waitForStderr(/Waiting up to/);
  const url = /(http:\/\/\S+\/authorize\S+)/.exec(stderr)![1]!;

  const base = `http://127.0.0.1:${port}`;
  assert.equal((await fetch(`${base}/favicon.ico`)).status, 404);
  assert.equal((await fetch(`${base}/callback?code=1&state=forged`)).status, 400);
  assert.equal((await fetch(`${base}/callback?code=1`)).status, 400);
  assert.equal((await fetch(`${base}/callback`, { method: 'POST' })).status, 405);

  const { visit } = await import('./support/scripted-browser.mjs');
  const page = await visit(url);
  assert.equal(page.status, 200);
  const result = await running.done;
  assert.equal(result.code, 0, result.stderr);
  // The listener is gone once the login is done.
  await assert.rejects(fetch(`${base}/callback`));
});

test('the wait is bounded by --timeout', async (t) => {
  const home = makeHome(t, await fakeYandex(t));
  const port = await freePort();
  const result = await runCommand(['login', ...credentials(), '--port', String(port), '--timeout', '1', '--no-browser'], home.env);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /No answer from the browser within 1 s/);
  assert.ok(!existsSync(home.configFile));
});

for (const [signal, code] of [['SIGINT', 2], ['SIGTERM', 143]] as const) {
  test(`${signal} during the wait exits ${code}, stores nothing and releases the port`, async (t) => {
    const home = makeHome(t, await fakeYandex(t));
    const port = await freePort();
    const running = startCli(['login', ...credentials(), '--port', String(port), '--no-browser'], home.env);
    await running.waitForStderr(/Waiting up to/);
    running.child.kill(signal);
    const result = await running.done;
    assert.equal(result.code, code);
    assert.match(result.stderr, /Nothing was stored/);
    assert.ok(!existsSync(home.configFile));
    const again = createServer();
    await new Promise<void>((resolve, reject) => again.once('error', reject).listen(port, '127.0.0.1', resolve));
    again.close();
  });
}

const exchangeFailures = [
  { name: 'a wrong client secret', setup: () => ({ args: ['--client-secret', 'wrong'] }), pattern: /invalid_client .*client ID or client secret is wrong/ },
  { name: 'HTTP 5xx', fail: 'server-error', pattern: /answered HTTP 503 \(a server error\)/ },
  { name: 'an HTML page instead of JSON', fail: 'html', pattern: /answered HTTP 200 with text\/html instead of JSON/ },
  { name: 'truncated JSON', fail: 'truncated', pattern: /instead of JSON/ },
  { name: 'JSON without access_token', fail: 'no-access-token', pattern: /had no access_token/ },
  { name: 'a 10 MB body', fail: 'huge', pattern: /sent an answer over 1 MiB/ },
  { name: 'a connection reset', fail: 'reset', pattern: /Could not reach .* the connection was reset|the request failed/ },
  { name: 'a server that never answers', fail: 'hang', pattern: /did not answer within 1 s while exchanging the authorization code/ },
] as const;

for (const failure of exchangeFailures) {
  test(`token exchange fails on ${failure.name}: exit 1, one sentence, nothing stored`, async (t) => {
    const yandex = await fakeYandex(t);
    const home = makeHome(t, yandex, { YANDEX_TOKEN_HTTP_TIMEOUT: '1' });
    const port = await freePort();
    if ('fail' in failure) yandex.fail('/token', failure.fail);
    const extra = 'setup' in failure ? failure.setup().args : [];
    const args = ['login', '--client-id', DEMO_CLIENT.id, '--client-secret', DEMO_CLIENT.secret, ...extra, '--port', String(port)];
    const result = await runCommand(args, browserEnv(home));
    assert.equal(result.code, 1, result.stderr);
    const last = result.stderr.trim().split('\n').at(-1)!;
    assert.match(last, failure.pattern);
    assert.ok(!result.stderr.includes('    at '), 'no stack trace');
    assert.ok(!existsSync(home.configFile), 'nothing stored');
    const page = await browserPage(home);
    assert.match(page.html, /Login failed/);
  });
}

test('an unreachable Yandex is one sentence, exit 1', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const closedPort = await freePort();
  const port = await freePort();
  // Authorize on the emulator, but the token endpoint nowhere.
  const env = { ...browserEnv(home) };
  const running = startCli(['login', ...credentials(), '--port', String(port), '--no-browser'], { ...env, YANDEX_OAUTH_URL: `http://127.0.0.1:${closedPort}` });
  const stderr = await running.waitForStderr(/Waiting up to/);
  const url = new URL(/(http:\/\/\S+\/authorize\S+)/.exec(stderr)![1]!);
  const { visit } = await import('./support/scripted-browser.mjs');
  await visit(`${yandex.url}/authorize${url.search}`);
  const result = await running.done;
  assert.equal(result.code, 1);
  assert.match(result.stderr, /Could not reach http:\/\/127\.0\.0\.1:\d+ while exchanging the authorization code for a token: the connection was refused\./);
});

test('a corrupt config file is named, exit 1, and never overwritten', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  mkdirSync(home.configDir, { recursive: true });
  writeFileSync(home.configFile, '{ not json', { mode: 0o600 });
  const print = await runCommand(['print'], home.env);
  assert.equal(print.code, 1);
  assert.equal(print.stdout, '');
  assert.match(print.stderr, new RegExp(`${home.configFile.replace(/[.]/g, '\\.')} is not valid JSON`));
  const port = await freePort();
  const login = await runCommand(['login', ...credentials(), '--port', String(port)], browserEnv(home));
  assert.equal(login.code, 1);
  assert.match(login.stderr, /is not valid JSON/);
  assert.equal(readFileSync(home.configFile, 'utf8'), '{ not json');

  writeFileSync(home.configFile, '{"profiles": {"default": 42}}');
  const wrongShape = await runCommand(['print'], home.env);
  assert.equal(wrongShape.code, 1);
  assert.match(wrongShape.stderr, /does not look like a yandex-token config file/);
});

test('print without a login: empty stdout, the fix on stderr, exit 4', async (t) => {
  const home = makeHome(t);
  const print = await runCommand(['print'], home.env);
  assert.equal(print.code, 4);
  assert.equal(print.stdout, '');
  assert.match(print.stderr, /Not logged in\. Run `yandex-token login` first\./);
});

test('--help shows the redirect URI to register and the exit codes', async (t) => {
  const home = makeHome(t);
  const help = await runCommand(['login', '--help'], home.env);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /http:\/\/127\.0\.0\.1:8765\/callback/);
  assert.match(help.stdout, /4 {2}not logged in/);
  const bad = await runCommand(['print', '--nope'], home.env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unknown option '--nope'/);
});

test('a client secret passed as a flag is gone from the process title (ps) while login waits', { skip: process.platform !== 'linux' && 'reads /proc' }, async (t) => {
  const home = makeHome(t, await fakeYandex(t));
  const port = await freePort();
  const secret = 'flag-secret-visible-to-ps';
  const running = startCli(['login', '--client-id', DEMO_CLIENT.id, '--client-secret', secret, '--port', String(port), '--no-browser'], home.env);
  await running.waitForStderr(/Waiting up to/);
  const cmdline = readFileSync(`/proc/${running.child.pid}/cmdline`, 'utf8');
  running.child.kill('SIGINT');
  await running.done;
  assert.ok(!cmdline.includes(secret), `ps shows: ${cmdline.replace(/\0/g, ' ')}`);
  assert.match(cmdline, /^yandex-token login/);
});
