// A stored token remembers who issued it: a `login --demo` token is never sent anywhere, and a login made
// against an emulator (YANDEX_OAUTH_URL) keeps talking to that emulator until the environment says otherwise.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { test, type TestContext } from 'node:test';
import { browserEnv, credentials, fakeYandex, freePort, makeHome, type Home } from './support/harness.ts';
import { runCommand } from './support/in-process.ts';

/** A TCP listener named as every proxy: any request that leaves the process (to Yandex or elsewhere) lands here. */
async function requestTrap(t: TestContext): Promise<{ env: Record<string, string>; connections: () => number }> {
  let count = 0;
  const server: Server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  return { env: { HTTPS_PROXY: url, HTTP_PROXY: url, NO_PROXY: '' }, connections: () => count };
}

function stored(home: Home): { profiles: Record<string, Record<string, unknown>> } {
  return JSON.parse(readFileSync(home.configFile, 'utf8'));
}

test('login --demo, then status, refresh, print and logout make no request to anywhere', async (t) => {
  const home = makeHome(t);
  const port = await freePort();
  const login = await runCommand(['login', '--demo', '--port', String(port)], browserEnv(home));
  assert.equal(login.code, 0, login.stderr);
  const record = stored(home).profiles.demo!;
  assert.equal(record.demo, true);
  assert.match(String(record.oauthUrl), /^http:\/\/127\.0\.0\.1:\d+$/, 'the emulator it came from is kept');

  const trap = await requestTrap(t);
  // No YANDEX_* at all: as a newcomer's shell after the README's first command.
  const env = { ...home.env, ...trap.env };

  const status = await runCommand(['status'], env);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stderr, /Profile demo: demo token from `login --demo`, not a real Yandex token \(not checked: its emulator has stopped\)/);
  assert.match(status.stderr, /Renewal +not possible: demo tokens cannot be renewed/);
  assert.doesNotMatch(status.stderr, /could not be reached|rejected/);

  const json = await runCommand(['status', '--json'], env);
  assert.equal(json.code, 0, json.stderr);
  const [entry] = JSON.parse(json.stdout).profiles;
  assert.equal(entry.profile, 'demo');
  assert.equal(entry.state, 'demo');
  assert.equal(entry.demo, true);
  assert.equal(entry.refreshable, false);
  assert.match(entry.message, /not a real Yandex token/);
  // Its server is the emulator that issued it, whatever YANDEX_OAUTH_URL now names.
  assert.equal(entry.server, record.oauthUrl);
  const elsewhere = await runCommand(['status', '--json'], { ...env, YANDEX_OAUTH_URL: 'http://127.0.0.1:9' });
  assert.equal(JSON.parse(elsewhere.stdout).profiles[0].server, record.oauthUrl);

  const print = await runCommand(['print', '--profile', 'demo'], env);
  assert.equal(print.code, 0, print.stderr);
  assert.equal(print.stdout, `${record.accessToken}\n`);
  assert.equal(print.stderr, '');

  const refresh = await runCommand(['refresh', '--profile', 'demo'], env);
  assert.equal(refresh.code, 4);
  assert.match(refresh.stderr, /is a demo token from the built-in emulator, which has stopped, so it cannot be refreshed\. Run `yandex-token login --demo` again\./);
  assert.equal(stored(home).profiles.demo!.accessToken, record.accessToken, 'the record is left as it was');

  const logout = await runCommand(['logout', '--profile', 'demo'], env);
  assert.equal(logout.code, 0, logout.stderr);
  assert.equal(logout.stderr.trim().split('\n').length, 1, `one plain line: ${logout.stderr}`);
  assert.match(logout.stderr, /^Forgot the demo token \(profile "demo"\): it was removed from .*config\.json \(there was nothing to revoke\)\.\n$/);
  assert.deepEqual(stored(home).profiles, {});

  assert.equal(trap.connections(), 0, 'no request left the process');
});

test('an expired demo token: status and print say to run login --demo again, still without a request', async (t) => {
  const home = makeHome(t);
  const port = await freePort();
  const login = await runCommand(['login', '--demo', '--port', String(port), '--profile', 'try'], browserEnv(home));
  assert.equal(login.code, 0, login.stderr);
  const data = stored(home);
  data.profiles.try!.expiresAt = new Date(Date.now() - 60_000).toISOString();
  writeFileSync(home.configFile, JSON.stringify(data), { mode: 0o600 });

  const trap = await requestTrap(t);
  const env = { ...home.env, ...trap.env };
  const status = await runCommand(['status', '--json', '--profile', 'try'], env);
  assert.equal(status.code, 4);
  const [entry] = JSON.parse(status.stdout).profiles;
  assert.equal(entry.state, 'expired');
  assert.match(entry.message, /Run `yandex-token login --demo --profile try` again\./);
  const print = await runCommand(['print', '--profile', 'try'], env);
  assert.equal(print.code, 4);
  assert.match(print.stderr, /cannot be refreshed\. Run `yandex-token login --demo --profile try` again\./);
  assert.equal(trap.connections(), 0, 'no request left the process');
});

test('a login against an emulator keeps using it without YANDEX_OAUTH_URL; an explicit YANDEX_OAUTH_URL wins', async (t) => {
  const emulator = await fakeYandex(t);
  const home = makeHome(t, emulator);
  const port = await freePort();
  const login = await runCommand(['login', ...credentials(), '--port', String(port)], browserEnv(home));
  assert.equal(login.code, 0, login.stderr);
  const record = stored(home).profiles.default!;
  assert.equal(record.oauthUrl, emulator.url);
  assert.equal(record.loginUrl, emulator.url);
  assert.equal(record.demo, undefined);

  const trap = await requestTrap(t);
  const { YANDEX_OAUTH_URL: _o, YANDEX_LOGIN_URL: _l, ...plain } = home.env;
  // The emulator is on loopback: let it through the trap's proxy, so only a request elsewhere is counted.
  const env = { ...plain, ...trap.env, NO_PROXY: '127.0.0.1' };

  const status = await runCommand(['status', '--json'], env);
  assert.equal(status.code, 0, status.stderr);
  const [entry] = JSON.parse(status.stdout).profiles;
  assert.equal(entry.state, 'valid', 'checked against the emulator that issued it');
  assert.equal(entry.login, 'demo.user');
  assert.equal(entry.server, emulator.url);
  const human = await runCommand(['status'], env);
  assert.match(human.stderr, new RegExp(`^ {2}Server {5}${emulator.url.replace(/\./g, '\\.')} \\(not Yandex\\)$`, 'm'));

  const refresh = await runCommand(['refresh'], env);
  assert.equal(refresh.code, 0, refresh.stderr);
  assert.match(refresh.stderr, /Refreshed the token for/);
  assert.equal(trap.connections(), 0, 'nothing went to Yandex');

  // Another server named explicitly: it is asked instead, and it does not know the token.
  const other = await fakeYandex(t);
  const overridden = await runCommand(['status', '--json'], { ...env, YANDEX_OAUTH_URL: other.url, YANDEX_LOGIN_URL: other.url });
  assert.equal(overridden.code, 4, overridden.stderr);
  assert.equal(JSON.parse(overridden.stdout).profiles[0].state, 'rejected');
  assert.equal(JSON.parse(overridden.stdout).profiles[0].server, other.url);

  const logout = await runCommand(['logout'], env);
  assert.equal(logout.code, 0, logout.stderr);
  assert.match(logout.stderr, /the token was revoked at Yandex and removed/);
  assert.equal(trap.connections(), 0, 'nothing went to Yandex');
});
