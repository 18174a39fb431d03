// Yandex Cloud IAM tokens (issue 17 part 3): the emulator's POST /iam/v1/tokens against Cloud's contract,
// and print --iam / exec --iam / getIamToken against it: cached per profile, reused for an hour (the clock
// injected and shared with the emulator), renewed once for a crowd, kept when Cloud cannot be asked,
// untouched when Cloud refuses the OAuth token, and every answer checked before it is stored or printed.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it, test, type TestContext } from 'node:test';
import { getIamToken } from '../src/api.ts';
import type { Emulator } from '../src/emulator/index.ts';
import type { IamCacheEntry } from '../src/store/read.ts';
import { assertCleanFailure, fakeYandex, issuedRecord, makeHome, runCli, tempDir, writeConfig, type Home } from './support/harness.ts';
import { runCommand, testClock } from './support/in-process.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Cloud's docs' pattern for an IAM token (yandex.cloud/en/docs/iam/concepts/authorization/iam-token). */
const CLOUD_TOKEN = /^t1\.[A-Z0-9a-z_-]+[=]{0,2}\.[A-Z0-9a-z_-]{86}[=]{0,2}$/;

const iamRequests = (yandex: Emulator) => yandex.requests.filter((r) => r.path === '/iam/v1/tokens').length;

function cache(home: Home, profile = 'default'): IamCacheEntry | undefined {
  return (JSON.parse(readFileSync(home.configFile, 'utf8')) as { iam?: Record<string, IamCacheEntry> }).iam?.[profile];
}

/** An emulator on the test's clock, a home pointed at it (IAM too), and a live login stored. */
async function loggedIn(t: TestContext, clock = testClock()) {
  const yandex = await fakeYandex(t, { now: clock.now });
  const home = makeHome(t, yandex, { YANDEX_IAM_URL: yandex.url });
  const record = issuedRecord(yandex, { expiresInMs: 300 * 24 * HOUR });
  writeConfig(home, { default: record });
  return { yandex, home, record, clock };
}

describe('the emulator plays Yandex Cloud IAM: POST /iam/v1/tokens', () => {
  const exchange = (yandex: Emulator, body: string, type = 'application/json') =>
    fetch(`${yandex.url}/iam/v1/tokens`, { method: 'POST', headers: { 'content-type': type }, body }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, unknown> }));

  it('exchanges a live token it issued (also one refreshed) for a t1. token valid 12 hours, in the docs\' shape', async (t) => {
    const clock = testClock();
    const yandex = await fakeYandex(t, { now: clock.now });
    const issued = yandex.issueToken({});
    const ok = await exchange(yandex, JSON.stringify({ yandexPassportOauthToken: issued.access_token }));
    assert.equal(ok.status, 200);
    assert.match(String(ok.json.iamToken), CLOUD_TOKEN);
    assert.match(String(ok.json.expiresAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'microseconds, as the docs\' example');
    assert.equal(Date.parse(String(ok.json.expiresAt)), clock.now() + 12 * HOUR);
    assert.equal(yandex.counts.iam, 1);
    assert.deepEqual(yandex.requests.at(-1)?.json, { yandexPassportOauthToken: issued.access_token }, 'logged');

    const refreshed = await fetch(`${yandex.url}/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: issued.refresh_token, client_id: 'demo-client-id', client_secret: 'demo-client-secret' }),
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    assert.equal((await exchange(yandex, JSON.stringify({ yandexPassportOauthToken: refreshed.access_token }))).status, 200);
  });

  it('answers 401 (code 16) for an unknown, expired or revoked token, and 400 (code 3) for a bad body', async (t) => {
    const clock = testClock();
    const yandex = await fakeYandex(t, { now: clock.now });
    const unknown = await exchange(yandex, JSON.stringify({ yandexPassportOauthToken: 'y0_not-issued' }));
    assert.equal(unknown.status, 401);
    assert.equal(unknown.json.code, 16);
    assert.equal(typeof unknown.json.message, 'string');
    assert.deepEqual(unknown.json.details, []);

    const short = yandex.issueToken({ expiresIn: 60 });
    clock.advance(61_000);
    assert.equal((await exchange(yandex, JSON.stringify({ yandexPassportOauthToken: short.access_token }))).status, 401, 'expired');
    const revoked = yandex.issueToken({});
    yandex.revokeAll();
    assert.equal((await exchange(yandex, JSON.stringify({ yandexPassportOauthToken: revoked.access_token }))).status, 401, 'revoked');

    for (const [body, type] of [['{"jwt":"x"}', 'application/json'], ['not json', 'application/json'], ['yandexPassportOauthToken=y0_x', 'application/x-www-form-urlencoded'], ['[]', 'application/json']]) {
      const bad = await exchange(yandex, body!, type);
      assert.equal(bad.status, 400, body);
      assert.equal(bad.json.code, 3);
    }
  });
});

test('print --iam: one exchange, then the cached token for an hour; a new one after it (the clock injected)', async (t) => {
  const { yandex, home, clock } = await loggedIn(t);
  const first = await runCommand(['print', '--iam'], home.env, { clock });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stderr, '');
  const token = first.stdout.trim();
  assert.match(token, CLOUD_TOKEN);
  assert.equal(iamRequests(yandex), 1);
  const entry = cache(home)!;
  assert.equal(entry.token, token);
  assert.equal(entry.issuedAt, new Date(clock.now()).toISOString());
  assert.equal(Date.parse(entry.expiresAt), clock.now() + 12 * HOUR);

  clock.advance(59 * MINUTE);
  const json = await runCommand(['print', '--iam', '--json'], home.env, { clock });
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), { token, expiresAt: entry.expiresAt, kind: 'iam', profile: 'default' });
  assert.equal(iamRequests(yandex), 1, 'reused within the hour');

  clock.advance(2 * MINUTE);
  const later = await runCommand(['print', '--iam'], home.env, { clock });
  assert.equal(later.code, 0, later.stderr);
  assert.equal(iamRequests(yandex), 2, 'renewed after an hour');
  assert.notEqual(later.stdout.trim(), token);
  assert.equal(cache(home)?.token, later.stdout.trim());
  assert.equal(cache(home)?.issuedAt, new Date(clock.now()).toISOString());

  // The OAuth print is untouched by it.
  const oauth = await runCommand(['print'], home.env, { clock });
  assert.doesNotMatch(oauth.stdout, /^t1\./);
});

test('Yandex Cloud refusing the OAuth token (401): exit 4 naming what Cloud takes, the cache unchanged', async (t) => {
  const { yandex, home, clock } = await loggedIn(t);
  assert.equal((await runCommand(['print', '--iam'], home.env, { clock })).code, 0);
  const before = readFileSync(home.configFile, 'utf8');
  clock.advance(HOUR + MINUTE);
  yandex.revokeAll();
  const refused = await runCommand(['print', '--iam'], home.env, { clock });
  assertCleanFailure({ ...refused, signal: null }, 4, /Yandex Cloud did not accept this OAuth token \(HTTP 401: ".+" \(code 16\)\)/);
  assert.match(refused.stderr, /client_id=1a6990aa636648e9b2ef855fa7bec2fb/);
  assert.match(refused.stderr, /yandex-token login --with-token/);
  assert.equal(readFileSync(home.configFile, 'utf8'), before, 'the file as it was');
});

test('a 403 from Cloud is a refusal too (exit 4), named for the profile or for YANDEX_TOKEN', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, { work: issuedRecord(yandex, { expiresInMs: 300 * 24 * HOUR }) });
  const url = await fakeCloud(t, (res) => res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 7, message: 'Permission denied', details: [] })));
  const profile = await runCommand(['print', '--iam', '--profile', 'work'], { ...home.env, YANDEX_IAM_URL: url });
  assertCleanFailure({ ...profile, signal: null }, 4, /^Yandex Cloud did not accept the OAuth token of profile "work" \(HTTP 403: "Permission denied" \(code 7\)\)\..*login --with-token --profile work`/);
  const fromEnv = await runCommand(['print', '--iam'], { ...home.env, YANDEX_IAM_URL: url, YANDEX_TOKEN: 'y0_from-the-environment' });
  assertCleanFailure({ ...fromEnv, signal: null }, 4, /^Yandex Cloud did not accept the OAuth token in YANDEX_TOKEN \(HTTP 403/);
  assert.equal(cache(home, 'work'), undefined);
});

test('Cloud unreachable or failing: a cached token with ten minutes left is printed with a warning (exit 0), and Cloud is not asked again for 5 minutes; without one, exit 1', async (t) => {
  const { yandex, home, clock } = await loggedIn(t);
  const token = (await runCommand(['print', '--iam'], home.env, { clock })).stdout.trim();
  const first = cache(home)!;

  clock.advance(2 * HOUR);
  yandex.fail('/iam/v1/tokens', 'reset', 1);
  const kept = await runCommand(['print', '--iam'], home.env, { clock });
  assert.equal(kept.code, 0, kept.stderr);
  assert.equal(kept.stdout, `${token}\n`);
  assert.equal(kept.stderr.trim().split('\n').length, 1, kept.stderr);
  assert.match(kept.stderr, /Could not get a new Yandex Cloud IAM token; the cached one still works until .+\./);
  assert.deepEqual(cache(home), { ...first, failedAt: new Date(clock.now()).toISOString() }, 'the token kept, the failure noted');
  const asked = iamRequests(yandex);

  // Within 5 minutes: the cached token at once, without waiting on Cloud again.
  clock.advance(4 * MINUTE);
  const held = await runCommand(['print', '--iam'], home.env, { clock });
  assert.equal(held.code, 0, held.stderr);
  assert.equal(held.stdout, `${token}\n`);
  assert.match(held.stderr, /^Warning: Yandex Cloud could not be asked for a new IAM token at .+; the cached one still works until .+, and Cloud is asked again from .+\.\n$/);
  assert.equal(iamRequests(yandex), asked, 'Cloud not asked');

  // Then asked again: a server error is the same story; an answer replaces the token and the note.
  clock.advance(2 * MINUTE);
  yandex.fail('/iam/v1/tokens', 'server-error', 1);
  const failing = await runCommand(['print', '--iam'], home.env, { clock });
  assert.equal(failing.stdout, `${token}\n`);
  assert.match(failing.stderr, /Could not get a new Yandex Cloud IAM token/);
  assert.equal(iamRequests(yandex), asked + 1);
  clock.advance(6 * MINUTE);
  const renewed = await runCommand(['print', '--iam'], home.env, { clock });
  assert.equal(renewed.code, 0, renewed.stderr);
  assert.notEqual(renewed.stdout, `${token}\n`);
  assert.equal(renewed.stderr, '');
  assert.equal(cache(home)!.failedAt, undefined);

  // Less than ten minutes of its 12 hours left: no longer handed out.
  clock.advance(12 * HOUR - 5 * MINUTE);
  const before = readFileSync(home.configFile, 'utf8');
  yandex.fail('/iam/v1/tokens', 'reset', 1);
  const gone = await runCommand(['print', '--iam'], home.env, { clock });
  assertCleanFailure({ ...gone, signal: null }, 1, /Could not reach http:\/\/127\.0\.0\.1:\d+ while exchanging the OAuth token for a Yandex Cloud IAM token: the connection was reset\. .*YANDEX_IAM_URL/);
  assert.equal(readFileSync(home.configFile, 'utf8'), before, 'the cache kept');

  // Nothing listening, nothing cached (another profile): exit 1, naming the variable.
  writeConfig(home, { default: issuedRecord(yandex, { expiresInMs: 300 * 24 * HOUR }) });
  const closed = await runCommand(['print', '--iam'], { ...home.env, YANDEX_IAM_URL: 'http://127.0.0.1:9' }, { clock });
  assertCleanFailure({ ...closed, signal: null }, 1, /Could not reach http:\/\/127\.0\.0\.1:9 .*refused.*YANDEX_IAM_URL/);
  assert.equal(cache(home), undefined);
});

test('a file that cannot take the IAM token (full): it is printed all the same, with one warning; the file as it was', async (t) => {
  const { yandex, home, record, clock } = await loggedIn(t);
  // The file one IAM entry short of the size a config may have: the write after Cloud's answer fails, as
  // on a full disk (a read-only folder fails before the lock: hostile.test.ts runs that as another user).
  const data: Record<string, unknown> = { profiles: { default: record }, deviceIds: {}, padding: '' };
  data.padding = 'x'.repeat(1024 * 1024 - 200 - Buffer.byteLength(JSON.stringify(data, undefined, '\t')));
  writeFileSync(home.configFile, JSON.stringify(data, undefined, '\t'), { mode: 0o600 });
  const before = readFileSync(home.configFile, 'utf8');
  for (const run of [1, 2]) {
    const printed = await runCommand(['print', '--iam'], home.env, { clock });
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout.trim(), CLOUD_TOKEN);
    assert.equal(printed.stderr.trim().split('\n').length, 1, printed.stderr);
    assert.match(printed.stderr, /IAM token could not be kept for the next run, so each run gets a new one until this is fixed: Cannot write .*config\.json: the new content would be/);
    assert.equal(iamRequests(yandex), run, 'one exchange a run: nothing cached');
  }
  assert.equal(readFileSync(home.configFile, 'utf8'), before, 'the file as it was');
});

/** A stand-in for Cloud's IAM API that answers every request with `reply`, given the request and its body. */
async function fakeCloud(t: TestContext, reply: (res: ServerResponse, req: IncomingMessage, body: string) => void): Promise<string> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => reply(res, req, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('hostile answers are refused before anything is stored or printed', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, { default: issuedRecord(yandex, { expiresInMs: 300 * 24 * HOUR }) });
  const soon = new Date(Date.now() + 6 * HOUR).toISOString();
  const cases: [string, number, string, string, RegExp][] = [
    ['control characters', 200, 'application/json', JSON.stringify({ iamToken: 't1.abc\u001b[31m\ninjected: yes', expiresAt: soon }), /its iamToken is not a token/],
    ['a space', 200, 'application/json', JSON.stringify({ iamToken: 't1.abc def', expiresAt: soon }), /its iamToken is not a token/],
    ['a huge token', 200, 'application/json', JSON.stringify({ iamToken: `t1.${'a'.repeat(9000)}`, expiresAt: soon }), /its iamToken is not a token/],
    ['a huge body', 200, 'application/json', JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) }), /sent an answer over 1 MiB .*not Yandex Cloud/],
    ['no token', 200, 'application/json', JSON.stringify({ expiresAt: soon }), /it has no iamToken/],
    ['an HTML page', 200, 'text/html', '<html><body>Please sign in to the network</body></html>', /answered HTTP 200 with text\/html instead of JSON .*YANDEX_IAM_URL/],
    ['a 403 page from a proxy', 403, 'text/html', '<html>Forbidden</html>', /answered HTTP 403 with text\/html instead of JSON/],
    ['expiresAt in the past', 200, 'application/json', JSON.stringify({ iamToken: 't1.abc.def', expiresAt: '2019-02-15T21:39:58.513467Z' }), /its expiresAt \(2019-02-15T21:39:58\.513467Z\) has already passed/],
    ['expiresAt not a time', 200, 'application/json', JSON.stringify({ iamToken: 't1.abc.def', expiresAt: 'tomorrow' }), /its expiresAt is missing or not an RFC 3339 time/],
    ['a bad request', 400, 'application/json', JSON.stringify({ code: 3, message: 'bad\u001b[2J request', details: [] }), /answered HTTP 400: "bad \[2J request" \(code 3\)/],
  ];
  for (const [name, status, type, body, pattern] of cases) {
    const url = await fakeCloud(t, (res) => res.writeHead(status, { 'content-type': type }).end(body));
    const result = await runCommand(['print', '--iam'], { ...home.env, YANDEX_IAM_URL: url });
    assertCleanFailure({ ...result, signal: null }, 1, pattern);
    assert.doesNotMatch(result.stderr, /\u001b/, name);
    assert.equal(cache(home), undefined, `${name}: nothing stored`);
  }

  // More than 12 hours away: clamped to 12 hours, the longest an IAM token lives.
  const far = await fakeCloud(t, (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ iamToken: 't1.far.away', expiresAt: '2999-01-01T00:00:00.123456789Z' })));
  const clamped = await runCommand(['print', '--iam', '--json'], { ...home.env, YANDEX_IAM_URL: far });
  assert.equal(clamped.code, 0, clamped.stderr);
  const printed = JSON.parse(clamped.stdout) as { expiresAt: string };
  assert.ok(Math.abs(Date.parse(printed.expiresAt) - (Date.now() + 12 * HOUR)) < MINUTE, printed.expiresAt);
});

test('the request Cloud gets: POST JSON with the OAuth token, nothing in the URL', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const record = issuedRecord(yandex, { expiresInMs: 300 * 24 * HOUR });
  writeConfig(home, { default: record });
  const seen: { method?: string; url?: string; type?: string; body: string }[] = [];
  const url = await fakeCloud(t, (res, req, body) => {
    seen.push({ method: req.method, url: req.url, type: req.headers['content-type'], body });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ iamToken: 't1.x.y', expiresAt: new Date(Date.now() + 12 * HOUR).toISOString() }));
  });
  // A trailing slash on YANDEX_IAM_URL is no second one in the path.
  const result = await runCommand(['print', '--iam'], { ...home.env, YANDEX_IAM_URL: `${url}/` });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 't1.x.y\n');
  assert.deepEqual(seen, [{ method: 'POST', url: '/iam/v1/tokens', type: 'application/json', body: JSON.stringify({ yandexPassportOauthToken: record.accessToken }) }]);
});

test('exec --iam: the IAM token in YC_TOKEN, or in each --env variable, reused from the cache', async (t) => {
  const { yandex, home, clock } = await loggedIn(t);
  const dir = tempDir(t);
  const report = (file: string, names: string[]) => [
    'exec',
    '--iam',
    ...names.flatMap((name) => ['--env', name]),
    '--',
    process.execPath,
    '-e',
    `require('node:fs').writeFileSync(process.argv[1], JSON.stringify(Object.fromEntries(['YC_TOKEN', 'YANDEX_TOKEN', 'TF_VAR_token'].map((n) => [n, process.env[n] ?? null]))))`,
    join(dir, file),
  ];
  const plain = await runCommand(report('plain.json', []), home.env, { clock });
  assert.equal(plain.code, 0, plain.stderr);
  const token = cache(home)!.token;
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'plain.json'), 'utf8')), { YC_TOKEN: token, YANDEX_TOKEN: null, TF_VAR_token: null });

  const named = await runCommand(report('named.json', ['TF_VAR_token', 'YC_TOKEN']), home.env, { clock });
  assert.equal(named.code, 0, named.stderr);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'named.json'), 'utf8')), { YC_TOKEN: token, YANDEX_TOKEN: null, TF_VAR_token: token });
  assert.equal(iamRequests(yandex), 1);

  // Refused: exit 4, and nothing is run.
  clock.advance(2 * HOUR);
  yandex.revokeAll();
  const refused = await runCommand(report('refused.json', []), home.env, { clock });
  assert.equal(refused.code, 4, refused.stderr);
  assert.equal(existsSync(join(dir, 'refused.json')), false);
});

test('YANDEX_TOKEN: exchanged each time, nothing stored; --json says profile null', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex, { YANDEX_IAM_URL: yandex.url, YANDEX_TOKEN: yandex.issueToken({}).access_token });
  const first = await runCommand(['print', '--iam', '--json'], home.env);
  assert.equal(first.code, 0, first.stderr);
  const printed = JSON.parse(first.stdout) as Record<string, unknown>;
  assert.equal(printed.kind, 'iam');
  assert.equal(printed.profile, null);
  assert.equal((await runCommand(['print', '--iam'], home.env)).code, 0);
  assert.equal(iamRequests(yandex), 2);
  assert.equal(existsSync(home.configFile), false, 'no config file written');
});

test('a demo token, and a token from another server without YANDEX_IAM_URL, are not sent to Cloud', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, {
    demo: issuedRecord(yandex, { expiresInMs: 300 * 24 * HOUR, record: { demo: true } }),
    emu: issuedRecord(yandex, { expiresInMs: 300 * 24 * HOUR, record: { oauthUrl: yandex.url, loginUrl: yandex.url } }),
  });
  const demo = await runCommand(['print', '--iam', '--profile', 'demo'], { ...home.env, YANDEX_IAM_URL: yandex.url });
  assertCleanFailure({ ...demo, signal: null }, 4, /is a demo token from the built-in emulator, not a Yandex token, so Yandex Cloud cannot exchange it/);
  const { YANDEX_OAUTH_URL: _o, YANDEX_LOGIN_URL: _l, ...plain } = home.env;
  const emu = await runCommand(['print', '--iam', '--profile', 'emu'], plain);
  assertCleanFailure({ ...emu, signal: null }, 1, /came from http:\/\/127\.0\.0\.1:\d+, not Yandex, so Yandex Cloud would not accept it\. Set YANDEX_IAM_URL/);
  assert.equal(iamRequests(yandex), 0);
  // Named, it is asked there.
  const asked = await runCommand(['print', '--iam', '--profile', 'emu'], { ...plain, YANDEX_IAM_URL: yandex.url });
  assert.equal(asked.code, 0, asked.stderr);
});

test('the cache belongs to the login: another login into the profile and a logout drop it', async (t) => {
  const { yandex, home, clock } = await loggedIn(t);
  assert.equal((await runCommand(['print', '--iam'], home.env, { clock })).code, 0);
  const first = cache(home)!;
  // A login with another token replaces the record: the old IAM token is not handed out for it.
  const other = yandex.issueToken({}).access_token;
  const login = await runCommand(['login', '--with-token'], home.env, { clock, input: other });
  assert.equal(login.code, 0, login.stderr);
  assert.equal(cache(home), undefined, 'dropped by the login');
  const again = await runCommand(['print', '--iam'], home.env, { clock });
  assert.notEqual(again.stdout.trim(), first.token);
  assert.equal(iamRequests(yandex), 2);
  const logout = await runCommand(['logout'], home.env, { clock });
  assert.equal(logout.code, 0, logout.stderr);
  assert.equal(cache(home), undefined, 'dropped by the logout');
});

test('the cache belongs to the IAM server too: YANDEX_IAM_URL pointed elsewhere asks there, not the cache', async (t) => {
  const { yandex, home, clock } = await loggedIn(t);
  const first = await runCommand(['print', '--iam'], home.env, { clock });
  assert.equal(first.code, 0, first.stderr);
  // The same emulator under another name: another server as far as the cache can tell.
  const elsewhere = { ...home.env, YANDEX_IAM_URL: yandex.url.replace('127.0.0.1', 'localhost') };
  const second = await runCommand(['print', '--iam'], elsewhere, { clock });
  assert.equal(second.code, 0, second.stderr);
  assert.notEqual(second.stdout, first.stdout);
  assert.equal(iamRequests(yandex), 2, 'asked the other server');
});

test('getIamToken: the cached token, and a new one with forceRefresh', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex, { YANDEX_IAM_URL: yandex.url });
  writeConfig(home, { default: issuedRecord(yandex, { expiresInMs: 300 * 24 * HOUR }) });
  const first = await getIamToken({ env: home.env });
  assert.equal(await getIamToken({ env: home.env }), first);
  const forced = await getIamToken({ env: home.env, forceRefresh: true });
  assert.notEqual(forced, first);
  assert.equal(cache(home)?.token, forced);
  assert.equal(iamRequests(yandex), 2);
});

test('20 processes of print --iam at once: one exchange, and all print the same token', async (t) => {
  const yandex = await fakeYandex(t);
  // A slow answer keeps the crowd waiting on the lock while the first run asks.
  yandex.slow(300);
  const home = makeHome(t, yandex, { YANDEX_IAM_URL: yandex.url });
  writeConfig(home, { default: issuedRecord(yandex, { expiresInMs: 300 * 24 * HOUR }) });
  const results = await Promise.all(Array.from({ length: 20 }, () => runCli(['print', '--iam'], home.env, { timeoutMs: 60_000 })));
  for (const result of results) assert.equal(result.code, 0, result.stderr);
  assert.equal(yandex.counts.iam, 1);
  assert.equal(new Set(results.map((r) => r.stdout)).size, 1);
  assert.equal(results[0]!.stdout.trim(), cache(home)?.token);
});
