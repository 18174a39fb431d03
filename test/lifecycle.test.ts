// The token's life after login, in-process where a process shows nothing more: refresh (also across 20 processes at
// once), status, logout with revocation, profiles, the YANDEX_TOKEN override and print's output forms.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Emulator } from '../src/emulator/index.ts';
import type { TokenRecord } from '../src/token/record.ts';
import { browserEnv, credentials, DEMO_CLIENT, fakeYandex, freePort, makeHome, writeConfig, ROOT, runCli, type Home } from './support/harness.ts';
import { runCommand } from './support/in-process.ts';

const HOUR = 3600 * 1000;

interface Setup {
  /** Where the stored expiry lies from now, in ms (negative: already expired). */
  expiresInMs?: number;
  /** Issue a device-bound token (revocable by the app). */
  device?: boolean;
  refreshToken?: boolean;
  clientSecret?: boolean;
  scope?: string;
}

/** A record as login would store it, for a token the emulator really issued. */
function storedRecord(yandex: Emulator, setup: Setup = {}): TokenRecord {
  const deviceId = setup.device === false ? undefined : 'yt-test-device-0001';
  const issued = yandex.issueToken({ expiresIn: 3600, deviceId, deviceName: deviceId ? 'test box' : undefined, scope: setup.scope });
  const record: TokenRecord = {
    accessToken: issued.access_token,
    tokenType: 'bearer',
    expiresAt: new Date(Date.now() + (setup.expiresInMs ?? HOUR)).toISOString(),
    clientId: DEMO_CLIENT.id,
    login: 'demo.user',
    obtainedAt: new Date(Date.now() - HOUR).toISOString(),
  };
  if (setup.refreshToken !== false) record.refreshToken = issued.refresh_token;
  if (setup.clientSecret !== false) record.clientSecret = DEMO_CLIENT.secret;
  if (setup.scope) record.scope = setup.scope;
  if (deviceId) Object.assign(record, { deviceId, deviceName: 'test box' });
  return record;
}

/** The file after a failed renewal: every token as it was, only the failure noted in the named profiles. */
function assertKeptNoting(home: Home, before: string, noted: string[]): void {
  const then = JSON.parse(before) as { profiles: Record<string, TokenRecord> };
  const now = readConfig(home);
  for (const [name, record] of Object.entries(now.profiles)) {
    const { renewalFailedAt, renewalRefused: _refused, ...rest } = record;
    assert.deepEqual(rest, then.profiles[name], `profile ${name} kept its tokens`);
    assert.equal(renewalFailedAt !== undefined, noted.includes(name), `profile ${name}: the failure noted or not`);
  }
}

function readConfig(home: Home): { profiles: Record<string, TokenRecord> } {
  return JSON.parse(readFileSync(home.configFile, 'utf8'));
}

/** Whether Yandex (the emulator) accepts the token at /info. */
async function accepted(yandex: Emulator, token: string): Promise<boolean> {
  const response = await fetch(`${yandex.url}/info?format=json`, { headers: { authorization: `OAuth ${token}` } });
  await response.arrayBuffer();
  return response.status === 200;
}

async function closedUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

// ---------------------------------------------------------------------------------------------------
// Refresh

test('print refreshes an expired token, stores the new pair in one write, and prints the new token', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const old = storedRecord(yandex, { expiresInMs: -HOUR, scope: 'cloud_api:disk.read' });
  writeConfig(home, { default: old });

  const print = await runCommand(['print'], home.env);
  assert.equal(print.code, 0, print.stderr);
  assert.equal(print.stderr, '');
  assert.equal(yandex.counts['token:refresh_token'], 1);
  const refresh = yandex.requests.find((r) => r.path === '/token')!;
  assert.equal(refresh.form.grant_type, 'refresh_token');
  assert.equal(refresh.form.refresh_token, old.refreshToken);
  assert.equal(refresh.form.client_id, DEMO_CLIENT.id);
  assert.equal(refresh.form.client_secret, DEMO_CLIENT.secret);

  const stored = readConfig(home).profiles.default!;
  assert.equal(print.stdout, `${stored.accessToken}\n`);
  assert.notEqual(stored.accessToken, old.accessToken);
  assert.ok(stored.refreshToken && stored.refreshToken !== old.refreshToken, 'the rotated refresh token is kept');
  assert.ok(Date.parse(stored.expiresAt!) > Date.now() + 300 * 24 * HOUR);
  for (const key of ['clientId', 'clientSecret', 'login', 'scope', 'deviceId', 'deviceName'] as const) {
    assert.equal(stored[key], old[key], `${key} is kept`);
  }
  assert.equal(statSync(home.configFile).mode & 0o777, 0o600);
  assert.ok(!existsSync(`${home.configFile}.lock`), 'the lock is released');
  assert.ok(await accepted(yandex, stored.accessToken));

  // The next print finds a fresh token and asks Yandex nothing.
  const again = await runCommand(['print'], home.env);
  assert.equal(again.stdout, print.stdout);
  assert.equal(yandex.counts['token:refresh_token'], 1);
});

test('print renews a token three quarters through its lifetime, and leaves an earlier one alone', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  // Both were obtained an hour ago: one has 30 s of its lifetime left, the other 4 hours (a fifth used).
  const soon = storedRecord(yandex, { expiresInMs: 30_000 });
  const later = storedRecord(yandex, { expiresInMs: 4 * HOUR });
  writeConfig(home, { default: soon, later });

  const first = await runCommand(['print'], home.env);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(yandex.counts['token:refresh_token'], 1);
  assert.equal(first.stdout, `${readConfig(home).profiles.default!.accessToken}\n`);

  const second = await runCommand(['print', '--profile', 'later'], home.env);
  assert.equal(second.stdout, `${later.accessToken}\n`);
  assert.equal(yandex.counts['token:refresh_token'], 1);
});

test('20 print processes on one expired token: all exit 0 with the same token, and Yandex sees one refresh', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const old = storedRecord(yandex, { expiresInMs: -HOUR });
  writeConfig(home, { default: old });

  const results = await Promise.all(Array.from({ length: 20 }, () => runCli(['print'], home.env, { timeoutMs: 90_000 })));
  for (const result of results) assert.equal(result.code, 0, result.stderr);
  const tokens = new Set(results.map((r) => r.stdout));
  assert.equal(tokens.size, 1, `every print wrote the same token, got ${[...tokens].join(', ')}`);
  assert.equal(yandex.counts['token:refresh_token'], 1, 'exactly one refresh');
  const stored = readConfig(home).profiles.default!;
  assert.equal(results[0]!.stdout, `${stored.accessToken}\n`);
  assert.notEqual(stored.accessToken, old.accessToken);
  assert.ok(await accepted(yandex, stored.accessToken));
  assert.ok(!existsSync(`${home.configFile}.lock`));
});

test('a refresh token Yandex refuses: exit 4, a sentence to log in again, the record kept', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, { default: storedRecord(yandex, { expiresInMs: -HOUR }), work: storedRecord(yandex, { expiresInMs: -HOUR }) });
  yandex.revokeAll();
  const before = readFileSync(home.configFile, 'utf8');

  const print = await runCommand(['print'], home.env);
  assert.equal(print.code, 4);
  assert.equal(print.stdout, '');
  assert.match(print.stderr, /^The token has expired, and Yandex refused to renew it \(invalid_grant: Invalid refresh token\)\. Run `yandex-token login` again\.\n$/);
  const work = await runCommand(['print', '--profile', 'work'], home.env);
  assert.equal(work.code, 4);
  assert.match(work.stderr, /\(profile "work"\).*Run `yandex-token login --profile work` again\./);
  assertKeptNoting(home, before, ['default', 'work']);
});

test('an expired token without a refresh token or client secret: exit 4, record kept', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, {
    default: storedRecord(yandex, { expiresInMs: -HOUR, refreshToken: false }),
    nosecret: storedRecord(yandex, { expiresInMs: -HOUR, clientSecret: false }),
  });
  const before = readFileSync(home.configFile, 'utf8');
  const noRefresh = await runCommand(['print'], home.env);
  assert.equal(noRefresh.code, 4);
  assert.match(noRefresh.stderr, /has expired and no refresh token is stored.*Run `yandex-token login` again\./);
  const noSecret = await runCommand(['print', '--profile', 'nosecret'], home.env);
  assert.equal(noSecret.code, 4);
  assert.match(noSecret.stderr, /No client secret is stored \(profile "nosecret"\).*yandex-token login --profile nosecret/);
  assert.equal(readFileSync(home.configFile, 'utf8'), before);
  assert.equal(yandex.counts['token:refresh_token'] ?? 0, 0);
});

test('Yandex unreachable during a renewal: an expired token exits 4, a due one that still works is printed with a warning', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const soon = storedRecord(yandex, { expiresInMs: 40_000 });
  writeConfig(home, { default: storedRecord(yandex, { expiresInMs: -HOUR }), soon });
  const before = readFileSync(home.configFile, 'utf8');
  const env = { ...home.env, YANDEX_OAUTH_URL: await closedUrl() };

  const expired = await runCommand(['print'], env);
  assert.equal(expired.code, 4);
  assert.equal(expired.stdout, '');
  assert.match(
    expired.stderr,
    /^The token has expired, and renewing it failed: Could not reach http:\/\/127\.0\.0\.1:\d+ while refreshing the token: the connection was refused\..* Once that is fixed, `yandex-token refresh` may still renew it; otherwise run `yandex-token login` again\.\n$/,
  );

  const early = await runCommand(['print', '--profile', 'soon'], env);
  assert.equal(early.code, 0, early.stderr);
  assert.equal(early.stdout, `${soon.accessToken}\n`);
  assert.match(early.stderr, /^Warning: Could not renew the token \(profile "soon"\), which still works until .* UTC; the next attempt is in an hour\. Could not reach/);
  assert.equal(early.stderr.split('\n').length, 2, 'one line');
  assertKeptNoting(home, before, ['default', 'soon']);
});

test('`refresh` renews a fresh token now: a new refresh token is stored, stdout stays empty', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const issued = yandex.issueToken({ deviceId: 'yt-test-device-0001' });
  const old: TokenRecord = {
    accessToken: issued.access_token,
    refreshToken: issued.refresh_token,
    expiresAt: new Date(Date.now() + issued.expires_in * 1000).toISOString(),
    clientId: DEMO_CLIENT.id,
    clientSecret: DEMO_CLIENT.secret,
    login: 'demo.user',
    obtainedAt: new Date().toISOString(),
  };
  writeConfig(home, { default: old });

  const refresh = await runCommand(['refresh'], home.env);
  assert.equal(refresh.code, 0, refresh.stderr);
  assert.equal(refresh.stdout, '');
  assert.match(refresh.stderr, /^Refreshed the token for demo\.user\. It expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in 36[45] days\)\.\n$/);
  assert.equal(yandex.counts['token:refresh_token'], 1);
  const stored = readConfig(home).profiles.default!;
  // Yandex may keep the access token and rotate only the refresh token: both are stored as given.
  assert.equal(stored.accessToken, old.accessToken);
  assert.notEqual(stored.refreshToken, old.refreshToken);

  // The old refresh token died with the rotation; the stored one still works.
  const second = await runCommand(['refresh'], home.env);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(yandex.counts['token:refresh_token'], 2);

  const nobody = await runCommand(['refresh', '--profile', 'nobody'], home.env);
  assert.equal(nobody.code, 4);
  assert.match(nobody.stderr, /Not logged in \(profile "nobody"\)\. Run `yandex-token login --profile nobody` first\./);
  const noRefresh = makeHome(t, yandex);
  writeConfig(noRefresh, { default: storedRecord(yandex, { refreshToken: false }) });
  const cannot = await runCommand(['refresh'], noRefresh.env);
  assert.equal(cannot.code, 4);
  assert.match(cannot.stderr, /No refresh token is stored, so the token cannot be refreshed\. Run `yandex-token login` again\./);
});

test('after a real login with a short-lived token, print renews it once three quarters of its lifetime have passed', async (t) => {
  const yandex = await fakeYandex(t, { tokenLifetimeSeconds: 30 });
  const home = makeHome(t, yandex);
  const login = await runCommand(['login', ...credentials(), '--port', String(await freePort())], browserEnv(home));
  assert.equal(login.code, 0, login.stderr);
  const first = readConfig(home).profiles.default!;
  assert.equal((await runCommand(['print'], home.env)).stdout, `${first.accessToken}\n`, 'not due yet');
  assert.equal(yandex.counts['token:refresh_token'] ?? 0, 0);
  // 25 of its 30 seconds later (the record says so): past three quarters of its lifetime, so due.
  const earlier = (iso: string) => new Date(Date.parse(iso) - 25_000).toISOString();
  writeConfig(home, { default: { ...first, obtainedAt: earlier(first.obtainedAt), expiresAt: earlier(first.expiresAt!) } });
  const print = await runCommand(['print'], home.env);
  assert.equal(print.code, 0, print.stderr);
  assert.equal(yandex.counts['token:refresh_token'], 1);
  const stored = readConfig(home).profiles.default!;
  assert.equal(print.stdout, `${stored.accessToken}\n`);
  assert.notEqual(stored.refreshToken, first.refreshToken);
  assert.ok(await accepted(yandex, stored.accessToken));
});

// ---------------------------------------------------------------------------------------------------
// Status

test('status of a valid token: account, profile, client id, expiry, scopes and file on stderr; exit 0', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, { default: storedRecord(yandex, { scope: 'cloud_api:disk.read' }) });
  const status = await runCommand(['status'], home.env);
  assert.equal(status.code, 0, status.stderr);
  assert.equal(status.stdout, '');
  assert.match(status.stderr, /Profile default: valid/);
  assert.match(status.stderr, /Account +demo\.user/);
  assert.match(status.stderr, /Client ID +demo-client-id/);
  assert.match(status.stderr, /Expires +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in \d+ minutes\)/);
  assert.match(status.stderr, /Scopes +cloud_api:disk\.read/);
  assert.ok(status.stderr.includes(`Config file: ${home.configFile}`));
  assert.equal(yandex.counts.info, 1);
  const info = yandex.requests.find((r) => r.path === '/info')!;
  assert.equal(info.query.format, 'json');
  assert.match(info.authorization!, /^OAuth y0_emu_/);
  assert.ok(!status.stderr.includes('y0_emu_'), 'status never shows the token');

  const json = await runCommand(['status', '--json'], home.env);
  assert.equal(json.code, 0);
  const report = JSON.parse(json.stdout);
  assert.equal(report.configFile, home.configFile);
  assert.equal(report.profiles.length, 1);
  const entry = report.profiles[0];
  assert.deepEqual(Object.keys(entry).sort(), [
    'clientId', 'demo', 'expiresAt', 'expiresInSeconds', 'login', 'message', 'pendingDeviceLogin', 'profile', 'refreshable', 'renewAt', 'renewalFailedAt', 'renewalRefused',
    'scope', 'server', 'settings', 'source', 'state',
  ]);
  assert.equal(entry.profile, 'default');
  assert.equal(entry.source, 'config');
  assert.equal(entry.pendingDeviceLogin, null);
  assert.equal(entry.state, 'valid');
  assert.equal(entry.login, 'demo.user');
  assert.equal(entry.clientId, DEMO_CLIENT.id);
  assert.equal(entry.scope, 'cloud_api:disk.read');
  assert.equal(entry.refreshable, true);
  assert.equal(entry.renewalFailedAt, null);
  // Obtained an hour ago, expiring in an hour: due at three quarters of its two hours.
  assert.ok(Math.abs(Date.parse(entry.renewAt) - (Date.now() + HOUR / 2)) < 60_000, entry.renewAt);
  assert.match(status.stderr, /Renewal +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in \d+ minutes\), by the first print after that/);
  assert.equal(entry.message, null);
  assert.ok(entry.expiresInSeconds > 3000 && entry.expiresInSeconds <= 3600);
  assert.ok(!json.stdout.includes('y0_emu_'));
});

test('status of a token Yandex rejects says so, exit 4', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, { default: storedRecord(yandex) });
  yandex.revokeAll();
  const status = await runCommand(['status'], home.env);
  assert.equal(status.code, 4);
  assert.match(status.stderr, /Profile default: rejected by Yandex/);
  assert.match(status.stderr, /Yandex rejected the token: it was revoked .* Run `yandex-token login` again\.\n$/);
  const json = await runCommand(['status', '--json'], home.env);
  assert.equal(json.code, 4);
  assert.equal(JSON.parse(json.stdout).profiles[0].state, 'rejected');
});

test('status when Yandex is unreachable says so, exit 1', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, { default: storedRecord(yandex) });
  const status = await runCommand(['status'], { ...home.env, YANDEX_LOGIN_URL: await closedUrl() });
  assert.equal(status.code, 1);
  assert.match(status.stderr, /not checked: Yandex could not be reached/);
  assert.match(status.stderr, /Could not reach http:\/\/127\.0\.0\.1:\d+ while fetching the account info: the connection was refused\./);
  yandex.fail('/info', 'server-error');
  const json = await runCommand(['status', '--json'], home.env);
  assert.equal(json.code, 1);
  const entry = JSON.parse(json.stdout).profiles[0];
  assert.equal(entry.state, 'unreachable');
  assert.match(entry.message, /HTTP 503/);
});

test('status when not logged in: exit 4; every profile without --profile, one with it', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const none = await runCommand(['status'], home.env);
  assert.equal(none.code, 4);
  assert.match(none.stderr, /Not logged in\. Run `yandex-token login` first\./);
  assert.ok(!existsSync(home.configDir), 'status writes nothing');

  writeConfig(home, {
    work: storedRecord(yandex),
    default: storedRecord(yandex),
    old: storedRecord(yandex, { expiresInMs: -HOUR }),
    dead: storedRecord(yandex, { expiresInMs: -HOUR, refreshToken: false }),
  });
  const all = await runCommand(['status', '--json'], home.env);
  assert.equal(all.code, 4, 'one profile cannot be used');
  const report = JSON.parse(all.stdout);
  assert.deepEqual(
    report.profiles.map((e: { profile: string; state: string }) => [e.profile, e.state]),
    [['default', 'valid'], ['dead', 'expired'], ['old', 'expired'], ['work', 'valid']],
  );
  assert.match(all.stderr, /2 profiles cannot be used \(dead, old\)/);
  assert.equal(yandex.counts.info, 2, 'expired tokens are not sent to Yandex');
  assert.deepEqual(report.profiles.map((e: { refreshable: boolean }) => e.refreshable), [true, false, false, true], 'an expired token is never called renewable');

  // Yandex ends the refresh token with the access token: an expired token needs a new login.
  const one = await runCommand(['status', '--profile', 'old'], home.env);
  assert.equal(one.code, 4);
  assert.match(one.stderr, /Profile old: expired\n/);
  assert.match(one.stderr, /Renewal +too late/);
  assert.match(one.stderr, /The token \(profile "old"\) has expired\. Run `yandex-token login --profile old` again\.\n$/);
  assert.ok(!one.stderr.includes('Profile default'));
  const byEnv = await runCommand(['status', '--json'], { ...home.env, YANDEX_TOKEN_PROFILE: 'work' });
  assert.deepEqual(JSON.parse(byEnv.stdout).profiles.map((e: { profile: string }) => e.profile), ['work']);
  const missing = await runCommand(['status', '--profile', 'nobody', '--json'], home.env);
  assert.equal(missing.code, 4);
  assert.equal(JSON.parse(missing.stdout).profiles[0].state, 'not-logged-in');
});

// ---------------------------------------------------------------------------------------------------
// Logout

test('logout revokes a device token at Yandex, removes the record, and is idempotent', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const record = storedRecord(yandex);
  const other = storedRecord(yandex);
  writeConfig(home, { default: record, other });

  const logout = await runCommand(['logout'], home.env);
  assert.equal(logout.code, 0, logout.stderr);
  assert.equal(logout.stdout, '');
  assert.ok(logout.stderr.includes(`Logged out demo.user: the token was revoked at Yandex and removed from ${home.configFile}.`), logout.stderr);
  assert.equal(yandex.counts.revoked, 1);
  const revoke = yandex.requests.find((r) => r.path === '/revoke_token')!;
  assert.equal(revoke.method, 'POST');
  assert.equal(revoke.form.access_token, record.accessToken);
  assert.equal(revoke.form.client_id, DEMO_CLIENT.id);
  assert.equal(revoke.form.client_secret, DEMO_CLIENT.secret);
  assert.equal(await accepted(yandex, record.accessToken), false, 'Yandex no longer accepts it');
  const stored = readConfig(home).profiles;
  assert.equal(stored.default, undefined);
  assert.equal(stored.other?.accessToken, other.accessToken, 'other profiles stay');
  assert.ok(await accepted(yandex, other.accessToken));

  const again = await runCommand(['logout'], home.env);
  assert.equal(again.code, 0);
  assert.match(again.stderr, /^Not logged in; nothing to do\.\n$/);
  assert.equal(yandex.counts.revoke, 1, 'nothing sent the second time');
  const print = await runCommand(['print'], home.env);
  assert.equal(print.code, 4);

  const fresh = makeHome(t, yandex);
  const never = await runCommand(['logout', '--profile', 'x'], fresh.env);
  assert.equal(never.code, 0);
  assert.match(never.stderr, /Not logged in \(profile "x"\); nothing to do\./);
  assert.ok(!existsSync(fresh.configDir), 'logging out when logged out writes nothing');
});

test('logout of a token not issued for a device: forgotten here, a warning naming the Yandex ID page, exit 0', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const record = storedRecord(yandex, { device: false });
  writeConfig(home, { default: record });
  const logout = await runCommand(['logout'], home.env);
  assert.equal(logout.code, 0, logout.stderr);
  assert.match(logout.stderr, /Warning: Yandex lets an app revoke only tokens issued for a device, and this one was not\. It was forgotten here but stays valid until it expires .* or until you revoke the app's access at https:\/\/id\.yandex\.ru\/personal\/data-access\./);
  assert.match(logout.stderr, /Logged out demo\.user: the token was removed from/);
  assert.equal(readConfig(home).profiles.default, undefined);
  assert.equal(yandex.counts.revoked ?? 0, 0);
  assert.ok(await accepted(yandex, record.accessToken), 'Yandex still accepts it, as the warning says');
});

test('logout when revocation fails (network, server error): a warning, the record removed, exit 0', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, { default: storedRecord(yandex), b: storedRecord(yandex) });
  const offline = await runCommand(['logout'], { ...home.env, YANDEX_OAUTH_URL: await closedUrl() });
  assert.equal(offline.code, 0, offline.stderr);
  assert.match(offline.stderr, /Warning: Could not revoke the token at Yandex\. Could not reach .* It was forgotten here/);
  assert.equal(readConfig(home).profiles.default, undefined);

  yandex.fail('/revoke_token', 'server-error');
  const broken = await runCommand(['logout', '--profile', 'b'], home.env);
  assert.equal(broken.code, 0, broken.stderr);
  assert.match(broken.stderr, /Warning: Could not revoke the token at Yandex\. .*HTTP 503/);
  assert.match(broken.stderr, /Logged out demo\.user \(profile "b"\)/);
  assert.deepEqual(readConfig(home).profiles, {});
});

// ---------------------------------------------------------------------------------------------------
// Profiles and the environment

test('profiles do not leak into each other: login, print, refresh and logout each touch only their own', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const login = await runCommand(['login', ...credentials(), '--port', String(await freePort()), '--profile', 'agency-client-1'], browserEnv(home));
  assert.equal(login.code, 0, login.stderr);
  const notDefault = await runCommand(['print'], home.env);
  assert.equal(notDefault.code, 4, 'the default profile is still empty');

  const config = readConfig(home);
  const client1 = config.profiles['agency-client-1']!;
  const client2 = storedRecord(yandex, { expiresInMs: -HOUR });
  writeConfig(home, { 'agency-client-1': client1, 'client.2': client2 });

  const byFlag = await runCommand(['print', '--profile', 'agency-client-1'], home.env);
  assert.equal(byFlag.stdout, `${client1.accessToken}\n`);
  const byEnv = await runCommand(['print'], { ...home.env, YANDEX_TOKEN_PROFILE: 'agency-client-1' });
  assert.equal(byEnv.stdout, `${client1.accessToken}\n`);
  const flagWins = await runCommand(['print', '--profile', 'client.2'], { ...home.env, YANDEX_TOKEN_PROFILE: 'agency-client-1' });
  assert.equal(flagWins.code, 0, flagWins.stderr);
  assert.notEqual(flagWins.stdout, byFlag.stdout);
  assert.equal(readConfig(home).profiles['agency-client-1']!.accessToken, client1.accessToken, 'refreshing client.2 left client 1 alone');

  const logout = await runCommand(['logout'], { ...home.env, YANDEX_TOKEN_PROFILE: 'client.2' });
  assert.equal(logout.code, 0, logout.stderr);
  assert.deepEqual(Object.keys(readConfig(home).profiles), ['agency-client-1']);

  const bad = await runCommand(['print'], { ...home.env, YANDEX_TOKEN_PROFILE: '../x' });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /YANDEX_TOKEN_PROFILE must be 1–64 letters/);
  const badFlag = await runCommand(['status', '--profile', '__proto__'], home.env);
  assert.equal(badFlag.code, 1);
});

test('YANDEX_TOKEN wins: print writes it and reads nothing; status says it comes from the environment', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  mkdirSync(home.configDir, { recursive: true });
  writeFileSync(home.configFile, '{ not json');
  const envToken = yandex.issueToken({}).access_token;
  const env = { ...home.env, YANDEX_TOKEN: envToken };

  const print = await runCli(['print'], env);
  assert.equal(print.code, 0, print.stderr);
  assert.equal(print.stdout, `${envToken}\n`);
  const json = await runCli(['print', '--json'], env);
  assert.deepEqual(JSON.parse(json.stdout), { token: envToken, expiresAt: null, login: null, scope: null, profile: null, source: 'environment' });
  const header = await runCli(['print', '--header', '--profile', 'whatever'], env);
  assert.equal(header.stdout, `Authorization: OAuth ${envToken}\n`);
  assert.equal(yandex.requests.length, 0, 'print asked Yandex nothing');

  const status = await runCli(['status'], env);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stderr, /Token from the environment \(YANDEX_TOKEN\): valid/);
  assert.match(status.stderr, /Account +demo\.user/);
  const statusJson = await runCli(['status', '--json'], env);
  const entry = JSON.parse(statusJson.stdout).profiles[0];
  assert.equal(entry.source, 'environment');
  assert.equal(entry.login, 'demo.user');
  const rejected = await runCli(['status'], { ...env, YANDEX_TOKEN: 'y0_not_a_token' });
  assert.equal(rejected.code, 4);
  assert.match(rejected.stderr, /Yandex rejected the token in YANDEX_TOKEN\. Replace it, or unset YANDEX_TOKEN/);
});

// ---------------------------------------------------------------------------------------------------
// Output forms and cost

test('print --json and --header', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const record = storedRecord(yandex, { scope: 'cloud_api:disk.read cloud_api:disk.info' });
  writeConfig(home, { default: record, bare: { accessToken: 'y0_bare', clientId: 'c', obtainedAt: new Date().toISOString() } });

  const json = await runCli(['print', '--json'], home.env);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), {
    token: record.accessToken,
    expiresAt: record.expiresAt,
    login: 'demo.user',
    scope: 'cloud_api:disk.read cloud_api:disk.info',
    profile: 'default',
    source: 'config',
  });
  const bare = await runCli(['print', '--json', '--profile', 'bare'], home.env);
  assert.deepEqual(JSON.parse(bare.stdout), { token: 'y0_bare', expiresAt: null, login: null, scope: null, profile: 'bare', source: 'config' });

  const header = await runCli(['print', '--header'], home.env);
  assert.equal(header.code, 0);
  assert.equal(header.stdout, `Authorization: OAuth ${record.accessToken}\n`);
  assert.equal(header.stderr, '');
  const bearer = await runCli(['print', '--header', 'bearer'], home.env);
  assert.equal(bearer.stdout, `Authorization: Bearer ${record.accessToken}\n`);

  const both = await runCli(['print', '--json', '--header'], home.env);
  assert.equal(both.code, 1);
  assert.match(both.stderr, /cannot be used with/);
  assert.equal(both.stdout, '');
});

test('print loads neither conf, the lock, prompts nor open unless a refresh is due; a renewal loads neither commander nor the full CLI', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, { default: storedRecord(yandex), old: storedRecord(yandex, { expiresInMs: -HOUR }) });
  const hook = pathToFileURL(join(ROOT, 'test', 'support', 'module-log.mjs')).href;
  const loaded = async (args: string[]) => {
    const log = join(home.dir, `modules-${args.join('-')}.log`);
    const result = await runCli(args, { ...home.env, NODE_OPTIONS: `--import=${hook}`, MODULE_LOG: log });
    assert.equal(result.code, 0, result.stderr);
    return readFileSync(log, 'utf8');
  };
  const heavy = /\/node_modules\/(conf|proper-lockfile|prompts|open|commander)\//;
  const fast = await loaded(['print']);
  assert.match(fast, /\/dist\/print\.cjs/, 'the hook saw the CLI load');
  assert.doesNotMatch(fast, heavy);
  assert.doesNotMatch(fast, /\/dist\/cli\.cjs/, 'print does not load the full CLI bundle');
  // conf and the lock are bundled into dist/direct.cjs (src/build.mjs): a renewal loads that and nothing else.
  const refreshing = await loaded(['print', '--profile', 'old']);
  assert.match(refreshing, /\/dist\/direct\.cjs/);
  assert.doesNotMatch(refreshing, /\/dist\/cli\.cjs|\/node_modules\//);
  assert.doesNotMatch(await loaded(['refresh', '--profile', 'old']), /\/dist\/cli\.cjs|\/node_modules\//);
});

test('--help of every new command names its options and exit codes', async (t) => {
  const home = makeHome(t);
  const top = await runCommand(['--help'], home.env);
  for (const command of ['status', 'refresh', 'logout']) assert.match(top.stdout, new RegExp(`^  ${command} `, 'm'));
  const status = await runCommand(['status', '--help'], home.env);
  assert.match(status.stdout, /--json/);
  assert.match(status.stdout, /--profile <name>/);
  assert.match(status.stdout, /1 {2}Yandex could not be reached/);
  for (const command of ['refresh', 'logout']) {
    const help = await runCommand([command, '--help'], home.env);
    assert.match(help.stdout, /--profile <name>/);
    assert.match(help.stdout, /4 {2}not logged in/);
  }
  const print = await runCommand(['print', '--help'], home.env);
  assert.match(print.stdout, /--json/);
  assert.match(print.stdout, /--header/);
  assert.match(print.stdout, /YANDEX_TOKEN/);
});

test('a write that waits for another run\'s lock says so after 2 s, then goes on when the lock is given back', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, { default: storedRecord(yandex) });
  const { lock } = await import('proper-lockfile');
  const release = await lock(home.configFile, { realpath: false, lockfilePath: `${home.configFile}.lock` });
  const held = setTimeout(() => void release(), 3_000);
  t.after(() => clearTimeout(held));
  const refresh = await runCli(['refresh'], home.env);
  assert.equal(refresh.code, 0, refresh.stderr);
  assert.match(refresh.stderr, /^Warning: Waiting for another yandex-token to finish with \S+config\.json\.$/m);
  assert.match(refresh.stderr, /Refreshed the token/);
  const quick = await runCli(['refresh'], home.env);
  assert.doesNotMatch(quick.stderr, /Waiting for another/);
});
