// The Node API as a program uses it (`import … from 'yandex-token'`, the package's own exports) against the
// emulator: a token the CLI stored, refreshed under the same lock as print, the typed errors, login in both
// modes, and that it never writes to stdout or stderr.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  CancelledError,
  ConfigError,
  getCredentials,
  getToken,
  listProfiles,
  login,
  NetworkError,
  NotLoggedInError,
  OAuthError,
  UserError,
  type Credentials,
  type TokenRecord,
} from 'yandex-token';
import { browseConsent, type Emulator } from '../src/emulator/index.ts';
import { browserEnv, credentials, DEMO_CLIENT, fakeYandex, freePort, issuedRecord, makeHome, writeConfig, ROOT, runCli, type Home } from './support/harness.ts';

const HOUR = 3600 * 1000;

/** A record as login stores it, for a token the emulator really issued. */
function storedRecord(yandex: Emulator, expiresInMs = HOUR, overrides: Partial<TokenRecord> = {}): TokenRecord {
  const issue = { expiresIn: 3600, deviceId: 'yt-api-test-device' };
  return issuedRecord(yandex, { expiresInMs, ageMs: HOUR, issue, record: { tokenType: 'bearer', login: 'demo.user', ...overrides } });
}

function stored(home: Home, profile = 'default'): TokenRecord {
  return JSON.parse(readFileSync(home.configFile, 'utf8')).profiles[profile];
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  assert.fail('expected a rejection');
}

async function closedUrl(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}`;
}

test('getToken returns the token of a profile the CLI logged in; getCredentials and listProfiles read the same file', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const port = await freePort();
  const cliLogin = await runCli(['login', ...credentials(), '--port', String(port), '--profile', 'client-a'], browserEnv(home));
  assert.equal(cliLogin.code, 0, cliLogin.stderr);
  const print = await runCli(['print', '--profile', 'client-a'], home.env);

  const token = await getToken({ profile: 'client-a', env: home.env });
  assert.equal(`${token}\n`, print.stdout);
  assert.equal(yandex.counts['token:refresh_token'], undefined, 'a fresh token is not refreshed');

  const creds: Credentials = await getCredentials({ profile: 'client-a', env: home.env });
  assert.equal(creds.profile, 'client-a');
  assert.equal(creds.accessToken, token);
  assert.equal(creds.login, 'demo.user');
  assert.equal(creds.clientId, DEMO_CLIENT.id);
  assert.ok(creds.refreshToken);
  assert.deepEqual({ ...creds, profile: undefined }, { ...stored(home, 'client-a'), profile: undefined });

  assert.deepEqual(await listProfiles({ env: home.env }), ['client-a']);
  // The profile from the environment, as the CLI takes it; and configDir instead of the environment's folder.
  assert.equal(await getToken({ env: { ...home.env, YANDEX_TOKEN_PROFILE: 'client-a' } }), token);
  assert.equal(await getToken({ profile: 'client-a', env: {}, configDir: home.configDir }), token);
});

test('getToken refreshes an expired token once, stores it, and shares the lock with print', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const old = storedRecord(yandex, -HOUR);
  writeConfig(home, { default: old });

  // Five API calls and five print processes at the same moment, on one expired token.
  const [api, cli] = await Promise.all([
    Promise.all(Array.from({ length: 5 }, () => getToken({ env: home.env }))),
    Promise.all(Array.from({ length: 5 }, () => runCli(['print'], home.env))),
  ]);
  assert.equal(yandex.counts['token:refresh_token'], 1, 'one refresh between all ten');
  const record = stored(home);
  assert.notEqual(record.accessToken, old.accessToken);
  assert.notEqual(record.refreshToken, old.refreshToken);
  for (const token of api) assert.equal(token, record.accessToken);
  for (const run of cli) assert.equal(run.stdout, `${record.accessToken}\n`, run.stderr);

  // forceRefresh renews a fresh token, as `yandex-token refresh` does.
  const forced = await getToken({ env: home.env, forceRefresh: true });
  assert.equal(yandex.counts['token:refresh_token'], 2);
  assert.equal(forced, stored(home).accessToken);
});

test('a failed renewal of a token that still works is a warning to onWarning, and the token is returned', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const soon = storedRecord(yandex, 30_000);
  writeConfig(home, { default: soon });
  const warnings: string[] = [];
  const token = await getToken({ env: { ...home.env, YANDEX_OAUTH_URL: await closedUrl() }, onWarning: (m) => warnings.push(m) });
  assert.equal(token, soon.accessToken);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^Could not renew the token, which still works until .* UTC; the next attempt is in an hour\. Could not reach http:\/\/127\.0\.0\.1:\d+/);
});

test('not logged in: NotLoggedInError with exit code 4 and the command that fixes it', async (t) => {
  const home = makeHome(t);
  for (const call of [getToken({ env: home.env }), getCredentials({ env: home.env }), getToken({ env: home.env, profile: 'nobody' })]) {
    const error = await rejection(call);
    assert.ok(error instanceof NotLoggedInError, String(error));
    assert.ok(error instanceof UserError);
    assert.equal(error.exitCode, 4);
    assert.match(error.message, /^Not logged in.*Run `yandex-token login( --profile nobody)?` first\.$/);
  }
  assert.deepEqual(await listProfiles({ env: home.env }), []);
});

test('Yandex refusing the refresh: NotLoggedInError whose cause is the OAuthError with Yandex\'s code', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const dead = storedRecord(yandex, -HOUR, { refreshToken: '1:emu:never-issued' });
  const wrongSecret = storedRecord(yandex, -HOUR, { clientSecret: 'not-the-secret' });
  writeConfig(home, { dead, wrongSecret });
  const before = readFileSync(home.configFile, 'utf8');

  for (const [profile, code] of [
    ['dead', 'invalid_grant'],
    ['wrongSecret', 'invalid_client'],
  ] as const) {
    const error = await rejection(getToken({ profile, env: home.env }));
    assert.ok(error instanceof NotLoggedInError, `${profile}: ${error}`);
    assert.ok(error.cause instanceof OAuthError, `${profile}: the cause is the OAuthError`);
    assert.equal(error.cause.code, code);
    assert.equal(error.cause.status, 400);
    assert.match(
      error.message,
      new RegExp(`The token \\(profile "${profile}"\\) has expired, and Yandex refused to renew it \\(${code}: .+\\)\\. Run \`yandex-token login --profile ${profile}\` again\\.`),
    );
  }
  const then = JSON.parse(before) as { profiles: Record<string, TokenRecord> };
  for (const profile of ['dead', 'wrongSecret']) {
    const { renewalFailedAt, renewalRefused, ...tokens } = stored(home, profile);
    assert.deepEqual(tokens, then.profiles[profile], 'the stored tokens are left as they were');
    assert.ok(renewalFailedAt, 'the failed attempt is noted');
  }
});

test('a blocked app: unauthorized_client, for a refresh and for a login', async (t) => {
  const yandex = await fakeYandex(t, { clients: [{ ...DEMO_CLIENT, blocked: true }] });
  const home = makeHome(t, yandex);
  writeConfig(home, { default: storedRecord(yandex, -HOUR) });
  const refresh = await rejection(getToken({ env: home.env }));
  assert.ok(refresh instanceof NotLoggedInError && refresh.cause instanceof OAuthError);
  assert.equal(refresh.cause.code, 'unauthorized_client');

  // Yandex sends the browser straight back with error=unauthorized_client: follow that redirect.
  const followRedirect = async (url: string) => {
    const answer = await fetch(url, { redirect: 'manual' });
    const location = answer.headers.get('location');
    if (location) void fetch(location).then((page) => page.text());
  };
  const signIn = await rejection(
    login({ ...DEMO_API_APP, profile: 'blocked', port: await freePort(), env: home.env, timeoutSeconds: 20, openBrowser: followRedirect }),
  );
  assert.ok(signIn instanceof OAuthError, String(signIn));
  assert.equal(signIn.code, 'unauthorized_client');
});

test('Yandex unreachable: NetworkError; a broken config file: ConfigError; YANDEX_TOKEN wins', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const expired = storedRecord(yandex, -HOUR);
  writeConfig(home, { default: expired, portal: storedRecord(yandex, -HOUR), fresh: storedRecord(yandex, HOUR, { obtainedAt: new Date().toISOString() }) });

  // An expired token that could not be renewed is unusable (exit 4), whatever the reason; the cause says it.
  const offline = await rejection(getToken({ env: { ...home.env, YANDEX_OAUTH_URL: await closedUrl() } }));
  assert.ok(offline instanceof NotLoggedInError && offline.cause instanceof NetworkError, String(offline));
  assert.equal(offline.exitCode, 4);
  yandex.fail('/token', 'html', 1);
  const portal = await rejection(getToken({ env: home.env, profile: 'portal' }));
  assert.ok(portal instanceof NotLoggedInError && portal.cause instanceof NetworkError, String(portal));
  assert.equal(stored(home).accessToken, expired.accessToken, 'nothing was stored');
  // `forceRefresh` of a token that still works: the NetworkError itself (exit 1).
  const forcedOffline = await rejection(getToken({ env: { ...home.env, YANDEX_OAUTH_URL: await closedUrl() }, profile: 'fresh', forceRefresh: true }));
  assert.ok(forcedOffline instanceof NetworkError, String(forcedOffline));
  assert.equal(forcedOffline.exitCode, 1);

  assert.equal(await getToken({ env: { ...home.env, YANDEX_TOKEN: 'y0_from_ci' } }), 'y0_from_ci');
  const forced = await rejection(getToken({ env: { ...home.env, YANDEX_TOKEN: 'y0_from_ci' }, forceRefresh: true }));
  assert.ok(forced instanceof NotLoggedInError);
  assert.match(forced.message, /YANDEX_TOKEN, which cannot be refreshed/);

  writeFileSync(home.configFile, '{ not json');
  for (const call of [getToken({ env: home.env }), getCredentials({ env: home.env }), listProfiles({ env: home.env })]) {
    const error = await rejection(call);
    assert.ok(error instanceof ConfigError, String(error));
    assert.ok(error.message.includes(home.configFile));
  }
  assert.equal(readFileSync(home.configFile, 'utf8'), '{ not json', 'left untouched');

  const badName = await rejection(getToken({ env: home.env, profile: '../etc' }));
  assert.ok(badName instanceof UserError);
  assert.match(badName.message, /not a profile name/);
});

const DEMO_API_APP = { clientId: DEMO_CLIENT.id, clientSecret: DEMO_CLIENT.secret };

test('login runs the loopback flow for an embedding program, stores what print then prints, and returns it', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const port = await freePort();
  const urls: string[] = [];
  const messages: string[] = [];
  const creds = await login({
    ...DEMO_API_APP,
    profile: 'embedded',
    port,
    scope: 'cloud_api:disk.read',
    env: home.env,
    openBrowser: async (url) => {
      urls.push(url);
      // The program's own UI would show the URL; here the emulator's consent page is answered at once.
      void browseConsent(url, 'allow');
    },
    onMessage: (line) => messages.push(line),
  });
  assert.equal(urls.length, 1);
  assert.match(urls[0]!, new RegExp(`^${yandex.url}/authorize\\?response_type=code&client_id=${DEMO_CLIENT.id}&redirect_uri=http%3A%2F%2F127\\.0\\.0\\.1%3A${port}%2Fcallback&`));
  assert.equal(creds.profile, 'embedded');
  assert.equal(creds.login, 'demo.user');
  assert.equal(creds.scope, 'cloud_api:disk.read');
  assert.deepEqual({ ...creds, profile: undefined }, { ...stored(home, 'embedded'), profile: undefined });
  assert.ok(messages.some((m) => m.includes(urls[0]!)), 'the URL is among the messages');
  assert.equal(messages.at(-1), `Logged in as demo.user. Token saved to ${home.configFile}.`);
  assert.ok(!messages.join('\n').includes(DEMO_CLIENT.secret), 'the secret is never in a message');

  const print = await runCli(['print', '--profile', 'embedded'], home.env);
  assert.equal(print.stdout, `${creds.accessToken}\n`);
});

test('login errors a program can branch on: access_denied, invalid_client, missing credentials, an abort', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const base = { env: home.env, openBrowser: false as const };

  const denied = await rejection(login({ ...DEMO_API_APP, ...base, port: await freePort(), openBrowser: (url) => browseConsent(url, 'deny') }));
  assert.ok(denied instanceof OAuthError, String(denied));
  assert.equal(denied.code, 'access_denied');
  assert.equal(denied.exitCode, 1);

  const wrong = await rejection(
    login({ ...DEMO_API_APP, clientSecret: 'wrong', ...base, port: await freePort(), openBrowser: (url) => browseConsent(url, 'allow') }),
  );
  assert.ok(wrong instanceof OAuthError, String(wrong));
  assert.equal(wrong.code, 'invalid_client');

  const missing = await rejection(login({ clientId: DEMO_CLIENT.id, ...base } as never));
  assert.ok(missing instanceof UserError);
  assert.match(missing.message, /^login\(\) needs clientSecret/);

  const controller = new AbortController();
  const waiting = login({ ...DEMO_API_APP, ...base, port: await freePort(), signal: controller.signal, onMessage: (line) => line.startsWith('Waiting') && controller.abort() });
  const aborted = await rejection(waiting);
  assert.ok(aborted instanceof CancelledError, String(aborted));
  assert.deepEqual(await listProfiles({ env: home.env }), [], 'nothing was stored by any of them');
});

test('login in device mode hands the code to onDeviceCode and stores the token once it is allowed', async (t) => {
  const yandex = await fakeYandex(t, { deviceIntervalSeconds: 1 });
  const home = makeHome(t, yandex);
  const shown: { userCode: string; verificationUrl: string; expiresIn: number }[] = [];
  const creds = await login({
    ...DEMO_API_APP,
    mode: 'device',
    profile: 'tv',
    env: home.env,
    openBrowser: false,
    onDeviceCode: (code) => {
      shown.push(code);
      yandex.decideDevice(code.userCode, true);
    },
  });
  assert.equal(shown.length, 1);
  assert.equal(shown[0]!.verificationUrl, `${yandex.url}/device`);
  assert.ok(shown[0]!.expiresIn > 0);
  assert.equal(creds.profile, 'tv');
  assert.equal(await getToken({ profile: 'tv', env: home.env }), creds.accessToken);
});

test('nothing is ever written to stdout or stderr: not on a refresh, a warning, an error or a login', async (t) => {
  const yandex = await fakeYandex(t, { deviceIntervalSeconds: 1 });
  const home = makeHome(t, yandex);
  writeConfig(home, { default: storedRecord(yandex, -HOUR), soon: storedRecord(yandex, 30_000) });
  const closed = await closedUrl();
  // A program of its own, in a child process, so that its stdout and stderr are all there is.
  const program = `
    import { getToken, login } from 'yandex-token';
    import { browseConsent } from './src/emulator/index.ts';
    const env = JSON.parse(process.env.TEST_ENV);
    const results = [];
    const attempt = async (name, call) => {
      try { results.push([name, typeof (await call())]); } catch (error) { results.push([name, error.name]); }
    };
    await attempt('refreshed', () => getToken({ env }));
    await attempt('warned', () => getToken({ env: { ...env, YANDEX_OAUTH_URL: ${JSON.stringify(closed)} }, profile: 'soon' }));
    await attempt('missing', () => getToken({ env, profile: 'nobody' }));
    await attempt('loopback', () => login({ clientId: 'demo-client-id', clientSecret: 'demo-client-secret', port: ${await freePort()}, profile: 'a', env, openBrowser: (url) => void browseConsent(url, 'allow') }));
    await attempt('denied', () => login({ clientId: 'demo-client-id', clientSecret: 'demo-client-secret', port: ${await freePort()}, profile: 'b', env, openBrowser: (url) => void browseConsent(url, 'deny') }));
    // Through the real process.stdout only after every call, as the test's own report.
    process.stdout.write(JSON.stringify(results));
  `;
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', program],
      { cwd: ROOT, env: { PATH: process.env.PATH, TEST_ENV: JSON.stringify(home.env) }, timeout: 60_000 },
      (error, out, err) => (error ? reject(Object.assign(error, { stderr: err })) : resolve({ stdout: out, stderr: err })),
    );
  });
  assert.equal(stderr, '');
  assert.deepEqual(JSON.parse(stdout), [
    ['refreshed', 'string'],
    ['warned', 'string'],
    ['missing', 'NotLoggedInError'],
    ['loopback', 'object'],
    ['denied', 'OAuthError'],
  ]);
});
