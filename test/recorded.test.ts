// The built CLI against real Yandex answers: exchanges recorded from oauth.yandex.ru (ivknv/yadisk's test
// suite, sanitised in test/fixtures/yandex-recorded) replayed byte for byte, checking that every request
// we send carries the recorded request's fields. Catches a drift from what Yandex really sends and takes
// that the emulator, written from the docs, would hide.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test, type TestContext } from 'node:test';
import type { TokenRecord } from '../src/token/record.ts';
import { freePort, makeHome, startCli, writeConfig, type Home, type RunResult } from './support/harness.ts';
import { runCommand, testClock } from './support/in-process.ts';
import { loadFixture, oauthExchanges, startReplay, type RecordedExchange, type Replay } from './support/replay.ts';

const auth = oauthExchanges(loadFixture('test_auth'));
const device = oauthExchanges(loadFixture('test_device_code_auth'));

/** test_auth.json, in recorded order: code exchange, refresh, revoke, revoke again. */
const [codeExchange, refreshExchange, revoke1, revoke2] = auth as [RecordedExchange, RecordedExchange, RecordedExchange, RecordedExchange];
/** test_device_code_auth.json: device code, authorization_pending, the token, revoke. */
const [deviceCode, pendingPoll, tokenPoll, deviceRevoke] = device as [RecordedExchange, RecordedExchange, RecordedExchange, RecordedExchange];

const answer = (e: RecordedExchange) => JSON.parse(e.response.body) as Record<string, string | number>;

/** The app and device of the recordings (fakes): passed to the CLI so that every recorded value can match. */
const APP = {
  clientId: codeExchange.request.form.client_id!,
  clientSecret: codeExchange.request.form.client_secret!,
  deviceId: codeExchange.request.form.device_id!,
};
const appFlags = ['--client-id', APP.clientId, '--client-secret', APP.clientSecret, '--device-id', APP.deviceId];

/** Not recorded (the recordings never call login.yandex.ru): /info's documented shape, with fake values. */
const INFO = { id: '1130000012345678', login: 'replay.user', client_id: APP.clientId, psuid: '1.AAbCdE.FgHiJkLmNoPqRsTuVwXyZa.0123456789abcdefABCD' };

function readRecord(home: Home, profile = 'default'): TokenRecord | undefined {
  return (JSON.parse(readFileSync(home.configFile, 'utf8')) as { profiles: Record<string, TokenRecord> }).profiles[profile];
}

function homeFor(t: TestContext, replay: Replay): Home {
  return makeHome(t, undefined, { YANDEX_OAUTH_URL: replay.url, YANDEX_LOGIN_URL: replay.url });
}

/** The replay heard exactly the recorded requests, each with every recorded field. */
function assertFaithful(replay: Replay): void {
  assert.deepEqual(replay.mismatches, [], 'every request carries the recorded fields');
  assert.deepEqual(
    replay.remaining().map((e) => `${e.method} ${new URL(e.url).pathname}`),
    [],
    'every recorded exchange was asked for',
  );
}

/** Nothing secret reached the terminal: the secret, any token, the device code. */
function assertNoSecrets(result: RunResult, secrets: string[]): void {
  for (const secret of secrets) {
    assert.ok(!result.stderr.includes(secret) && !result.stdout.includes(secret), 'no secret in the output');
  }
}

/** expiresAt lies expires_in seconds after some moment between before and after. */
function assertExpiry(record: TokenRecord, expiresIn: number, before: number, after: number): void {
  const at = Date.parse(record.expiresAt ?? '');
  assert.ok(at >= before + expiresIn * 1000 - 1000 && at <= after + expiresIn * 1000 + 1000, `expiresAt ${record.expiresAt} is ${expiresIn} s after the answer`);
}

/** A record as login stores it for the token of the recorded code exchange. */
function storedRecord(replay: Replay, accessToken: string, refreshToken: string): TokenRecord {
  const hour = 3600 * 1000;
  return {
    accessToken,
    refreshToken,
    tokenType: 'bearer',
    expiresAt: new Date(Date.now() + 300 * 24 * hour).toISOString(),
    clientId: APP.clientId,
    clientSecret: APP.clientSecret,
    login: INFO.login,
    obtainedAt: new Date(Date.now() - hour).toISOString(),
    deviceId: APP.deviceId,
    deviceName: 'yandex-token on replay',
    oauthUrl: replay.url,
    loginUrl: replay.url,
  };
}

describe('replayed real Yandex exchanges', { concurrency: true }, () => {
  test('the fixtures keep what Yandex answered: statuses, field names and order, lifetimes, the device page', () => {
    assert.deepEqual(
      auth.map((e) => `${e.method} ${new URL(e.url).pathname}${e.request.form.grant_type ? ` ${e.request.form.grant_type}` : ''} -> ${e.response.status}`),
      ['POST /token authorization_code -> 200', 'POST /token refresh_token -> 200', 'POST /revoke_token -> 200', 'POST /revoke_token -> 200'],
    );
    assert.deepEqual(Object.keys(answer(codeExchange)), ['access_token', 'expires_in', 'refresh_token', 'token_type']);
    assert.deepEqual(Object.keys(answer(deviceCode)), ['device_code', 'expires_in', 'interval', 'user_code', 'verification_url']);
    assert.equal(answer(deviceCode).verification_url, 'https://ya.ru/device');
    assert.equal(answer(deviceCode).interval, 5);
    assert.equal(answer(pendingPoll).error, 'authorization_pending');
    assert.equal(pendingPoll.response.status, 400);
    for (const e of [...auth, ...device]) {
      assert.equal(e.response.headers['content-type'], 'application/json');
      assert.equal(Buffer.byteLength(e.response.body), Number(e.response.headers['content-length']), 'fakes kept every body its length');
      // The recorded client authenticates in the body, never in a header.
      assert.equal(e.request.headers.authorization, undefined);
    }
    assert.match(String(answer(codeExchange).access_token), /^y0_[A-Za-z0-9_-]{58}$/);
    assert.match(String(answer(codeExchange).refresh_token), /^1:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+:[A-Za-z0-9_-]+$/);
  });

  test('login: the code exchange Yandex answered, then /info; the record holds what Yandex sent', async (t) => {
    const replay = await startReplay(t, [codeExchange], { info: INFO });
    const home = homeFor(t, replay);
    const port = await freePort();
    const before = Date.now();
    const running = startCli(['login', ...appFlags, '--port', String(port), '--no-browser'], home.env);
    const stderr = await running.waitForStderr(/\n {2}(http\S+)\n/);
    const authorize = new URL(/\n {2}(http\S+)\n/.exec(stderr)![1]!);
    assert.equal(authorize.origin + authorize.pathname, `${replay.url}/authorize`);
    assert.equal(authorize.searchParams.get('client_id'), APP.clientId);
    assert.equal(authorize.searchParams.get('device_id'), APP.deviceId);
    // Yandex's redirect back, with the recorded code (the authorize page itself is not recorded).
    const callback = new URL(authorize.searchParams.get('redirect_uri')!);
    callback.searchParams.set('code', codeExchange.request.form.code!);
    callback.searchParams.set('state', authorize.searchParams.get('state')!);
    const page = await fetch(callback);
    assert.equal(page.status, 200, await page.text());
    const result = await running.done;
    const after = Date.now();

    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /Logged in as replay\.user\. Token saved to /);
    const token = answer(codeExchange);
    assertNoSecrets(result, [APP.clientSecret, String(token.access_token), String(token.refresh_token)]);
    const record = readRecord(home)!;
    assert.equal(record.accessToken, token.access_token);
    assert.equal(record.refreshToken, token.refresh_token);
    assert.equal(record.tokenType, 'bearer');
    assert.equal(record.clientId, APP.clientId);
    assert.equal(record.deviceId, APP.deviceId);
    assert.equal(record.login, 'replay.user');
    assertExpiry(record, 31536000, before, after);
    assert.deepEqual(
      replay.requests.map((r) => `${r.method} ${r.path}`),
      ['POST /token', 'GET /info'],
    );
    assertFaithful(replay);
  });

  test('refresh: the recorded rotation keeps the access token, stores the new refresh token and a year', async (t) => {
    const replay = await startReplay(t, [refreshExchange], { info: INFO });
    const home = homeFor(t, replay);
    const issued = answer(codeExchange);
    assert.equal(refreshExchange.request.form.refresh_token, issued.refresh_token, 'the recording refreshes the code exchange\'s token');
    const stored = storedRecord(replay, String(issued.access_token), String(issued.refresh_token));
    writeConfig(home, { default: stored });

    const before = Date.now();
    const result = await runCommand(['refresh'], home.env);
    const after = Date.now();
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /Refreshed the token for replay\.user/);
    const refreshed = answer(refreshExchange);
    assertNoSecrets(result, [APP.clientSecret, String(refreshed.access_token), String(refreshed.refresh_token), String(issued.refresh_token)]);

    const record = readRecord(home)!;
    // Yandex answered with the same access token and a rotated refresh token.
    assert.equal(refreshed.access_token, issued.access_token);
    assert.notEqual(refreshed.refresh_token, issued.refresh_token);
    assert.equal(record.accessToken, issued.access_token);
    assert.equal(record.refreshToken, refreshed.refresh_token);
    assert.equal(refreshed.expires_in, 31536000);
    assertExpiry(record, 31536000, before, after);
    // The rest of the login stays as it was.
    for (const key of ['clientId', 'clientSecret', 'deviceId', 'deviceName', 'login', 'tokenType'] as const) {
      assert.equal(record[key], stored[key], key);
    }
    assertFaithful(replay);
  });

  test('logout, twice as recorded: Yandex says ok to revoking a token it already revoked; exit 0 both times', async (t) => {
    const replay = await startReplay(t, [revoke1, revoke2], { info: INFO });
    const home = homeFor(t, replay);
    const token = answer(refreshExchange);
    assert.equal(revoke1.request.form.access_token, token.access_token);
    assert.equal(revoke2.request.form.access_token, token.access_token);
    const stored = storedRecord(replay, String(token.access_token), String(token.refresh_token));

    for (const round of [1, 2]) {
      // The second round: the same token stored again (a copy of the config elsewhere, say).
      writeConfig(home, { default: stored });
      const result = await runCommand(['logout'], home.env);
      assert.equal(result.code, 0, `round ${round}: ${result.stderr}`);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, /^Logged out replay\.user: the token was revoked at Yandex/m, `round ${round}`);
      assert.doesNotMatch(result.stderr, /Warning|could not/i, `round ${round}`);
      assertNoSecrets(result, [APP.clientSecret, String(token.access_token), String(token.refresh_token)]);
      assert.equal(readRecord(home), undefined);
    }
    assert.deepEqual(
      replay.requests.map((r) => `${r.method} ${r.path}`),
      ['POST /revoke_token', 'POST /revoke_token'],
    );
    assertFaithful(replay);
  });

  test('login --device: the code, one authorization_pending, the token at the recorded 5 s interval; then logout', async (t) => {
    // On a test clock shared with the replay: the recorded 5 s interval is kept, and costs no waiting.
    const clock = testClock();
    const replay = await startReplay(t, [deviceCode, pendingPoll, tokenPoll, deviceRevoke], { info: INFO, now: clock.now });
    const home = homeFor(t, replay);
    const code = answer(deviceCode);
    const before = clock.now();
    const result = await runCommand(['login', '--device', ...appFlags, '--no-browser'], home.env, { clock });
    const after = clock.now();

    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, new RegExp(`open https://ya\\.ru/device in a browser on any device and enter this code:\\n\\n {2}${code.user_code}\\n`));
    assert.match(result.stderr, /the code expires in 5 min/);
    assert.match(result.stderr, /Logged in as replay\.user\. Token saved to /);
    const token = answer(tokenPoll);
    assertNoSecrets(result, [APP.clientSecret, String(code.device_code), String(token.access_token), String(token.refresh_token)]);

    const record = readRecord(home)!;
    assert.equal(record.accessToken, token.access_token);
    assert.equal(record.refreshToken, token.refresh_token);
    assert.equal(record.clientId, APP.clientId);
    assert.equal(record.clientSecret, APP.clientSecret);
    assert.equal(record.deviceId, APP.deviceId);
    // Yandex's real answer here was 31535338 s, not a round year: the record keeps what it said.
    assertExpiry(record, 31535338, before, after);

    // Each poll came no sooner than Yandex's interval after the code or the poll before it.
    const at = replay.requests.map((r) => r.at);
    assert.deepEqual(
      replay.requests.map((r) => `${r.method} ${r.path}`),
      ['POST /device/code', 'POST /token', 'POST /token', 'GET /info'],
    );
    assert.ok(at[1]! - at[0]! >= 5000 - 50 && at[2]! - at[1]! >= 5000 - 50, `polls 5 s apart: ${at.slice(1, 3).map((x, i) => x - at[i]!)}`);

    const logout = await runCommand(['logout'], home.env);
    assert.equal(logout.code, 0, logout.stderr);
    assert.match(logout.stderr, /the token was revoked at Yandex/);
    assert.equal(readRecord(home), undefined);
    assertFaithful(replay);
  });

  test('the replay notices a request that leaves out a recorded field or sends another value', async (t) => {
    // The check itself, so that a silent replay means something: a revoke without client_secret and with
    // another client_id, as a regression would send it.
    const replay = await startReplay(t, [revoke1]);
    const body = new URLSearchParams({ access_token: revoke1.request.form.access_token!, client_id: 'another' });
    const response = await fetch(`${replay.url}/revoke_token`, { method: 'POST', body });
    assert.equal(response.status, 200, 'it still answers as recorded');
    assert.deepEqual(replay.mismatches, [
      `POST /revoke_token: client_id=another, recorded client_id=${APP.clientId}`,
      `POST /revoke_token: client_secret is missing (recorded: client_secret=${APP.clientSecret})`,
    ]);
    // Client authentication in a Basic header is as good as in the body, as Yandex takes either.
    const basic = await startReplay(t, [revoke2]);
    const header = `Basic ${Buffer.from(`${APP.clientId}:${APP.clientSecret}`).toString('base64')}`;
    const viaHeader = await fetch(`${basic.url}/revoke_token`, {
      method: 'POST',
      headers: { authorization: header },
      body: new URLSearchParams({ access_token: revoke2.request.form.access_token!, extra: 'fine' }),
    });
    assert.equal(viaHeader.status, 200);
    assert.deepEqual(basic.mismatches, []);
  });
});
