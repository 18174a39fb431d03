// Hostile input: whatever reaches the callback listener, the token endpoint or the config file, and the
// signals a person sends, every run ends in one clear sentence, the right exit code, nothing
// half-written and no unhandled rejection. (The plain failure modes of the token endpoint — 5xx, HTML,
// truncated JSON, no access_token, 10 MB, reset, a hang, a closed port — are in login.test.ts.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../src/errors.ts';
import { listenForCallback, parseRedirectUri, type CallbackListener, type CallbackParams, type StrayError } from '../src/login/listener.ts';
import { createState } from '../src/yandex/oauth.ts';
import { Store } from '../src/store/store.ts';
import {
  BIN,
  browserEnv,
  browserPage,
  credentials,
  DEMO_CLIENT,
  fakeYandex,
  freePort,
  issuedRecord,
  makeHome,
  runCli,
  startCli,
  tempDir,
  type Home,
  type RunResult,
  assertCleanFailure,
  writeConfig as writeProfiles,
} from './support/harness.ts';
import { runCommand } from './support/in-process.ts';

// Anything unhandled in this process (the in-process listener tests) fails the last test of the file.
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));
process.on('uncaughtException', (error) => unhandled.push(error));


function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// ---------------------------------------------------------------------------------------------------
// The callback listener, in process.

interface OpenListener {
  listener: CallbackListener;
  port: number;
  state: string;
  base: string;
  /** The callback's result once it settled, else undefined. */
  settled(): CallbackParams | undefined;
  /** What onStrayError was told: error redirects without our state. */
  strays: StrayError[];
}

async function openListener(t: TestContext): Promise<OpenListener> {
  const port = await freePort();
  const state = createState();
  const strays: StrayError[] = [];
  const listener = await listenForCallback({ target: parseRedirectUri(`http://127.0.0.1:${port}/callback`), state, onStrayError: (stray) => strays.push(stray) });
  t.after(() => listener.close());
  let result: CallbackParams | undefined;
  listener.callback.then((params) => (result = params)).catch(() => undefined);
  return { listener, port, state, base: `http://127.0.0.1:${port}`, settled: () => result, strays };
}

/** Sends raw bytes as one HTTP exchange; resolves with the status line's code (if any) once the server closes. */
function rawRequest(port: number, request: string | Buffer, timeoutMs = 5_000): Promise<{ status?: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms to ${String(request).slice(0, 80)}`));
    }, timeoutMs);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => undefined); // a reset after the answer is fine; the answer is what counts
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const status = /^HTTP\/1\.[01] (\d{3}) /.exec(text)?.[1];
      resolve({ status: status ? Number(status) : undefined, text });
    });
    socket.end(request);
  });
}

function get(target: string, method = 'GET'): string {
  return `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
}

function percentEncode(text: string): string {
  return [...Buffer.from(text)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
}

async function settleWithTheRightOne(open: OpenListener): Promise<void> {
  assert.equal(open.settled(), undefined, 'nothing settled the wait before the right callback');
  const right = fetch(`${open.base}/callback?code=right&state=${open.state}`);
  assert.deepEqual(await open.listener.callback, { code: 'right' });
  await open.listener.finish(() => ({ ok: true, title: 'Logged in', message: 'Done.' }));
  assert.equal((await right).status, 200);
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND', 'SEARCH', 'get', 'FOO', 'G E T'];

test('callback: random methods, paths and query strings are answered and ignored', async (t) => {
  const open = await openListener(t);
  const wrongState = fc.oneof(fc.constant(''), fc.string({ maxLength: 80 }).filter((s) => s !== open.state), fc.constant(open.state.slice(1)), fc.constant(`${open.state}x`));
  const query = fc.oneof(
    fc.webQueryParameters(),
    wrongState.map((s) => `code=1&state=${percentEncode(s)}`),
    wrongState.map((s) => `state=${percentEncode(s)}&error=access_denied`),
    fc.tuple(wrongState, fc.string({ maxLength: 40 })).map(([s, e]) => `state=${percentEncode(s)}&error=${percentEncode(e)}`),
    fc.tuple(fc.string({ unit: 'binary', maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 })).map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`),
    fc.constant(`state=${open.state}`), // our state, but neither a code nor an error
    fc.constant(`code=&state=${open.state}`),
  );
  const path = fc.oneof(fc.webPath(), fc.constant('/callback'), fc.constant('/callback/'), fc.constant('/CALLBACK'), fc.constant('//callback'), fc.constant('/callback%00'), fc.constant('*'));
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...METHODS), path, query, async (method, p, q) => {
      const target = p === '*' ? '*' : `${p || '/'}${q ? `?${q}` : ''}`;
      const { status } = await rawRequest(open.port, get(target, method));
      assert.ok(status !== undefined && [400, 404, 405, 431].includes(status), `${method} ${target} got ${status}`);
      assert.equal(open.settled(), undefined, `${method} ${target} ended the wait`);
    }),
    { numRuns: 300 },
  );
  // Error redirects without our state are told, but a flood of them is not: three at most, none twice.
  assert.ok(open.strays.length <= 3, JSON.stringify(open.strays));
  assert.equal(new Set(open.strays.map((stray) => JSON.stringify(stray))).size, open.strays.length);
  await settleWithTheRightOne(open);
});

test('callback: random bytes on the socket are refused and ignored', async (t) => {
  const open = await openListener(t);
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 512 }), fc.boolean(), async (bytes, asTarget) => {
      const request = asTarget
        ? Buffer.concat([Buffer.from('GET /callback?'), Buffer.from(bytes), Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')])
        : Buffer.concat([Buffer.from(bytes), Buffer.from('\r\n\r\n')]);
      const { status } = await rawRequest(open.port, request);
      assert.ok(status === undefined || status >= 400, `got ${status}`);
      assert.equal(open.settled(), undefined);
    }),
    { numRuns: 200 },
  );
  await settleWithTheRightOne(open);
});

test('callback: a 1 MB URL, even one carrying our state, is refused; the wait goes on', async (t) => {
  const open = await openListener(t);
  const huge = 'a'.repeat(1024 * 1024);
  const wrong = await rawRequest(open.port, get(`/callback?code=1&state=${huge}`));
  assert.equal(wrong.status, 431);
  const withOurs = await rawRequest(open.port, get(`/callback?code=1&state=${open.state}&padding=${huge}`));
  assert.equal(withOurs.status, 431);
  const headers = await rawRequest(open.port, `GET /callback?state=${open.state} HTTP/1.1\r\nHost: x\r\nX-Big: ${huge}\r\n\r\n`);
  assert.equal(headers.status, 431);
  await settleWithTheRightOne(open);
});

test('callback: 100 concurrent requests with the wrong state, then the right one', async (t) => {
  const open = await openListener(t);
  const wrong = await Promise.all(
    Array.from({ length: 100 }, (_, i) => fetch(`${open.base}/callback?code=${i}&state=${createState()}`).then((r) => r.status)),
  );
  assert.deepEqual(new Set(wrong), new Set([400]));
  await settleWithTheRightOne(open);
});

test('callback: a second valid callback gets 409 while the first is handled, and nothing once it is done', async (t) => {
  const open = await openListener(t);
  const first = fetch(`${open.base}/callback?code=first&state=${open.state}`);
  assert.deepEqual(await open.listener.callback, { code: 'first' });
  const second = await fetch(`${open.base}/callback?code=second&state=${open.state}`);
  assert.equal(second.status, 409);
  assert.match(await second.text(), /Already answered/);
  const denial = await fetch(`${open.base}/callback?error=access_denied&state=${open.state}`);
  assert.equal(denial.status, 409, 'a late error does not replace the code either');
  assert.deepEqual(await open.listener.callback, { code: 'first' });
  await open.listener.finish(() => ({ ok: true, title: 'Logged in', message: 'Done.' }));
  assert.equal((await first).status, 200);
  await assert.rejects(fetch(`${open.base}/callback?code=third&state=${open.state}`), 'the listener is closed');
});

test('callback: a connection that never finishes its request does not hold the listener open', async (t) => {
  const open = await openListener(t);
  const idle = connect(open.port, '127.0.0.1');
  idle.on('error', () => undefined);
  await new Promise((resolve) => idle.once('connect', resolve));
  idle.write('GET /callback?state=');
  await settleWithTheRightOne(open);
  // finish() returned, so the port is free again right away.
  const again = createServer();
  await new Promise<void>((resolve, reject) => again.once('error', reject).listen(open.port, '127.0.0.1', resolve));
  again.close();
  idle.destroy();
});

test('callback: closing while the browser waits answers it and releases the port', async (t) => {
  const open = await openListener(t);
  const pending = fetch(`${open.base}/callback?code=x&state=${open.state}`);
  await open.listener.callback;
  await open.listener.close();
  const page = await pending;
  assert.match(await page.text(), /Login stopped/);
  await open.listener.close(); // twice is fine
});

// ---------------------------------------------------------------------------------------------------
// The callback listener, black-box: the CLI survives it all and the real login still completes.

function authorizeUrlFrom(stderr: string): URL {
  return new URL(/(http:\/\/\S+\/authorize\?\S+)/.exec(stderr)![1]!);
}

test('login survives a barrage on its port and still completes with the real callback', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const port = await freePort();
  const running = startCli(['login', ...credentials(), '--port', String(port), '--no-browser'], home.env, { timeoutMs: 60_000 });
  const url = authorizeUrlFrom(await running.waitForStderr(/Waiting up to/));
  const base = `http://127.0.0.1:${port}`;

  assert.equal((await rawRequest(port, get(`/callback?state=${'s'.repeat(1024 * 1024)}`))).status, 431);
  const statuses = await Promise.all([
    ...Array.from({ length: 100 }, () => fetch(`${base}/callback?code=1&state=${createState()}`).then((r) => r.status)),
    ...['/', '/favicon.ico', '/callback/../callback', '/%2e%2e/etc/passwd'].map((p) => rawRequest(port, get(p)).then((r) => r.status)),
    rawRequest(port, Buffer.from([0, 1, 2, 255, 13, 10, 13, 10])).then((r) => r.status ?? 400),
    rawRequest(port, get('/callback', 'DELETE')).then((r) => r.status),
  ]);
  assert.ok(statuses.every((s) => s !== undefined && s >= 400 && s < 500), statuses.join(' '));

  const { visit } = await import('./support/scripted-browser.mjs');
  const page = await visit(url.toString());
  assert.equal(page.status, 200);
  const result = await running.done;
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /Logged in as demo\.user\./);
  const print = await runCli(['print'], home.env);
  assert.match(print.stdout, /^y0_emu_\S+\n$/);
});

test('an error callback with hostile text: exit 1, one clean sentence, nothing stored', async (t) => {
  const home = makeHome(t, await fakeYandex(t));
  const port = await freePort();
  const running = startCli(['login', ...credentials(), '--port', String(port), '--no-browser'], home.env);
  const url = authorizeUrlFrom(await running.waitForStderr(/Waiting up to/));
  const state = url.searchParams.get('state')!;
  const error = '\x1b]0;owned\x07\x1b[2Jevil\u202e';
  const description = `\x1b[31m${'x'.repeat(4000)}\r\nForged: line`;
  const callback = new URL(`http://127.0.0.1:${port}/callback`);
  callback.searchParams.set('error', error);
  callback.searchParams.set('error_description', description);
  callback.searchParams.set('state', state);
  const page = await fetch(callback);
  assert.equal(page.status, 400);
  const html = await page.text();
  assert.ok(!html.includes('\x1b'), 'no escape codes in the page');
  const result = await running.done;
  const last = assertCleanFailure(result, 1, /^Yandex returned .*evil.* instead of a code\. Check the app at https:\/\/oauth\.yandex\.ru/);
  assert.ok(last.length < 600, `the sentence stays short (${last.length} characters)`);
  assert.doesNotMatch(result.stderr, /^Forged: line/m, 'no forged line');
  assert.ok(!existsSync(home.configFile));
});

// ---------------------------------------------------------------------------------------------------
// The token endpoint.

/** Login whose authorize step is the emulator's and whose token endpoint is `oauthUrl`. */
async function loginAgainst(t: TestContext, oauthUrl: string, extraEnv: Record<string, string> = {}) {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const port = await freePort();
  const running = startCli(['login', ...credentials(), '--port', String(port), '--no-browser'], { ...home.env, YANDEX_OAUTH_URL: oauthUrl, ...extraEnv }, { timeoutMs: 60_000 });
  const url = authorizeUrlFrom(await running.waitForStderr(/Waiting up to/));
  const { visit } = await import('./support/scripted-browser.mjs');
  const page = await visit(`${yandex.url}/authorize${url.search}`);
  return { home, page, result: await running.done };
}

test('a token endpoint whose host name does not resolve: exit 1, one sentence, nothing stored', async (t) => {
  // .invalid never resolves (RFC 6761); a resolver that cannot be reached at all runs into the timeout.
  const { home, page, result } = await loginAgainst(t, 'http://nonexistent.invalid', { YANDEX_TOKEN_HTTP_TIMEOUT: '10' });
  assertCleanFailure(result, 1, /^(Could not reach http:\/\/nonexistent\.invalid while exchanging the authorization code for a token: the host name could not be resolved\.|http:\/\/nonexistent\.invalid did not answer within 10 s).* Check your network/);
  assert.match(page.html, /Login failed/);
  assert.ok(!existsSync(home.configFile));
});

test('a token endpoint that sends half an answer and stalls runs into YANDEX_TOKEN_HTTP_TIMEOUT', async (t) => {
  const yandex = await fakeYandex(t);
  yandex.fail('/token', 'stall');
  const home = makeHome(t, yandex, { YANDEX_TOKEN_HTTP_TIMEOUT: '1' });
  const result = await runCommand(['login', ...credentials(), '--port', String(await freePort())], browserEnv(home));
  assertCleanFailure(result, 1, /did not answer within 1 s while exchanging the authorization code for a token\. .*raise YANDEX_TOKEN_HTTP_TIMEOUT\.$/);
  assert.ok(!existsSync(home.configFile));
  assert.match((await browserPage(home)).html, /Login failed/);
});

test('an OAuth error with hostile text from the token endpoint is cleaned and shortened', async (t) => {
  const server = createHttpServer((_req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'invalid_grant\x1b[2J', error_description: `\x1b]8;;http://evil\x07click\x1b]8;;\x07 ${'y'.repeat(5000)}\nsecond line` }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { home, result } = await loginAgainst(t, `http://127.0.0.1:${(server.address() as { port: number }).port}`);
  const last = assertCleanFailure(result, 1, /^Yandex answered invalid_grant.* while exchanging the authorization code for a token\.$/);
  assert.ok(last.length < 600, `the sentence stays short (${last.length} characters)`);
  assert.doesNotMatch(result.stderr, /second line/);
  assert.ok(!existsSync(home.configFile));
});

test('a broken YANDEX_TOKEN_HTTP_TIMEOUT is named before anything starts', async (t) => {
  for (const value of ['abc', '0', '-5']) {
    const home = makeHome(t, undefined, { YANDEX_TOKEN_HTTP_TIMEOUT: value });
    assertCleanFailure(await runCli(['print'], home.env), 1, new RegExp(`^YANDEX_TOKEN_HTTP_TIMEOUT must be a positive number of seconds, not "${value}"\\. Fix or unset it\\.$`));
    assertCleanFailure(await runCommand(['login', ...credentials()], home.env), 1, /^YANDEX_TOKEN_HTTP_TIMEOUT must be a positive number/);
  }
});

for (const mode of ['server-error', 'html', 'reset', 'hang'] as const) {
  test(`account info failing (${mode}) does not fail the login: the token is kept`, async (t) => {
    const yandex = await fakeYandex(t);
    yandex.fail('/info', mode);
    const home = makeHome(t, yandex, { YANDEX_TOKEN_HTTP_TIMEOUT: '1' });
    const result = await runCommand(['login', ...credentials(), '--port', String(await freePort())], browserEnv(home));
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Logged in as your Yandex account\. Token saved to /);
    const stored = JSON.parse(readFileSync(home.configFile, 'utf8')).profiles.default;
    assert.equal(stored.login, undefined);
    assert.equal((await runCli(['print'], home.env)).stdout, `${stored.accessToken}\n`);
    assert.match((await browserPage(home)).html, /logged in as your Yandex account/);
  });
}

// ---------------------------------------------------------------------------------------------------
// Signals beyond the wait (the wait itself is in login.test.ts).

async function interruptDuring(t: TestContext, endpoint: '/token' | '/info', signal: NodeJS.Signals) {
  const yandex = await fakeYandex(t);
  yandex.fail(endpoint, 'hang');
  const home = makeHome(t, yandex);
  const port = await freePort();
  const running = startCli(['login', ...credentials(), '--port', String(port)], browserEnv(home));
  // The request is in flight once the emulator has logged it.
  const deadline = Date.now() + 15_000;
  while (!yandex.requests.some((r) => r.path === endpoint)) {
    if (Date.now() >= deadline) {
      running.child.kill('SIGKILL');
      assert.fail(`${endpoint} was never called; the emulator saw ${yandex.requests.map((r) => r.path).join(', ') || 'nothing'}; stderr:\n${(await running.done).stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  running.child.kill(signal);
  const result = await running.done;
  await browserPage(home);
  return { home, port, result };
}

for (const [signal, code, endpoint] of [
  ['SIGINT', 2, '/token'],
  ['SIGTERM', 143, '/token'],
  ['SIGINT', 2, '/info'],
  ['SIGTERM', 143, '/info'],
] as const) {
  test(`${signal} while ${endpoint} is pending: exit ${code}, nothing stored, the port released`, async (t) => {
    const { home, port, result } = await interruptDuring(t, endpoint, signal);
    assertCleanFailure(result, code, /^(Cancelled|Terminated)\. Nothing was stored\.$/);
    assert.ok(!existsSync(home.configFile), 'nothing stored');
    const again = createServer();
    await new Promise<void>((resolve, reject) => again.once('error', reject).listen(port, '127.0.0.1', resolve));
    again.close();
  });
}

test('SIGHUP (the terminal went away) during the wait ends the login; nothing stored, the port released', async (t) => {
  const home = makeHome(t, await fakeYandex(t));
  const port = await freePort();
  const running = startCli(['login', ...credentials(), '--port', String(port), '--no-browser'], home.env);
  await running.waitForStderr(/Waiting up to/);
  running.child.kill('SIGHUP');
  const result = await running.done;
  assert.ok(result.code !== 0, `it ended (${result.code ?? result.signal})`);
  assert.ok(!existsSync(home.configFile));
  const again = createServer();
  await new Promise<void>((resolve, reject) => again.once('error', reject).listen(port, '127.0.0.1', resolve));
  again.close();
});

// ---------------------------------------------------------------------------------------------------
// The config file.

function writeConfig(home: Home, content: string | Uint8Array): void {
  mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
  writeFileSync(home.configFile, content, { mode: 0o600 });
}

const fileInMessage = (home: Home) => escapeRegExp(home.configFile);

test('Store.read on random bytes: a ConfigError naming the file, or a valid config; never anything else', async (t) => {
  const dir = tempDir(t);
  const store = new Store(dir);
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null'))), (bytes) => {
      writeFileSync(store.path, bytes);
      try {
        const data = store.read();
        assert.equal(typeof data.profiles, 'object');
        assert.equal(typeof data.deviceIds, 'object');
      } catch (error) {
        assert.ok(error instanceof ConfigError, `not a ConfigError: ${String(error)}`);
        assert.ok(error.message.includes(store.path), error.message);
      }
    }),
    { numRuns: 500 },
  );
});

const WRONG_SHAPES: [string, string][] = [
  ['random bytes', '\x00\xff\xfe garbage \x1b[2J'],
  ['a number', '42'],
  ['null', 'null'],
  ['an array', '[{"profiles": {}}]'],
  ['profiles as an array', '{"profiles": []}'],
  ['a record without a token', '{"profiles": {"default": {"clientId": "x", "obtainedAt": "2024-01-01"}}}'],
  ['a token that is a number', '{"profiles": {"default": {"accessToken": 5, "clientId": "x", "obtainedAt": "2024-01-01"}}}'],
  ['device ids of the wrong type', '{"profiles": {}, "deviceIds": {"default": 7}}'],
];

for (const [name, content] of WRONG_SHAPES) {
  test(`a config file with ${name}: print and login exit 1 naming the file, and it is never overwritten`, async (t) => {
    const home = makeHome(t, await fakeYandex(t));
    writeConfig(home, content);
    const before = readFileSync(home.configFile);
    assertCleanFailure(await runCli(['print'], home.env), 1, new RegExp(`^${fileInMessage(home)} (is not valid JSON|does not look like a yandex-token config file)\\. .*left untouched\\.$`));
    const login = await runCommand(['login', ...credentials(), '--port', String(await freePort())], browserEnv(home));
    assertCleanFailure(login, 1, new RegExp(fileInMessage(home)));
    assert.deepEqual(readFileSync(home.configFile), before, 'byte for byte the same');
  });
}

/** What print says of a config file it must not read: exit 1 at once, naming the file and the fix. */
const NOT_A_FILE = (home: Home, what: string) =>
  new RegExp(`^${fileInMessage(home)} is ${what}, not a regular file, so it was not read\\. Remove it .*YANDEX_TOKEN_CONFIG_DIR`);

test('a config file that is a named pipe is not read (it would hang): print and status exit 1 naming it', { skip: process.platform === 'win32' }, async (t) => {
  const home = makeHome(t, await fakeYandex(t));
  mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
  const made = spawnSync('mkfifo', [home.configFile]);
  if (made.error || made.status !== 0) return t.skip('mkfifo is not available here');
  assertCleanFailure(await runCli(['print'], home.env), 1, NOT_A_FILE(home, 'a named pipe'));
  assertCleanFailure(await runCli(['status'], home.env), 1, NOT_A_FILE(home, 'a named pipe'));
  assertCleanFailure(await runCommand(['login', ...credentials(), '--port', String(await freePort())], browserEnv(home)), 1, NOT_A_FILE(home, 'a named pipe'));
  assert.ok(lstatSync(home.configFile).isFIFO(), 'still the pipe, not replaced');
});

test('a config file that is a symlink to /dev/zero is not read (it never ends): print exits 1 naming it', { skip: !existsSync('/dev/zero') }, async (t) => {
  const home = makeHome(t, await fakeYandex(t));
  mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
  symlinkSync('/dev/zero', home.configFile);
  assertCleanFailure(await runCli(['print'], home.env), 1, NOT_A_FILE(home, 'a device'));
  assertCleanFailure(await runCommand(['login', ...credentials(), '--port', String(await freePort())], browserEnv(home)), 1, NOT_A_FILE(home, 'a device'));
  assert.equal(readlinkSync(home.configFile), '/dev/zero', 'the symlink is left alone');
});

test('a config file that is a socket is not read: print exits 1 naming it', { skip: process.platform === 'win32' }, async (t) => {
  const home = makeHome(t, await fakeYandex(t));
  mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(home.configFile, resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  assertCleanFailure(await runCli(['print'], home.env), 1, NOT_A_FILE(home, 'a socket'));
});

test('a config file over 1 MiB is refused unread, with its size; one just under is read', async (t) => {
  const home = makeHome(t, await fakeYandex(t));
  const body = '{"profiles": {}}';
  writeConfig(home, body + ' '.repeat(1024 * 1024 - body.length + 1));
  const before = readFileSync(home.configFile);
  assertCleanFailure(
    await runCli(['print'], home.env),
    1,
    new RegExp(`^${fileInMessage(home)} is ${1024 * 1024 + 1} bytes, too large for a yandex-token config file \\(at most 1048576\\); it was not read\\.`),
  );
  assertCleanFailure(await runCommand(['login', ...credentials(), '--port', String(await freePort())], browserEnv(home)), 1, new RegExp(`too large`));
  assert.deepEqual(readFileSync(home.configFile), before, 'never overwritten');
  writeConfig(home, body + ' '.repeat(1024 * 1024 - body.length));
  assertCleanFailure(await runCli(['print'], home.env), 4, /^Not logged in/);
});

test('a UTF-8 byte-order mark at the start of the file is tolerated; a write leaves it out', async (t) => {
  const dir = tempDir(t);
  const store = new Store(dir);
  const record = { accessToken: 'y0_bom', clientId: 'c', obtainedAt: '2024-01-01T00:00:00.000Z' };
  writeFileSync(store.path, `\ufeff${JSON.stringify({ profiles: { default: record }, deviceIds: {} }, null, 2)}`, { mode: 0o600 });
  assert.equal(store.get('default')?.accessToken, 'y0_bom');
  await store.update((data) => {
    data.deviceIds.default = 'dev-1';
  });
  const text = readFileSync(store.path, 'utf8');
  assert.notEqual(text.charCodeAt(0), 0xfeff, 'no byte-order mark written');
  assert.deepEqual(JSON.parse(text), { profiles: { default: record }, deviceIds: { default: 'dev-1' } });
});

test('print reads a config file that starts with a byte-order mark', async (t) => {
  const home = makeHome(t, await fakeYandex(t));
  const record = { accessToken: 'y0_bom', clientId: 'c', obtainedAt: '2024-01-01T00:00:00.000Z' };
  writeConfig(home, `\ufeff${JSON.stringify({ profiles: { default: record } })}`);
  const print = await runCli(['print'], home.env);
  assert.equal(print.code, 0, print.stderr);
  assert.equal(print.stdout, 'y0_bom\n');
});

test('a config file that goes bad during the wait is not overwritten; the login fails naming it', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, '{"profiles": {}}');
  const running = startCli(['login', ...credentials(), '--port', String(await freePort()), '--no-browser'], home.env);
  const url = authorizeUrlFrom(await running.waitForStderr(/Waiting up to/));
  writeFileSync(home.configFile, '{"profiles": {"default": "edited by hand, badly"}}');
  const { visit } = await import('./support/scripted-browser.mjs');
  const page = await visit(url.toString());
  assert.match(page.html, /Login failed/);
  assertCleanFailure(await running.done, 1, new RegExp(`^${fileInMessage(home)} does not look like a yandex-token config file`));
  assert.equal(readFileSync(home.configFile, 'utf8'), '{"profiles": {"default": "edited by hand, badly"}}');
});

test('a config folder that is a file: print and login exit 1 naming the file', async (t) => {
  const home = makeHome(t, await fakeYandex(t));
  mkdirSync(join(home.dir, 'config'), { recursive: true });
  writeFileSync(home.configDir, 'not a folder');
  assertCleanFailure(await runCli(['print'], home.env), 1, new RegExp(`^Cannot read ${fileInMessage(home)}`));
  assertCleanFailure(await runCommand(['login', ...credentials(), '--port', String(await freePort())], browserEnv(home)), 1, new RegExp(fileInMessage(home)));
  assert.equal(readFileSync(home.configDir, 'utf8'), 'not a folder');
});

// Permission checks need a user that file modes apply to: root ignores them. As root, run the CLI as
// "nobody" through setpriv when that works here; otherwise skip with the reason.
const NOBODY = 65534;

function asUserProbe(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const probe = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', process.execPath, BIN, '--version'], { encoding: 'utf8' });
  if (probe.error) return 'running as root and setpriv is missing, so file modes cannot be tested (root ignores them)';
  if (probe.status !== 0) return `running as root and the checkout is not readable by uid ${NOBODY}, so file modes cannot be tested (root ignores them)`;
  return undefined;
}

const asRoot = process.getuid?.() === 0;
const permissionSkip = asUserProbe();

/** Starts the CLI as the unprivileged user (nobody when the tests run as root, with stdin closed). */
function startUnprivileged(args: string[], env: Record<string, string>) {
  return startCli(args, env, asRoot ? { wrapper: ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--'], input: '' } : {});
}

function runUnprivileged(args: string[], env: Record<string, string>): Promise<RunResult> {
  return startUnprivileged(args, env).done;
}

/** Gives the home to the unprivileged user (recursively), so only the modes set afterwards deny anything. */
function handOver(path: string): void {
  if (!asRoot) return;
  assert.equal(spawnSync('chown', ['-R', `${NOBODY}:${NOBODY}`, path]).status, 0);
}

const VALID_CONFIG = JSON.stringify({
  profiles: { default: { accessToken: 'y0_kept', clientId: DEMO_CLIENT.id, obtainedAt: '2024-01-01T00:00:00.000Z' } },
  deviceIds: { default: 'yt-kept-device' },
});

test('a config file the user cannot read: print and login exit 1 naming the file and the fix', { skip: permissionSkip }, async (t) => {
  const home = makeHome(t, await fakeYandex(t));
  writeConfig(home, VALID_CONFIG);
  handOver(home.dir);
  chmodSync(home.configFile, 0o000);
  const print = await runUnprivileged(['print'], home.env);
  assertCleanFailure(print, 1, new RegExp(`^Cannot read ${fileInMessage(home)}: permission denied\\..*chmod 600`));
  const login = await runUnprivileged(['login', ...credentials(), '--port', String(await freePort())], browserEnv(home));
  assertCleanFailure(login, 1, new RegExp(`^Cannot read ${fileInMessage(home)}: permission denied`));
  chmodSync(home.configFile, 0o600);
  assert.equal(readFileSync(home.configFile, 'utf8'), VALID_CONFIG);
});

/** Runs `body` with `dir` made read-only, and gives the mode back before the temp folder is removed. */
async function withReadOnly(dir: string, body: () => Promise<void>): Promise<void> {
  chmodSync(dir, 0o500);
  try {
    await body();
  } finally {
    chmodSync(dir, 0o700);
  }
}

test('a read-only config folder: login fails before the browser, naming the file; the file is kept', { skip: permissionSkip }, async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, VALID_CONFIG);
  handOver(home.dir);
  await withReadOnly(home.configDir, async () => {
    const login = await runUnprivileged(['login', ...credentials(), '--port', String(await freePort())], browserEnv(home));
    assertCleanFailure(login, 1, new RegExp(`^Cannot write ${fileInMessage(home)}: permission denied\\. Make ${escapeRegExp(home.configDir)} writable by you, or set YANDEX_TOKEN_CONFIG_DIR`));
    assert.equal(yandex.counts.authorize ?? 0, 0, 'no browser was sent to Yandex for a token that could not be kept');
    assert.equal(yandex.counts['token:authorization_code'] ?? 0, 0);
    assert.equal(readFileSync(home.configFile, 'utf8'), VALID_CONFIG);
    // Reading still works: print is unaffected by a read-only folder.
    const print = await runUnprivileged(['print'], home.env);
    assert.equal(print.stdout, 'y0_kept\n');
  });
});

test('a folder made read-only during the wait: the save fails at once naming the file; nothing is lost', { skip: permissionSkip }, async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, VALID_CONFIG);
  handOver(home.dir);
  const running = startUnprivileged(['login', ...credentials(), '--port', String(await freePort()), '--no-browser'], home.env);
  const url = authorizeUrlFrom(await running.waitForStderr(/Waiting up to/));
  await withReadOnly(home.configDir, async () => {
    const { visit } = await import('./support/scripted-browser.mjs');
    const page = await visit(url.toString());
    assert.match(page.html, /Login failed/);
    // Without the check before the lock, the lock would retry the permission error for about a minute.
    assertCleanFailure(await running.done, 1, new RegExp(`^Cannot write ${fileInMessage(home)}: permission denied`));
    assert.equal(readFileSync(home.configFile, 'utf8'), VALID_CONFIG);
  });
});

test('a read-only parent where the config folder would be created: login fails naming the file', { skip: permissionSkip }, async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const parent = join(home.dir, 'config');
  mkdirSync(parent);
  handOver(home.dir);
  await withReadOnly(parent, async () => {
    const login = await runUnprivileged(['login', ...credentials(), '--port', String(await freePort())], browserEnv(home));
    assertCleanFailure(login, 1, new RegExp(`^Cannot write ${fileInMessage(home)}: permission denied`));
    assert.equal(yandex.counts.authorize ?? 0, 0);
    assert.ok(!existsSync(home.configDir));
  });
});

test('a read-only config folder: print --iam still prints an IAM token, with one warning that it is not kept', { skip: permissionSkip }, async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex, { YANDEX_IAM_URL: yandex.url });
  writeProfiles(home, { default: issuedRecord(yandex, { expiresInMs: 300 * 86_400_000 }) });
  const before = readFileSync(home.configFile, 'utf8');
  handOver(home.dir);
  await withReadOnly(home.configDir, async () => {
    const printed = await runUnprivileged(['print', '--iam'], home.env);
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /^t1\.\S+\n$/);
    assert.match(printed.stderr, /^Warning: The Yandex Cloud IAM token could not be kept for the next run, .*Cannot write .*: permission denied/);
    assert.equal(printed.stderr.trim().split('\n').length, 1, printed.stderr);
  });
  assert.equal(readFileSync(home.configFile, 'utf8'), before);
  assert.equal(yandex.counts.iam, 1);
});

test('no unhandled rejection or exception anywhere in this file', () => {
  assert.deepEqual(unhandled, []);
});
