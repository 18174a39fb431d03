// Yandex's services beyond OAuth (issue 17): a profile's settings (client-login, org-id, cloud-org-id) kept
// apart from its login, `print --header --for SERVICE`, and `api` against an echo server standing in for the
// APIs, with the emulator for the renewal after a 401. In-process; the token never reaches a message.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { getHeaders } from '../src/api.ts';
import { startEcho, type Echo } from './support/echo.ts';
import { DEMO_CLIENT, fakeYandex, issuedRecord, makeHome, startCli, writeConfig, type Home } from './support/harness.ts';
import { runCommand, type InProcessResult } from './support/in-process.ts';

const DAY = 86_400_000;

/** A home with a fresh login in the default profile (a token the emulator issued), and the echo server as every service. */
async function setUp(t: TestContext) {
  const yandex = await fakeYandex(t);
  const echo = await startEcho(t);
  const services = ['direct', 'tracker', 'wiki', '360', 'disk', 'metrica'];
  const home = makeHome(t, yandex, Object.fromEntries(services.map((name) => [`YANDEX_${name.toUpperCase()}_URL`, echo.url])));
  const record = issuedRecord(yandex, { expiresInMs: 300 * DAY });
  writeConfig(home, { default: record });
  return { yandex, echo, home, token: record.accessToken };
}

function run(argv: string[], home: Home, input?: string): Promise<InProcessResult> {
  return runCommand(argv, home.env, { input });
}

/** Exit 0, and no secret on stderr. */
function ok(result: InProcessResult, token: string): InProcessResult {
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!result.stderr.includes(token), 'the token never reaches stderr');
  return result;
}

function config(home: Home): { profiles: Record<string, unknown>; settings?: Record<string, Record<string, string>> } {
  return JSON.parse(readFileSync(home.configFile, 'utf8'));
}

test('print --header --for writes every header each service needs, one per line', async (t) => {
  const { home, token } = await setUp(t);
  const headers = async (service: string) => ok(await run(['print', '--header', '--for', service], home), token).stdout;

  assert.equal(await headers('direct'), `Authorization: Bearer ${token}\n`, 'Direct without a client login: Bearer alone');
  assert.equal(await headers('disk'), `Authorization: OAuth ${token}\n`);
  assert.equal(await headers('metrica'), `Authorization: OAuth ${token}\n`);
  assert.equal(await headers('360'), `Authorization: OAuth ${token}\n`);

  ok(await run(['profile', 'set', 'client-login', 'client-a'], home), token);
  ok(await run(['profile', 'set', 'org-id', '1234567'], home), token);
  assert.equal(await headers('direct'), `Authorization: Bearer ${token}\nClient-Login: client-a\n`);
  assert.equal(await headers('tracker'), `Authorization: OAuth ${token}\nX-Org-ID: 1234567\n`);
  assert.equal(await headers('wiki'), `Authorization: OAuth ${token}\nX-Org-ID: 1234567\n`);
  assert.equal(ok(await run(['print', '--for', 'tracker'], home), token).stdout, `${token}\n`, 'without --header: the token that service takes');

  ok(await run(['profile', 'unset', 'org-id'], home), token);
  ok(await run(['profile', 'set', 'cloud-org-id', 'bpf3crucp1v28b2ncgvt'], home), token);
  assert.equal(await headers('tracker'), `Authorization: OAuth ${token}\nX-Cloud-Org-ID: bpf3crucp1v28b2ncgvt\n`);

  const json = JSON.parse(ok(await run(['print', '--json', '--for', 'direct'], home), token).stdout);
  assert.deepEqual(json.headers, { Authorization: `Bearer ${token}`, 'Client-Login': 'client-a' });
  assert.equal(json.service, 'direct');
  assert.equal(json.token, token);

  const conflict = await run(['print', '--header', 'bearer', '--for', 'tracker'], home);
  assert.equal(conflict.code, 1);
  assert.match(conflict.stderr, /--header bearer and --for/);

  assert.deepEqual(await getHeaders({ service: 'direct', env: home.env }), { Authorization: `Bearer ${token}`, 'Client-Login': 'client-a' });
});

test('Tracker without an organisation is exit 1 naming the command that sets it', async (t) => {
  const { home, echo, token } = await setUp(t);
  for (const argv of [['print', '--header', '--for', 'tracker'], ['api', '--for', 'tracker', '/v3/myself']]) {
    const result = await run(argv, home);
    assert.equal(result.code, 1, argv.join(' '));
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /`yandex-token profile set org-id <id>`/);
    assert.match(result.stderr, /cloud-org-id/);
    assert.ok(!result.stderr.includes(token));
  }
  assert.equal(echo.requests.length, 0, 'nothing was sent');
  await assert.rejects(getHeaders({ service: 'tracker', env: home.env }), /profile set org-id/);
});

test('Cloud takes an IAM token: print --for cloud, its header, and api (a 401 gets a new IAM token once)', async (t) => {
  const { yandex, home, echo, token } = await setUp(t);
  const env = { ...home.env, YANDEX_IAM_URL: yandex.url, YANDEX_CLOUD_URL: echo.url };
  const iam = ok(await runCommand(['print', '--iam'], env), token).stdout;
  assert.match(iam, /^t1\.\S+\n$/);
  assert.equal(ok(await runCommand(['print', '--for', 'cloud'], env), token).stdout, iam, 'the same cached IAM token');
  assert.equal(ok(await runCommand(['print', '--header', '--for', 'cloud'], env), token).stdout, `Authorization: Bearer ${iam}`);
  assert.deepEqual(await getHeaders({ service: 'cloud', env }), { Authorization: `Bearer ${iam.trim()}` });
  // --json: print --iam --json's object (not the OAuth token's fields), with the service and its headers.
  const iamJson = JSON.parse(ok(await runCommand(['print', '--iam', '--json'], env), token).stdout);
  const cloudJson = JSON.parse(ok(await runCommand(['print', '--json', '--for', 'cloud'], env), token).stdout);
  assert.deepEqual(cloudJson, { ...iamJson, service: 'cloud', headers: { Authorization: `Bearer ${iam.trim()}` } });
  const fromEnv = { ...env, YANDEX_TOKEN: yandex.issueToken({}).access_token };
  assert.equal(JSON.parse(ok(await runCommand(['print', '--json', '--for', 'cloud'], fromEnv), token).stdout).profile, null, 'as print --iam --json with YANDEX_TOKEN');
  const conflict = await runCommand(['print', '--iam', '--for', 'cloud'], env);
  assert.equal(conflict.code, 1, '--iam and --for say the same thing twice');

  echo.replies.push({ status: 401 });
  ok(await runCommand(['api', '--for', 'cloud', '/resource-manager/v1/clouds'], env), token);
  assert.equal(echo.requests.length, 2, 'one retry');
  assert.equal(echo.requests[0]!.headers.authorization, `Bearer ${iam.trim()}`);
  const renewed = echo.requests[1]!.headers.authorization;
  assert.notEqual(renewed, `Bearer ${iam.trim()}`, 'the retry carries a new IAM token');
  assert.equal(`Bearer ${ok(await runCommand(['print', '--iam'], env), token).stdout.trim()}`, renewed, 'and it was cached');
  assert.equal(yandex.counts['token:refresh_token'] ?? 0, 0, 'the OAuth token was not renewed for it');
});

test('profile set checks keys and values; org-id and cloud-org-id exclude each other', async (t) => {
  const { home, token } = await setUp(t);
  const before = readFileSync(home.configFile, 'utf8');
  const unknown = await run(['profile', 'set', 'client', 'x'], home);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /client-login, org-id, cloud-org-id/, 'an unknown key lists the known ones');

  for (const [key, value, why] of [
    ['client-login', 'a\nX-Evil: 1', /control characters/],
    ['client-login', 'two words', /without spaces/],
    ['org-id', 'bpf3crucp1v28b2ncgvt', /digits only/],
    ['cloud-org-id', 'a-b', /letters and digits/],
  ] as const) {
    const result = await run(['profile', 'set', key, value], home);
    assert.equal(result.code, 1, `${key} ${JSON.stringify(value)}`);
    assert.match(result.stderr, why);
  }
  assert.equal(readFileSync(home.configFile, 'utf8'), before, 'nothing was written');

  ok(await run(['profile', 'set', 'org-id', '42'], home), token);
  const both = await run(['profile', 'set', 'cloud-org-id', 'bpf3crucp1v28b2ncgvt'], home);
  assert.equal(both.code, 1);
  assert.match(both.stderr, /Profile "default" already has an org-id\./);
  assert.match(both.stderr, /Yandex 360 for Business.*Yandex Cloud.*profile unset org-id/s);
  assert.deepEqual(config(home).settings, { default: { orgId: '42' } });

  const atLogin = await run(['login', '--with-token', '--org-id', '1', '--cloud-org-id', 'abc'], home, 'x');
  assert.equal(atLogin.code, 1);
  assert.match(atLogin.stderr, /cannot be used with/);

  // A hand-edited value is refused before it goes into a header, naming the file.
  const edited = config(home);
  edited.settings = { default: { clientLogin: 'a\r\nX-Evil: 1' } };
  writeFileSync(home.configFile, JSON.stringify(edited));
  const refused = await run(['print', '--header', '--for', 'direct'], home);
  assert.equal(refused.code, 1);
  assert.equal(refused.stdout, '');
  assert.match(refused.stderr, /client-login stored for profile "default" in .*config\.json is not one/);
});

test('profile show, and settings on a profile not logged in yet', async (t) => {
  const { home, token } = await setUp(t);
  const empty = ok(await run(['profile', 'show', '--profile', 'new'], home), token);
  assert.equal(empty.stdout, '');
  assert.match(empty.stderr, /Nothing is set \(profile "new"\)/);

  const set = ok(await run(['profile', 'set', '--profile', 'new', 'client-login', 'agency-client'], home), token);
  assert.match(set.stderr, /not logged in yet: run `yandex-token login --profile new`/);
  assert.equal(ok(await run(['profile', 'show', '--profile', 'new'], home), token).stdout, 'client-login=agency-client\n');
  assert.deepEqual(JSON.parse(ok(await run(['profile', 'show', '--profile', 'new', '--json'], home), token).stdout), {
    profile: 'new',
    clientLogin: 'agency-client',
    orgId: null,
    cloudOrgId: null,
  });
  assert.deepEqual(Object.keys(config(home).profiles), ['default'], 'no login was made up for it');

  ok(await run(['profile', 'unset', '--profile', 'new'], home), token);
  assert.deepEqual(config(home).settings, {});
});

test('settings outlive a new login and a logout; status shows them', async (t) => {
  const { yandex, home, token } = await setUp(t);
  ok(await run(['profile', 'set', 'client-login', 'client-a'], home), token);

  const fresh = yandex.issueToken({});
  const relogin = await run(['login', '--with-token', '--org-id', '1234567'], home, `${fresh.access_token}\n`);
  ok(relogin, fresh.access_token);
  assert.match(relogin.stderr, /Set org-id for this profile/);
  assert.deepEqual(config(home).settings, { default: { clientLogin: 'client-a', orgId: '1234567' } });

  const status = await run(['status', '--json'], home);
  assert.equal(status.code, 0, status.stderr);
  assert.deepEqual(JSON.parse(status.stdout).profiles[0].settings, { clientLogin: 'client-a', orgId: '1234567', cloudOrgId: null });
  const text = await run(['status'], home);
  assert.match(text.stderr, /Settings\s+client-login=client-a, org-id=1234567/);

  const logout = await run(['logout'], home);
  assert.equal(logout.code, 0, logout.stderr);
  assert.match(logout.stderr, /Kept this profile's client-login, org-id for the next login; `yandex-token profile unset` removes them\./);
  assert.deepEqual(config(home).profiles, {});
  assert.deepEqual(config(home).settings, { default: { clientLogin: 'client-a', orgId: '1234567' } });
  const notLoggedIn = await run(['status', '--profile', 'default'], home);
  assert.equal(notLoggedIn.code, 4);
  assert.match(notLoggedIn.stderr, /Settings\s+client-login=client-a/);
});

test('api sends each service its headers; -H replaces one; the body goes to stdout', async (t) => {
  const { home, echo, token } = await setUp(t);
  ok(await run(['profile', 'set', 'client-login', 'client-a'], home), token);
  ok(await run(['profile', 'set', 'org-id', '77'], home), token);

  const disk = ok(await run(['api', '--for', 'disk', '/v1/disk/'], home), token);
  assert.deepEqual(JSON.parse(disk.stdout), { method: 'GET', path: '/v1/disk/' });
  assert.equal(echo.requests[0]!.headers.authorization, `OAuth ${token}`);

  ok(await run(['api', `${echo.url}/json/v5/campaigns`, '--for', 'direct', '-d', '{"method": "get"}'], home), token);
  const direct = echo.requests[1]!;
  assert.equal(direct.method, 'POST', '-d makes it a POST');
  assert.equal(direct.headers.authorization, `Bearer ${token}`);
  assert.equal(direct.headers['client-login'], 'client-a');
  assert.equal(direct.headers['content-type'], 'application/json');
  assert.equal(direct.body, '{"method": "get"}');

  ok(await run(['api', '--for', 'tracker', '/v3/myself', '-H', 'X-Org-ID: 99', '-H', 'Accept-Language: en'], home), token);
  const tracker = echo.requests[2]!;
  assert.equal(tracker.headers.authorization, `OAuth ${token}`);
  assert.equal(tracker.headers['x-org-id'], '99', "-H replaces the service's header");
  assert.equal(tracker.headers['accept-language'], 'en');

  ok(await run(['api', '-X', 'delete', '--for', '360', '/directory/v1/org/1/users/2'], home), token);
  assert.equal(echo.requests[3]!.method, 'DELETE');
});

test('api fills {orgId} in the URL with the profile\'s org-id; without one, exit 1 naming the command, nothing sent', async (t) => {
  const { home, echo, token } = await setUp(t);
  const missing = await run(['api', '--for', '360', '/directory/v1/org/{orgId}/users'], home);
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr,
    "The URL has {orgId}, and no org-id is set, so no request was sent. Run `yandex-token profile set org-id <id>` with your Yandex 360 organisation's id (`yandex-token api --for 360 /directory/v1/org` lists yours), or write the id in the URL.\n",
  );
  assert.equal(echo.requests.length, 0);

  ok(await run(['profile', 'set', 'org-id', '1234567'], home), token);
  const users = ok(await run(['api', '--for', '360', '/directory/v1/org/{orgId}/users?perPage=10'], home), token);
  assert.deepEqual(JSON.parse(users.stdout), { method: 'GET', path: '/directory/v1/org/1234567/users?perPage=10' });
  ok(await run(['api', `${echo.url}/directory/v1/org/{orgId}/groups`, '--for', '360'], home), token);
  assert.equal(echo.requests[1]!.path, '/directory/v1/org/1234567/groups', 'in a whole URL too');
});

test('api -d @- and -d @FILE send the bytes as given, form-encoded unless they are JSON; -i shows the status and headers', async (t) => {
  const { home, echo, token } = await setUp(t);
  ok(await run(['api', '--for', 'metrica', '/management/v1/counters', '-d', '@-'], home, 'a=1&b=2'), token);
  assert.equal(echo.requests[0]!.body, 'a=1&b=2');
  assert.equal(echo.requests[0]!.headers['content-type'], 'application/x-www-form-urlencoded');

  const file = join(home.dir, 'body.json');
  writeFileSync(file, '{"name": "проект"}');
  ok(await run(['api', '--for', 'metrica', '/x', '-X', 'PUT', '-d', `@${file}`, '-H', 'Content-Type: application/json; charset=utf-8'], home), token);
  assert.equal(echo.requests[1]!.method, 'PUT');
  assert.equal(echo.requests[1]!.body, '{"name": "проект"}');
  assert.equal(echo.requests[1]!.headers['content-type'], 'application/json; charset=utf-8');

  const missing = await run(['api', '--for', 'metrica', '/x', '-d', `@${join(home.dir, 'nope')}`], home);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Cannot read .*nope for -d \(ENOENT\)/);

  echo.replies.push({ status: 201, headers: { 'x-request-id': 'r1' }, body: 'created' });
  const included = ok(await run(['api', '-i', '--for', 'disk', '/v1/disk/resources'], home), token);
  assert.match(included.stdout, /^HTTP\/1\.1 201 Created\n/);
  assert.match(included.stdout, /\nx-request-id: r1\n/);
  assert.match(included.stdout, /\n\ncreated$/);
});

test('api: 400 and above is exit 1 with the status line on stderr and the body on stdout; redirects are not followed', async (t) => {
  const { home, echo, token } = await setUp(t);
  echo.replies.push({ status: 404, body: '{"error":"DiskNotFoundError"}' });
  const missing = await run(['api', '--for', 'disk', '/v1/disk/resources?path=nope'], home);
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, '{"error":"DiskNotFoundError"}');
  assert.match(missing.stderr, /answered HTTP 404 Not Found\.$/m);

  echo.replies.push({ status: 302, headers: { location: 'https://elsewhere.example/' } });
  const moved = await run(['api', '--for', 'disk', '/v1/disk/'], home);
  assert.equal(moved.code, 1);
  assert.match(moved.stderr, /HTTP 302 Found, a redirect to https:\/\/elsewhere\.example\/\. api does not follow redirects/);
  assert.equal(echo.requests.length, 2, 'the redirect was not followed');
  assert.ok(!missing.stderr.includes(token) && !moved.stderr.includes(token));
});

test('api: a 401 renews the token once and retries once', async (t) => {
  const { yandex, home, echo, token } = await setUp(t);
  echo.replies.push({ status: 401, body: '{"error":"UnauthorizedError"}' });
  const renewed = ok(await run(['api', '--for', 'disk', '/v1/disk/'], home), token);
  assert.equal(yandex.counts['token:refresh_token'], 1, 'one renewal');
  assert.equal(echo.requests.length, 2, 'one retry');
  assert.deepEqual(JSON.parse(renewed.stdout), { method: 'GET', path: '/v1/disk/' }, 'only the retry\'s body is written');
  const stored = config(home).profiles.default as { accessToken: string; refreshToken: string };
  assert.equal(echo.requests[1]!.headers.authorization, `OAuth ${stored.accessToken}`, 'the retry carries the renewed token');

  echo.replies.push({ status: 401 }, { status: 401 });
  const refused = await run(['api', '--for', 'disk', '/v1/disk/'], home);
  assert.equal(refused.code, 1);
  assert.equal(yandex.counts['token:refresh_token'], 2, 'again one renewal, not more');
  assert.equal(echo.requests.length, 4, 'and one retry');
  assert.match(refused.stderr, /HTTP 401 Unauthorized after the token was renewed: check that the app has Yandex Disk's permissions/);

  // A token that cannot be renewed (no refresh token): exit 4, saying what the API answered.
  const config1 = config(home);
  (config1.profiles.default as { refreshToken?: string }).refreshToken = undefined;
  writeFileSync(home.configFile, JSON.stringify(config1));
  echo.replies.push({ status: 401 });
  const stuck = await run(['api', '--for', 'disk', '/v1/disk/'], home);
  assert.equal(stuck.code, 4);
  assert.match(stuck.stderr, /answered HTTP 401 \(the token was not accepted\), and renewing the token failed: No refresh token is stored/);
  assert.equal(echo.requests.length, 5, 'no retry without a renewal');
  echo.requests.pop();

  // YANDEX_TOKEN is not ours to renew: the 401 is reported as it is.
  echo.replies.push({ status: 401 });
  const fromEnv = await runCommand(['api', '--for', 'disk', '/v1/disk/'], { ...home.env, YANDEX_TOKEN: 'y0_env' });
  assert.equal(fromEnv.code, 1);
  assert.match(fromEnv.stderr, /answered HTTP 401 Unauthorized\.\n$/, 'no renewal to speak of');
  assert.equal(echo.requests.length, 5);
  assert.equal(yandex.counts['token:refresh_token'], 2);
});

test('a URL\'s service, as api picks its headers: Yandex\'s hosts, with or without a trailing dot', async () => {
  const { serviceForUrl } = await import('../src/services.ts');
  const of = (url: string) => serviceForUrl({ serviceUrls: {} }, new URL(url)).service;
  assert.equal(of('https://api.direct.yandex.com/json/v5/campaigns'), 'direct');
  assert.equal(of('https://API.Direct.Yandex.RU./json/v5/campaigns'), 'direct');
  assert.equal(of('https://api.tracker.yandex.net./v3/myself'), 'tracker');
  assert.equal(of('https://resource-manager.api.cloud.yandex.net./resource-manager/v1/clouds'), 'cloud');
  assert.equal(of('https://cloud-api.yandex.net/v1/disk/'), 'disk');
  assert.equal(of('https://yandex.ru/'), undefined);
});

test('api never sends a login --demo token: exit 4, nothing sent', async (t) => {
  const { yandex, home, echo } = await setUp(t);
  const demo = { ...issuedRecord(yandex, { expiresInMs: 300 * DAY }), demo: true };
  writeConfig(home, { demo });
  const refused = await run(['api', '--profile', 'demo', '--for', 'disk', '/v1/disk/'], home);
  assert.equal(refused.code, 4);
  assert.match(refused.stderr, /is a demo token from the built-in emulator, not a Yandex token, so no request was sent/);
  assert.ok(!refused.stderr.includes(demo.accessToken));
  assert.equal(echo.requests.length, 0);
});

test('api sends a token only to Yandex hosts over https, an origin the environment names, or --allow-host', async (t) => {
  const { home, echo, token } = await setUp(t);
  const refused = await run(['api', 'https://cloud-api.yandex.net.evil.example/v1/disk/'], home);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /cloud-api\.yandex\.net\.evil\.example is not a Yandex host, so no request was sent.*--allow-host cloud-api\.yandex\.net\.evil\.example/);

  const plain = await run(['api', 'http://cloud-api.yandex.net/v1/disk/'], home);
  assert.equal(plain.code, 1);
  assert.match(plain.stderr, /over https only/);

  // The echo server under another name than the environment's: not a Yandex host until --allow-host names it.
  const other = echo.url.replace('127.0.0.1', 'localhost');
  const unnamed = await run(['api', `${other}/anything`], home);
  assert.equal(unnamed.code, 1);
  assert.match(unnamed.stderr, /is not a Yandex host/);
  assert.equal(echo.requests.length, 0, 'nothing was sent');

  const allowed = ok(await run(['api', '--allow-host', other.replace('http://', ''), `${other}/anything`], home), token);
  assert.deepEqual(JSON.parse(allowed.stdout), { method: 'GET', path: '/anything' });
  assert.equal(echo.requests[0]!.headers.authorization, `OAuth ${token}`);

  const path = await run(['api', '/v1/disk/'], home);
  assert.equal(path.code, 1);
  assert.match(path.stderr, /A path needs --for SERVICE/);
});

test('api refuses a -H value with a newline, and says which host could not be reached', async (t) => {
  const { home, echo, token } = await setUp(t);
  const injected = await run(['api', '--for', 'disk', '/v1/disk/', '-H', 'X-A: b\r\nX-Evil: 1'], home);
  assert.equal(injected.code, 1);
  assert.match(injected.stderr, /has a control character \(a newline\?\)/);
  assert.equal(echo.requests.length, 0);

  const closed = await runCommand(['api', '--for', 'disk', '/v1/disk/'], { ...home.env, YANDEX_DISK_URL: 'http://127.0.0.1:9' });
  assert.equal(closed.code, 1);
  assert.match(closed.stderr, /Could not reach http:\/\/127\.0\.0\.1:9 while sending the request: the connection was refused\. Check the URL, and your network, proxy or VPN \(HTTPS_PROXY, NO_PROXY\)\./);
  assert.ok(!closed.stderr.includes(token));

  // Through the proxies the environment names, like every other request: here one that is not running.
  const proxied = await runCommand(['api', '--for', 'disk', '/v1/disk/'], { ...home.env, HTTP_PROXY: 'http://127.0.0.1:9' });
  assert.equal(proxied.code, 1);
  assert.match(proxied.stderr, /Could not reach the proxy http:\/\/127\.0\.0\.1:9 \(HTTP_PROXY\) while sending the request/);
  assert.equal(echo.requests.length, 0);
});

test('api stops the download when its reader goes away (api … | head): exit 0, the connection dropped', async (t) => {
  const { home } = await setUp(t);
  // An answer that never ends on its own: a chunk every few milliseconds until the client goes.
  let closed!: () => void;
  const dropped = new Promise<void>((resolve) => (closed = resolve));
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    const timer = setInterval(() => res.write('x'.repeat(65_536)), 5);
    res.on('close', () => {
      clearInterval(timer);
      closed();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const running = startCli(['api', '--allow-host', host, `http://${host}/logs`], home.env);
  await new Promise((resolve) => running.child.stdout!.once('data', resolve));
  running.child.stdout!.destroy();
  const result = await running.done;
  assert.deepEqual([result.code, result.signal], [0, null], result.stderr);
  await dropped;
});

test('Ctrl-C during api\'s download: exit 2 at once, what came is on stdout, the connection dropped', async (t) => {
  const { home, token } = await setUp(t);
  let closed!: () => void;
  const dropped = new Promise<void>((resolve) => (closed = resolve));
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first chunk\n');
    res.on('close', () => closed());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const controller = new AbortController();
  const { CancelledError } = await import('../src/errors.ts');
  const result = await runCommand(['api', '--allow-host', host, `http://${host}/stream`], home.env, {
    signal: controller.signal,
    onStdout: () => controller.abort(new CancelledError()),
  });
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stdout, 'first chunk\n');
  assert.ok(!result.stderr.includes(token));
  await dropped;
});

/** The settings file and the token live apart: a renewal (here: refresh) never touches the settings. */
test('refresh keeps the settings', async (t) => {
  const { home, token } = await setUp(t);
  ok(await run(['profile', 'set', 'client-login', 'client-a'], home), token);
  ok(await run(['refresh'], home), token);
  assert.deepEqual(config(home).settings, { default: { clientLogin: 'client-a' } });
  assert.equal((config(home).profiles.default as { clientId: string }).clientId, DEMO_CLIENT.id);
});
