// The device login on a test clock: in-process, with the emulator and the CLI sharing one clock that moves
// only when the CLI sleeps, so Yandex's real 5-second interval and 5-minute codes cost no waiting at all.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { TokenRecord } from '../src/token/record.ts';
import { credentials, fakeYandex, makeHome } from './support/harness.ts';
import { devicePerson, runCommand, testClock } from './support/in-process.ts';

test("login --device at Yandex's 5 s interval: three polls, then allowed; no real wait", async (t) => {
  const clock = testClock();
  const yandex = await fakeYandex(t, { deviceIntervalSeconds: 5, deviceExpiresInSeconds: 300, now: clock.now });
  const home = makeHome(t, yandex);
  const fetch = devicePerson((code, polls) => {
    if (polls === 3) assert.ok(yandex.decideDevice(code, true));
  });
  const result = await runCommand(['login', '--device', ...credentials(), '--no-browser'], home.env, { clock, fetch });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /Logged in as demo\.user\./);
  const stored = (JSON.parse(readFileSync(home.configFile, 'utf8')) as { profiles: Record<string, TokenRecord> }).profiles.default!;
  assert.match(stored.accessToken, /^y0_/);
  // The polls kept the interval on the shared clock (the emulator would have said slow_down otherwise).
  const at = yandex.requests.filter((r) => r.path === '/token').map((r) => r.at);
  assert.equal(at.length, 3);
  for (let i = 1; i < at.length; i++) assert.ok(at[i]! - at[i - 1]! >= 5_000, `poll ${i} came ${at[i]! - at[i - 1]!} ms after the one before`);
});

test('login --device whose code is never entered: after its five minutes, exit 1 saying to start again; nothing stored', async (t) => {
  const clock = testClock();
  const yandex = await fakeYandex(t, { deviceIntervalSeconds: 5, deviceExpiresInSeconds: 300, now: clock.now });
  const home = makeHome(t, yandex);
  const result = await runCommand(['login', '--device', ...credentials(), '--no-browser'], home.env, { clock });
  assert.equal(result.code, 1, result.stderr);
  // Yandex says invalid_grant for an expired code (the emulator's default), or the clock runs out first.
  assert.match(result.stderr.trim().split('\n').at(-1)!, /(^The code expired|the code expired or was declined).*Run `yandex-token login --device` again/);
  assert.ok(!existsSync(home.configFile) || !readFileSync(home.configFile, 'utf8').includes('accessToken'), 'nothing stored');
  assert.ok(yandex.requests.filter((r) => r.path === '/token').length >= 50, 'it polled all along');
});

test('login --device --timeout 3: the wait ends after 3 s (not the code\'s five minutes), exit 1 naming --timeout; nothing stored', async (t) => {
  const clock = testClock();
  const start = clock.now();
  const yandex = await fakeYandex(t, { deviceIntervalSeconds: 5, deviceExpiresInSeconds: 300, now: clock.now });
  const home = makeHome(t, yandex);
  const result = await runCommand(['login', '--device', ...credentials(), '--no-browser', '--timeout', '3'], home.env, { clock });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /Waiting up to 3 s \(--timeout\) for access to be allowed/);
  assert.match(result.stderr.trim().split('\n').at(-1)!, /^The code was not entered within 3 s \(--timeout\)\. Nothing was stored; run `yandex-token login --device` again/);
  // On the shared clock: exactly the bound, with one poll at it (the code may have been entered by then).
  assert.equal(clock.now() - start, 3_000);
  assert.deepEqual(yandex.requests.filter((r) => r.path === '/token').map((r) => r.at - start), [3_000]);
  assert.ok(!existsSync(home.configFile) || !readFileSync(home.configFile, 'utf8').includes('accessToken'), 'nothing stored');
});

test('login --device --timeout longer than the code lives: the code\'s expiry ends the wait', async (t) => {
  const clock = testClock();
  const start = clock.now();
  const yandex = await fakeYandex(t, { deviceIntervalSeconds: 5, deviceExpiresInSeconds: 60, now: clock.now });
  const home = makeHome(t, yandex);
  const result = await runCommand(['login', '--device', ...credentials(), '--no-browser', '--timeout', '600'], home.env, { clock });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr.trim().split('\n').at(-1)!, /(^The code expired|the code expired or was declined)/);
  assert.ok(clock.now() - start <= 61_000, `ended ${clock.now() - start} ms after the start`);
});

test('login --device --timeout 9 with Yandex\'s 5 s interval: a code allowed at 6 s is caught by the poll at the deadline', async (t) => {
  const clock = testClock();
  const start = clock.now();
  const yandex = await fakeYandex(t, { deviceIntervalSeconds: 5, deviceExpiresInSeconds: 300, now: clock.now });
  const home = makeHome(t, yandex);
  let code = '';
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const response = await globalThis.fetch(input, init);
    if (String(input).endsWith('/device/code')) code = ((await response.clone().json()) as { user_code: string }).user_code;
    // After the poll at 5 s, the person allows it (at "6 s").
    if (String(input).endsWith('/token') && clock.now() - start === 5_000) yandex.decideDevice(code, true);
    return response;
  };
  const result = await runCommand(['login', '--device', ...credentials(), '--no-browser', '--timeout', '9'], home.env, { clock, fetch });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(yandex.requests.filter((r) => r.path === '/token').map((r) => r.at - start), [5_000, 9_000]);
});
