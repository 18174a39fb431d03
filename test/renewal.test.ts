// A token's year, as Yandex documents it: its refresh token dies with the access token, so print renews a
// token 90 days after it was obtained (or at three quarters of its lifetime), not at the last minute; a
// failed renewal of a token that still works is a warning, tried again an hour later; an expired token is
// one login away. Commands run in-process (a crowd of processes for the last test) against the emulator,
// which ends refresh tokens the same way.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { getToken, type TokenRecord } from 'yandex-token';
import type { Emulator } from '../src/emulator/index.ts';
import { fakeYandex, issuedRecord, makeHome, runCli, writeConfig, type Home } from './support/harness.ts';
import { runCommand } from './support/in-process.ts';

const DAY = 86_400_000;
const YEAR_S = 31_536_000;

/** A record as login stored it `ageDays` ago, for a year-long token the emulator issued then. */
function storedAged(yandex: Emulator, ageDays: number): TokenRecord {
  // The emulator issues it now with what is left of its year; its refresh token dies with it, as at Yandex.
  const left = YEAR_S - ageDays * 86_400;
  return issuedRecord(yandex, {
    expiresInMs: left * 1000,
    ageMs: ageDays * DAY,
    issue: { expiresIn: Math.max(left, 0), deviceId: 'yt-renewal-device' },
    record: { tokenType: 'bearer', login: 'demo.user', deviceId: 'yt-renewal-device' },
  });
}

function stored(home: Home, profile = 'default'): TokenRecord {
  return (JSON.parse(readFileSync(home.configFile, 'utf8')) as { profiles: Record<string, TokenRecord> }).profiles[profile]!;
}

const tokenRequests = (yandex: Emulator) => yandex.requests.filter((r) => r.path === '/token').length;

test('a token 91 days old: print renews it once (same access token, new refresh token, a new year), then leaves it alone', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const old = storedAged(yandex, 91);
  writeConfig(home, { default: old });

  const print = await runCommand(['print'], home.env);
  assert.equal(print.code, 0, print.stderr);
  assert.equal(print.stderr, '');
  assert.equal(tokenRequests(yandex), 1);
  const renewed = stored(home);
  // As recorded from real Yandex: the access token may stay, the refresh token rotates, the lifetime restarts.
  assert.equal(print.stdout, `${renewed.accessToken}\n`);
  assert.equal(renewed.accessToken, old.accessToken);
  assert.notEqual(renewed.refreshToken, old.refreshToken);
  assert.ok(Date.now() - Date.parse(renewed.obtainedAt) < 60_000, 'renewed now');
  assert.ok(Math.abs(Date.parse(renewed.expiresAt!) - (Date.now() + YEAR_S * 1000)) < 60_000, 'a year from now');

  const again = await runCommand(['print'], home.env);
  assert.equal(again.stdout, print.stdout);
  assert.equal(tokenRequests(yandex), 1, 'not due again for 90 days');

  const status = await runCommand(['status', '--json'], home.env);
  const entry = JSON.parse(status.stdout).profiles[0];
  assert.ok(Math.abs(Date.parse(entry.renewAt) - (Date.now() + 90 * DAY)) < 60_000, `next renewal in 90 days: ${entry.renewAt}`);
});

test('a token 60 days old is not renewed: no request, nothing written, nothing said', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const record = storedAged(yandex, 60);
  writeConfig(home, { default: record });
  const before = readFileSync(home.configFile, 'utf8');
  const print = await runCommand(['print'], home.env);
  assert.equal(print.code, 0, print.stderr);
  assert.equal(print.stdout, `${record.accessToken}\n`);
  assert.equal(print.stderr, '');
  assert.equal(tokenRequests(yandex), 0);
  assert.equal(readFileSync(home.configFile, 'utf8'), before);

  const status = await runCommand(['status'], home.env);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stderr, /Renewal +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in 30 days\), by the first print after that/);
});

test('20 prints in a loop while renewal fails: each prints the token with one warning line, and Yandex sees one request', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const record = storedAged(yandex, 91);
  writeConfig(home, { default: record });
  yandex.fail('/token', 'server-error');

  for (let i = 0; i < 20; i++) {
    const print = await runCommand(['print'], home.env);
    assert.equal(print.code, 0, print.stderr);
    assert.equal(print.stdout, `${record.accessToken}\n`);
    assert.equal(print.stderr.split('\n').length, 2, `one warning line: ${print.stderr}`);
    assert.match(
      print.stderr,
      i === 0
        ? /^Warning: Could not renew the token, which still works until .* UTC; the next attempt is in an hour\. .*HTTP 503/
        : /^Warning: The token is due for renewal, but the last attempt failed; the next is after .* UTC\. It still works until .*; `yandex-token refresh` tries now and says why\.\n$/,
    );
  }
  assert.equal(tokenRequests(yandex), 1, 'one attempt an hour');
  const noted = stored(home);
  assert.equal(noted.refreshToken, record.refreshToken, 'the tokens kept');
  assert.ok(noted.renewalFailedAt, 'the failure noted');

  const status = await runCommand(['status'], home.env);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stderr, /Renewal +due; the last attempt failed, the next is after /);

  // `refresh` does not wait for the hour, and a renewal clears the note.
  yandex.clearFailures();
  const refresh = await runCommand(['refresh'], home.env);
  assert.equal(refresh.code, 0, refresh.stderr);
  assert.equal(tokenRequests(yandex), 2);
  assert.equal(stored(home).renewalFailedAt, undefined);
  assert.notEqual(stored(home).refreshToken, record.refreshToken);
});

test('an expired token: print tries one renewal, then says to log in again (exit 4); status says expired (exit 4) without asking', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const record = storedAged(yandex, 366);
  const other = storedAged(yandex, 1);
  writeConfig(home, { default: record, other });

  const status = await runCommand(['status', '--profile', 'default'], home.env);
  assert.equal(status.code, 4);
  assert.match(status.stderr, /Profile default: expired\n/);
  assert.match(status.stderr, /The token has expired\. Run `yandex-token login` again\.\n$/);
  assert.equal(yandex.requests.length, 0, 'status asks nobody about an expired token');

  const print = await runCommand(['print'], home.env);
  assert.equal(print.code, 4);
  assert.equal(print.stdout, '');
  assert.equal(print.stderr, 'The token has expired, and Yandex refused to renew it (invalid_grant: Invalid refresh token). Run `yandex-token login` again.\n');
  assert.equal(tokenRequests(yandex), 1, 'one attempt: it may work');

  // Within the hour, no second request: the same answer at once.
  const again = await runCommand(['print'], home.env);
  assert.equal(again.code, 4);
  assert.match(again.stderr, /^The token has expired, and renewing it failed less than an hour ago\. Run `yandex-token login` again\. \(`yandex-token refresh` tries again now\.\)\n$/);
  assert.equal(tokenRequests(yandex), 1);

  const refresh = await runCommand(['refresh'], home.env);
  assert.equal(refresh.code, 4);
  assert.match(refresh.stderr, /^The token has expired, and Yandex refused to renew it/);
  assert.equal(tokenRequests(yandex), 2, '`refresh` always asks');
  assert.deepEqual(stored(home, 'other'), other, 'other profiles untouched');
  assert.equal(stored(home).refreshToken, record.refreshToken, 'the tokens kept');
});

test('an expired token whose refresh token still works (Yandex does not promise it dies) is renewed by print', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const old = issuedRecord(yandex, { expiresInMs: -DAY, ageMs: 366 * DAY, issue: { expiresIn: 0, refreshExpiresIn: 3600 } });
  writeConfig(home, { default: old });
  const print = await runCommand(['print'], home.env);
  assert.equal(print.code, 0, print.stderr);
  assert.equal(print.stdout, `${stored(home).accessToken}\n`);
  assert.notEqual(stored(home).accessToken, old.accessToken);
});

test('the Node API renews a due token as print does, and hands out a still-working one when renewal fails', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const record = storedAged(yandex, 91);
  writeConfig(home, { default: record, down: storedAged(yandex, 100) });

  assert.equal(await getToken({ env: home.env }), record.accessToken);
  assert.equal(tokenRequests(yandex), 1);
  assert.notEqual(stored(home).refreshToken, record.refreshToken);
  assert.ok(Date.now() - Date.parse(stored(home).obtainedAt) < 60_000);

  yandex.fail('/token', 'reset');
  assert.equal(await getToken({ env: home.env, profile: 'down' }), stored(home, 'down').accessToken);
  assert.equal(await getToken({ env: home.env, profile: 'down' }), stored(home, 'down').accessToken);
  assert.equal(tokenRequests(yandex), 2, 'the failed attempt is not repeated within the hour');
});

test('a crowd of 30 prints on one expired token, with Yandex slow to answer: one renewal, the same token, no talk of killed runs', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, { default: issuedRecord(yandex, { expiresInMs: -1000, ageMs: 366 * DAY, issue: { expiresIn: 0, refreshExpiresIn: 3600 } }) });
  // Long enough for the waiters' 2-second notice.
  yandex.slow(2_500);
  const results = await Promise.all(Array.from({ length: 30 }, () => runCli(['print'], home.env, { timeoutMs: 60_000 })));
  const renewed = stored(home);
  for (const result of results) {
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${renewed.accessToken}\n`);
    assert.doesNotMatch(result.stderr, /killed/, 'nothing was killed');
    assert.match(result.stderr, /^(|Warning: Waiting for another yandex-token to finish with \S+config\.json\.\n)$/);
  }
  assert.ok(results.some((r) => r.stderr.includes('Waiting for another')), 'the waiters said why they wait');
  assert.equal(tokenRequests(yandex), 1, 'one renewal between them');
  assert.ok(!existsSync(`${home.configFile}.lock`));
});
