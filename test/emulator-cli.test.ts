// Black-box runs of `yandex-token emulator` and `yandex-token login --demo`, and a user's shell script
// that logs in against the emulator and prints the token.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { BIN, ROOT, browserEnv, browserPage, DEMO_CLIENT, freePort, makeHome, startCli, type Running } from './support/harness.ts';
import { requireProgram } from './support/e2e.ts';
import { runCommand, testClock } from './support/in-process.ts';

interface EmulatorInfo {
  url: string;
  env: { YANDEX_OAUTH_URL: string; YANDEX_LOGIN_URL: string; YANDEX_IAM_URL: string };
  client: { id: string; secret: string; name: string; redirectUris: string[] | null };
  account: { login: string; id: string };
}

/** Starts `yandex-token emulator --json` and reads the JSON line it writes once it listens. */
async function startEmulatorCli(t: TestContext, args: string[] = []): Promise<{ running: Running; info: EmulatorInfo }> {
  const home = makeHome(t);
  const running = startCli(['emulator', '--json', '--port', '0', ...args], home.env, { timeoutMs: 60_000 });
  t.after(() => void running.child.kill('SIGKILL'));
  let stdout = '';
  const line = new Promise<string>((resolve, reject) => {
    running.child.stdout!.on('data', (d: Buffer | string) => {
      stdout += d.toString();
      if (stdout.includes('\n')) resolve(stdout.split('\n')[0]!);
    });
    running.done.then((r) => reject(new Error(`the emulator exited ${r.code}: ${r.stderr}`)));
  });
  const info = JSON.parse(await line) as EmulatorInfo;
  await running.waitForStderr(/Ctrl-C stops the emulator/);
  return { running, info };
}

test('emulator --json: one JSON line with url, env and client; what it is and the environment on stderr; SIGTERM exits 0', async (t) => {
  const { running, info } = await startEmulatorCli(t);
  assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.deepEqual(info.env, { YANDEX_OAUTH_URL: info.url, YANDEX_LOGIN_URL: info.url, YANDEX_IAM_URL: info.url });
  assert.equal(info.client.id, DEMO_CLIENT.id);
  assert.equal(info.client.secret, DEMO_CLIENT.secret);
  assert.equal(info.account.login, 'demo.user');

  const stderr = await running.waitForStderr(/Ctrl-C/);
  assert.match(stderr, /Not Yandex/);
  assert.match(stderr, /Never point anything in production at it/);
  assert.ok(stderr.includes(`YANDEX_OAUTH_URL=${info.url}\n`));
  assert.ok(stderr.includes(`YANDEX_LOGIN_URL=${info.url}\n`));
  assert.ok(stderr.includes(DEMO_CLIENT.id) && stderr.includes(DEMO_CLIENT.secret));

  const page = await fetch(`${info.url}/authorize?response_type=code&client_id=${DEMO_CLIENT.id}&redirect_uri=http://127.0.0.1:1/cb`);
  assert.equal(page.status, 200);
  await running.waitForStderr(/GET \/authorize → 200/);

  running.child.kill('SIGTERM');
  const result = await running.done;
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /Emulator stopped\.\n$/);
  assert.equal(result.stdout.trim().split('\n').length, 1, 'exactly one line on stdout');
  await assert.rejects(fetch(`${info.url}/info`), 'the port is closed');
});

test('emulator: Ctrl-C (SIGINT) stops it with exit 0', async (t) => {
  const { running } = await startEmulatorCli(t);
  running.child.kill('SIGINT');
  assert.equal((await running.done).code, 0);
});

test('emulator options: --strict-redirect, --token-lifetime, --login, --fail, --slow', async (t) => {
  const registered = 'http://127.0.0.1:8765/callback';
  const { running, info } = await startEmulatorCli(t, [
    '--strict-redirect', registered,
    '--token-lifetime', '60',
    '--login', 'alice',
    '--fail', 'revoke_token=server-error',
    '--fail', '/device/code=html',
    '--slow', '1',
  ]);
  const stderr = await running.waitForStderr(/Ctrl-C/);
  assert.match(stderr, /revoke_token fails with server-error · device\/code fails with html · every answer delayed 1 ms/);
  assert.match(stderr, /--redirect-uri http:\/\/127\.0\.0\.1:8765\/callback/);
  assert.deepEqual(info.client.redirectUris, [registered]);
  assert.equal(info.account.login, 'alice');

  const authorize = (uri: string) => fetch(`${info.url}/authorize?response_type=code&client_id=${DEMO_CLIENT.id}&redirect_uri=${encodeURIComponent(uri)}`);
  assert.equal((await authorize(registered)).status, 200);
  assert.equal((await authorize('http://127.0.0.1:9999/callback')).status, 400, 'only the registered redirect URI');

  const page = await authorize(registered).then((r) => r.text());
  const request = /name="request" value="([^"]+)"/.exec(page)![1]!;
  const decided = await fetch(`${info.url}/authorize/decision`, { method: 'POST', body: new URLSearchParams({ request, decision: 'allow' }), redirect: 'manual' });
  const code = new URL(decided.headers.get('location')!).searchParams.get('code')!;
  const token = await fetch(`${info.url}/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', code, client_id: info.client.id, client_secret: info.client.secret }),
  }).then((r) => r.json() as Promise<{ access_token: string; expires_in: number }>);
  assert.equal(token.expires_in, 60);
  const me = await fetch(`${info.url}/info`, { headers: { authorization: `OAuth ${token.access_token}` } }).then((r) => r.json() as Promise<{ login: string }>);
  assert.equal(me.login, 'alice');

  assert.equal((await fetch(`${info.url}/revoke_token`, { method: 'POST' })).status, 503);
  const device = await fetch(`${info.url}/device/code`, { method: 'POST' });
  assert.equal(device.status, 200);
  assert.match(device.headers.get('content-type')!, /text\/html/);
});

test('emulator: a bad --fail names the endpoints and modes; a busy port names --port; exit 1', async (t) => {
  const home = makeHome(t);
  const bad = await runCommand(['emulator', '--port', '0', '--fail', 'token=explode'], home.env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--fail "token=explode" is not ENDPOINT=MODE\. Endpoints: authorize, token, device\/code, revoke_token, info, iam\/v1\/tokens; modes: server-error, html, truncated, no-access-token, huge, reset, hang\./);
  const badUri = await runCommand(['emulator', '--port', '0', '--strict-redirect', 'nope'], home.env);
  assert.equal(badUri.code, 1);
  assert.match(badUri.stderr, /--strict-redirect "nope" is not an http\(s\) URL/);

  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const busy = await runCommand(['emulator', '--port', String(port)], home.env);
  assert.equal(busy.code, 1);
  assert.match(busy.stderr, new RegExp(`Port ${port} is in use.*--port 0 picks a free one`));
  assert.equal(busy.stdout, '');
});

test('login --demo: the real loopback login against an in-process emulator, saved in profile "demo", clearly not a real token', async (t) => {
  const home = makeHome(t);
  const port = await freePort();
  const closed = await freePort();
  // None of these may leak into the demo: not Yandex's endpoints, not the credentials, not the profile.
  const env = {
    ...browserEnv(home),
    YANDEX_OAUTH_URL: `http://127.0.0.1:${closed}`,
    YANDEX_LOGIN_URL: `http://127.0.0.1:${closed}`,
    YANDEX_CLIENT_ID: 'someone-elses-app',
    YANDEX_CLIENT_SECRET: 'someone-elses-secret',
    YANDEX_TOKEN_PROFILE: 'work',
  };
  const login = await runCommand(['login', '--demo', '--port', String(port)], env);
  assert.equal(login.code, 0, login.stderr);
  assert.equal(login.stdout, '', 'stdout stays empty');
  assert.match(login.stderr, /Demo: a Yandex OAuth emulator is running inside this command at http:\/\/127\.0\.0\.1:\d+\. It is not Yandex\./);
  assert.match(login.stderr, /Waiting up to 5 min for the emulator to redirect to http:\/\/127\.0\.0\.1:\d+\/callback/, 'the emulator, not Yandex');
  assert.match(login.stderr, /Logged in as demo\.user\./);
  assert.match(login.stderr, /the token saved in profile "demo" is not a real Yandex token/);
  assert.match(login.stderr, /`yandex-token print --profile demo` shows it/);

  const stored = JSON.parse(readFileSync(home.configFile, 'utf8'));
  assert.deepEqual(Object.keys(stored.profiles), ['demo']);
  assert.equal(stored.profiles.demo.clientId, DEMO_CLIENT.id);
  assert.ok(!login.stderr.includes(stored.profiles.demo.accessToken), 'the token is not printed');

  const page = await browserPage(home);
  assert.equal(page.stage, 'callback');
  assert.match(page.html, /Logged in/);

  const print = await runCommand(['print', '--profile', 'demo'], home.env);
  assert.equal(print.code, 0);
  assert.equal(print.stdout, `${stored.profiles.demo.accessToken}\n`);

  const other = await runCommand(['login', '--demo', '--port', String(port), '--profile', 'try'], browserEnv(home));
  assert.equal(other.code, 0, other.stderr);
  assert.match(other.stderr, /profile "try"/);
});

test('login --demo without a browser: the URL is printed, the wait is bounded, and the fix is named', async (t) => {
  const home = makeHome(t, undefined, { DISPLAY: '' });
  const port = await freePort();
  const result = await runCommand(['login', '--demo', '--port', String(port), '--timeout', '1', '--no-browser'], home.env);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /\n {2}http:\/\/127\.0\.0\.1:\d+\/authorize\?response_type=code&client_id=demo-client-id&\S+\n/);
  assert.match(result.stderr, /a text browser on this machine works too/);
  assert.match(result.stderr, /ssh -L \d+:127\.0\.0\.1:\d+ -L \d+:127\.0\.0\.1:\d+ <this host>/);
  assert.match(result.stderr, /No answer from the browser within 1 s\. Run `yandex-token login --demo` again and open the printed URL in a browser on this machine/);
  assert.ok(!existsSync(home.configFile), 'nothing stored');
});

test('login --demo on a machine with no display and no BROWSER plays the browser itself and succeeds', async (t) => {
  const home = makeHome(t);
  delete home.env.BROWSER;
  const port = await freePort();
  const result = await runCommand(['login', '--demo', '--port', String(port)], home.env);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /the demo plays the browser itself/);
  assert.match(result.stderr, /Logged in as demo\.user\./);
  assert.match(result.stderr, /not a real Yandex token/);
  const print = await runCommand(['print', '--profile', 'demo'], home.env);
  assert.match(print.stdout, /^y0_emu_\S+\n$/);
});

test('login --demo --device: the device login against the emulator, the code entered by the demo itself on a machine with no display', async (t) => {
  const home = makeHome(t);
  delete home.env.BROWSER;
  const result = await runCommand(['login', '--demo', '--device'], home.env, { clock: testClock() });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /the real device login/);
  assert.match(result.stderr, /the demo plays the person too: it enters the code at the device page/);
  assert.match(result.stderr, /To log in, open http:\/\/127\.0\.0\.1:\d+\/device in a browser on any device and enter this code:/);
  assert.match(result.stderr, /Logged in as demo\.user\./);
  const stored = JSON.parse(readFileSync(home.configFile, 'utf8'));
  assert.equal(stored.profiles.demo.demo, true);
  assert.ok(stored.profiles.demo.deviceId, 'a device login stores its device');
});

test('login --demo refuses what takes two runs or needs a real app\'s pages: --no-wait, --poll, --no-localhost', async (t) => {
  const home = makeHome(t);
  for (const [flags, sentence] of [
    [['--device', '--no-wait'], /--no-wait takes two runs, and the demo's emulator lives only as long as one `login --demo`: try `login --demo --device`/],
    [['--device', '--poll'], /--poll takes two runs/],
    [['--no-localhost'], /--no-localhost is not part of the demo/],
  ] as const) {
    const result = await runCommand(['login', '--demo', ...flags], home.env);
    assert.equal(result.code, 1, flags.join(' '));
    assert.match(result.stderr, sentence);
    assert.ok(!existsSync(home.configFile), 'nothing stored');
  }
});

test('login --demo refuses client credentials', async (t) => {
  const home = makeHome(t);
  const result = await runCommand(['login', '--demo', '--client-id', 'x'], home.env);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /--demo logs in to the built-in emulator's demo app: drop --client-id and --client-secret/);
});

test('a user script: `yandex-token emulator --json`, login against it, then print feeds curl', async (t) => {
  if (!requireProgram(t, '/usr/bin/curl', 'apt-get install curl')) return;
  const home = makeHome(t);
  const bin = join(home.dir, 'bin');
  mkdirSync(bin);
  symlinkSync(BIN, join(bin, 'yandex-token'));
  const env = {
    ...browserEnv(home),
    PATH: `${bin}:${dirname(process.execPath)}:${home.env.PATH}`,
    CALLBACK_PORT: String(await freePort()),
  };
  const child = spawn('bash', [join(ROOT, 'test', 'support', 'emulator-user-script.sh')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(killer);
  assert.equal(code, 0, `stdout:\n${stdout}\nstderr:\n${stderr}`);
  assert.equal(stdout, 'token works for demo.user\n');
  assert.match(stderr, /Logged in as demo\.user/);
});
