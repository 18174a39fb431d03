// Yandex out of reach, and signals in the middle of a request, for every command that talks to Yandex
// after (or instead of) the loopback login: refresh, status, print when a refresh is due, logout,
// login --device (the code request and the polls), login --device --poll and login --no-localhost (the
// exchange). Each run ends in one sentence and the right exit code, with no stack trace; the config file
// stays byte for byte as it was (logout alone forgets the profile, as it says), and no lock is left behind.
// Out of reach means three things: a closed loopback port, a host name that never resolves (.invalid), and
// a server that accepts the connection and never answers (with YANDEX_TOKEN_HTTP_TIMEOUT=1).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { describe, test, type TestContext } from 'node:test';
import type { Emulator } from '../src/emulator/index.ts';
import type { ConfigData, PendingDeviceLogin } from '../src/store/read.ts';
import type { TokenRecord } from '../src/token/record.ts';
import { DEMO_CLIENT, assertCleanFailure, credentials, fakeYandex, freePort, makeHome, runCli, startCli, type Home, type RunResult, type Running } from './support/harness.ts';
import { runCommand } from './support/in-process.ts';

const HOUR = 3600 * 1000;


function assertNoLock(home: Home): void {
  assert.ok(!existsSync(`${home.configFile}.lock`), 'no lock is left behind');
}

function writeConfig(home: Home, data: ConfigData): Buffer {
  mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
  const bytes = Buffer.from(`${JSON.stringify(data, null, 2)}\n`);
  writeFileSync(home.configFile, bytes, { mode: 0o600 });
  return bytes;
}

function readConfig(home: Home): ConfigData {
  return JSON.parse(readFileSync(home.configFile, 'utf8')) as ConfigData;
}

/** A stored login as `login` writes it; the tokens need not be real, since Yandex is never reached. */
function record(expiresInMs: number, accessToken = `y0_stored_${expiresInMs > 0 ? 'fresh' : 'expired'}`): TokenRecord {
  return {
    accessToken,
    refreshToken: `1:stored-refresh-${accessToken}`,
    tokenType: 'bearer',
    expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
    clientId: DEMO_CLIENT.id,
    clientSecret: DEMO_CLIENT.secret,
    login: 'demo.user',
    obtainedAt: new Date(Date.now() - HOUR).toISOString(),
    deviceId: 'yt-stored-device-0001',
    deviceName: 'test box',
  };
}

/** A device login left pending by `login --device --no-wait`, its code still alive. */
function pending(): PendingDeviceLogin {
  return {
    deviceCode: 'stored-device-code',
    userCode: 'abcdefgh',
    verificationUrl: 'https://oauth.yandex.ru/device',
    interval: 1,
    expiresIn: 300,
    expiresAt: new Date(Date.now() + 240_000).toISOString(),
    lastPollAt: new Date(Date.now() - 10_000).toISOString(),
    clientId: DEMO_CLIENT.id,
    clientSecret: DEMO_CLIENT.secret,
    deviceId: 'yt-stored-device-0001',
  };
}

/** Two logins (one fresh, one expired and refreshable) and a pending device login: what every run must keep. */
function storedData(): ConfigData {
  return {
    profiles: { default: record(HOUR), expired: record(-HOUR) },
    deviceIds: { default: 'yt-stored-device-0001', expired: 'yt-stored-device-0001' },
    pending: { default: pending() },
  };
}

/** A server that accepts connections and never answers a byte. */
async function silentServer(t: TestContext): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

type Unreachable = 'a closed port' | 'a host that does not resolve' | 'a server that never answers';
const UNREACHABLE: Unreachable[] = ['a closed port', 'a host that does not resolve', 'a server that never answers'];

/** Both Yandex URLs pointed at `kind`, and the sentence that must end the run for `action`. */
async function outOfReach(t: TestContext, kind: Unreachable, action: string): Promise<{ env: Record<string, string>; sentence: RegExp }> {
  const act = action.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const network = 'Check your network, proxy or VPN, and YANDEX_OAUTH_URL / YANDEX_LOGIN_URL if you set them\\.';
  let url: string;
  let timeout: string;
  let sentence: RegExp;
  if (kind === 'a closed port') {
    url = `http://127.0.0.1:${await freePort()}`;
    timeout = '30';
    sentence = new RegExp(`^Could not reach http://127\\.0\\.0\\.1:\\d+ while ${act}: the connection was refused\\. ${network}`);
  } else if (kind === 'a host that does not resolve') {
    // .invalid never resolves (RFC 6761); a resolver that cannot be reached at all runs into the timeout.
    url = 'http://yandex-token-test.invalid';
    timeout = '5';
    sentence = new RegExp(
      `^(Could not reach http://yandex-token-test\\.invalid while ${act}: the host name could not be resolved\\. ${network}|http://yandex-token-test\\.invalid did not answer within 5 s while ${act}\\.)`,
    );
  } else {
    url = await silentServer(t);
    timeout = '1';
    sentence = new RegExp(`^http://127\\.0\\.0\\.1:\\d+ did not answer within 1 s while ${act}\\. Check your network or proxy, or raise YANDEX_TOKEN_HTTP_TIMEOUT\\.`);
  }
  return { env: { YANDEX_OAUTH_URL: url, YANDEX_LOGIN_URL: url, YANDEX_TOKEN_HTTP_TIMEOUT: timeout }, sentence };
}

interface Case {
  title: string;
  args: string[];
  action: string;
  input?: string;
  /** Checks what became of the config; by default it must be byte for byte as it was. */
  kept?: (home: Home, before: Buffer) => void;
  code?: number;
  /** The last line for runs that succeed (logout). */
  last?: RegExp;
  /** How the last sentence ends, when it says more than what went wrong. */
  ending?: RegExp;
  /** What comes before the sentence about the network (a regular expression's source). */
  lead?: string;
}

const CASES: Case[] = [
  { title: '`refresh`', args: ['refresh'], action: 'refreshing the token' },
  {
    title: '`print` of an expired token',
    args: ['print', '--profile', 'expired'],
    action: 'refreshing the token',
    // Expired and not renewed: unusable (exit 4), whatever the reason, and the attempt is noted.
    code: 4,
    lead: 'The token \\(profile "expired"\\) has expired, and renewing it failed: ',
    ending: / Once that is fixed, `yandex-token refresh --profile expired` may still renew it; otherwise run `yandex-token login --profile expired` again\.$/,
    kept: (home, before) => {
      const expected = JSON.parse(before.toString('utf8')) as ConfigData;
      const { renewalFailedAt, ...tokens } = readConfig(home).profiles.expired!;
      assert.ok(renewalFailedAt);
      assert.deepEqual({ ...readConfig(home), profiles: { ...readConfig(home).profiles, expired: tokens } }, expected);
    },
  },
  { title: '`status`', args: ['status', '--profile', 'default'], action: 'fetching the account info' },
  { title: '`login --device` (the code request)', args: ['login', '--device', ...credentials(), '--no-browser'], action: 'asking for a device code' },
  {
    title: '`login --device --poll`',
    args: ['login', '--device', '--poll'],
    action: 'waiting for the code to be entered on the Yandex page',
    // Exit 1 from --poll usually means "start again"; here the code still stands.
    ending: / The code abcdefgh is still pending: run `yandex-token login --device --poll` again once Yandex can be reached\.$/,
  },
  {
    title: '`login --no-localhost` (the exchange)',
    args: ['login', '--no-localhost', ...credentials(), '--no-browser'],
    input: 'pasted-code-1234\n',
    action: 'exchanging the pasted code for a token',
  },
  {
    title: '`logout`',
    args: ['logout'],
    action: 'revoking the token',
    code: 0,
    last: /^Logged out demo\.user: the token was removed from .*config\.json\.$/,
    kept: (home, before) => {
      // The profile is forgotten here, as the warning says; everything else is as it was.
      const expected = JSON.parse(before.toString('utf8')) as ConfigData;
      delete expected.profiles.default;
      assert.deepEqual(readConfig(home), expected);
    },
  },
];

describe('Yandex out of reach', { concurrency: true }, () => {
  for (const kind of UNREACHABLE) {
    for (const c of CASES) {
      test(`${c.title} with ${kind}: exit ${c.code ?? 1}, one sentence, the config kept`, async (t) => {
        const home = makeHome(t);
        const before = writeConfig(home, storedData());
        const reach = await outOfReach(t, kind, c.action);
        const { env } = reach;
        const sentence = c.lead ? new RegExp(`^${c.lead}${reach.sentence.source.slice(1)}`) : reach.sentence;
        // In-process: what is tested is the sentence and the file, not the process.
        const result = await runCommand(c.args, { ...home.env, ...env }, { input: c.input ?? '' });
        if (c.code === 0) {
          assertCleanFailure(result, 0, c.last!);
          const warning = result.stderr.split('\n').find((line) => line.startsWith('Warning: '));
          assert.ok(warning, `a warning: ${result.stderr}`);
          const said = warning.replace(/^Warning: Could not revoke the token at Yandex\. /, '');
          assert.match(said, sentence);
          assert.match(said, / It was forgotten here but stays valid until it expires .* https:\/\/id\.yandex\.ru\/personal\/data-access\.$/);
        } else {
          const last = assertCleanFailure(result, c.code ?? 1, sentence);
          if (c.ending) assert.match(last, c.ending);
        }
        (c.kept ?? ((h, b) => assert.deepEqual(readFileSync(h.configFile), b, 'the config file is byte for byte as it was')))(home, before);
        assertNoLock(home);
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------------
// The device login's polls, once the code is shown.

async function startDevice(t: TestContext, extraEnv: Record<string, string> = {}, codeSeconds = 300) {
  const yandex = await fakeYandex(t, { deviceIntervalSeconds: 1, deviceExpiresInSeconds: codeSeconds });
  const home = makeHome(t, yandex, extraEnv);
  const before = writeConfig(home, storedData());
  const running = startCli(['login', '--device', ...credentials(), '--no-browser'], home.env);
  const shown = await running.waitForStderr(/enter this code:\n\n {2}(\S+)\n/);
  const userCode = /enter this code:\n\n {2}(\S+)\n/.exec(shown)![1]!;
  return { yandex, home, before, running, userCode };
}

/** Waits (bounded) until the emulator has seen a request matching `what`. */
async function until(yandex: Emulator, what: (path: string, grant?: string) => boolean, label: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!yandex.requests.some((r) => what(r.path, r.form.grant_type))) {
    assert.ok(Date.now() < deadline, `${label} never reached the emulator`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const isPoll = (path: string, grant?: string) => path === '/token' && grant === 'device_code';
const POLL_UNREACHABLE = /^Warning: Could not reach http:\/\/127\.0\.0\.1:\d+ while waiting for the code to be entered on the Yandex page: the connection was (refused|reset)\..* Still trying until the code expires \(Ctrl-C to stop\)\.$/m;

// Each test has its own home and servers, and mostly waits (for a timeout, a code's expiry, a process): side by side.
describe('once a login waits or a request hangs', { concurrency: 9 }, () => {
  test('`login --device` when Yandex goes away during the polls: it says so, keeps trying, and fails when the code expires', async (t) => {
    const { yandex, home, before, running, userCode } = await startDevice(t, {}, 4);
    await until(yandex, isPoll, 'the first poll');
    await yandex.close();
    const result = await running.done;
    assertCleanFailure(
      result,
      1,
      new RegExp(`^The code ${userCode} expired while Yandex could not be reached\\. The last try: Could not reach http://127\\.0\\.0\\.1:\\d+ while waiting .*\\. Then run \`yandex-token login --device\` again\\.$`),
    );
    assert.equal(result.stderr.match(new RegExp(POLL_UNREACHABLE.source, 'gm'))?.length, 1, `said once:\n${result.stderr}`);
    assert.deepEqual(readFileSync(home.configFile), before);
    assertNoLock(home);
  });

  test('`login --device` when polls are never answered: each ends after YANDEX_TOKEN_HTTP_TIMEOUT, and the login when the code expires', async (t) => {
    const { yandex, home, before, running } = await startDevice(t, { YANDEX_TOKEN_HTTP_TIMEOUT: '1' }, 4);
    await until(yandex, isPoll, 'the first poll');
    yandex.fail('/token', 'hang');
    const result = await running.done;
    assertCleanFailure(result, 1, /^The code \S+ expired while Yandex could not be reached\. The last try: http:\/\/127\.0\.0\.1:\d+ did not answer within 1 s while waiting for the code to be entered on the Yandex page\./);
    assert.deepEqual(readFileSync(home.configFile), before);
    assertNoLock(home);
  });

  test('`login --device` through an outage: the code entered meanwhile still logs in, and the end of the outage is said', async (t) => {
    const { yandex, home, running, userCode } = await startDevice(t);
    await until(yandex, isPoll, 'the first poll');
    yandex.fail('/token', 'server-error', 2);
    assert.ok(yandex.decideDevice(userCode, true));
    const result = await running.done;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^Warning: http:\/\/127\.0\.0\.1:\d+ answered HTTP 503 .* Still trying until the code expires \(Ctrl-C to stop\)\.$/m);
    assert.match(result.stderr, /^Yandex can be reached again; still waiting for the code to be entered\.$/m);
    assert.match(result.stderr, /Logged in/);
    assert.equal(readConfig(home).profiles.default?.login, 'demo.user');
  });

  // ---------------------------------------------------------------------------------------------------
  // Signals while a request to Yandex hangs, or while a login waits.

  const SIGNALS = [
    ['SIGINT', 2, /^Cancelled\. Nothing was stored\.$/],
    ['SIGTERM', 143, /^Terminated\. Nothing was stored\.$/],
    ['SIGHUP', 129, /^Hung up \(the terminal was closed\)\. Nothing was stored\.$/],
  ] as const;

  async function interrupt(running: Running, signal: NodeJS.Signals): Promise<RunResult> {
    running.child.kill(signal);
    return running.done;
  }

  for (const [signal, code, sentence] of SIGNALS) {
    test(`${signal} during a \`refresh\` whose token request hangs: exit ${code}, the lock released, the token kept`, async (t) => {
      const yandex = await fakeYandex(t);
      const home = makeHome(t, yandex);
      const issued = yandex.issueToken({ expiresIn: 0, refreshExpiresIn: 3600, deviceId: 'yt-stored-device-0001' });
      const before = writeConfig(home, {
        profiles: { default: { ...record(-HOUR, issued.access_token), refreshToken: issued.refresh_token } },
        deviceIds: {},
      });
      yandex.fail('/token', 'hang');
      const running = startCli(['refresh'], home.env);
      await until(yandex, (path) => path === '/token', 'the refresh');
      assertCleanFailure(await interrupt(running, signal), code, sentence);
      assert.deepEqual(readFileSync(home.configFile), before, 'the stored token is kept as it was');
      assertNoLock(home);

      // Nothing waits on a stale lock: the next print refreshes at once, and so does the next refresh.
      yandex.clearFailures();
      const print = await runCli(['print'], home.env);
      assert.equal(print.code, 0, print.stderr);
      const stored = readConfig(home).profiles.default!;
      assert.equal(print.stdout, `${stored.accessToken}\n`);
      assert.notEqual(stored.refreshToken, issued.refresh_token, 'the refresh happened');
      const refresh = await runCli(['refresh'], home.env);
      assert.equal(refresh.code, 0, refresh.stderr);
      assert.equal(yandex.counts['token:refresh_token'], 2);
      assertNoLock(home);
    });

    test(`${signal} during a \`logout\` whose revocation hangs: exit ${code}, the login kept, the lock released`, async (t) => {
      const yandex = await fakeYandex(t);
      const home = makeHome(t, yandex);
      const issued = yandex.issueToken({ deviceId: 'yt-stored-device-0001' });
      const before = writeConfig(home, { profiles: { default: record(HOUR, issued.access_token) }, deviceIds: {} });
      yandex.fail('/revoke_token', 'hang');
      const running = startCli(['logout'], home.env);
      await until(yandex, (path) => path === '/revoke_token', 'the revocation');
      assertCleanFailure(await interrupt(running, signal), code, sentence);
      assert.deepEqual(readFileSync(home.configFile), before, 'the login is not forgotten half-way');
      assertNoLock(home);
      yandex.clearFailures();
      const logout = await runCli(['logout'], home.env);
      assert.equal(logout.code, 0, logout.stderr);
      assert.match(logout.stderr, /the token was revoked at Yandex and removed from/);
    });

    test(`${signal} during \`login --device\`, in the code request or the polls: exit ${code}, nothing stored`, async (t) => {
      // The code request hangs.
      const yandex = await fakeYandex(t, { deviceIntervalSeconds: 1 });
      yandex.fail('/device/code', 'hang');
      const home = makeHome(t, yandex);
      const asking = startCli(['login', '--device', ...credentials(), '--no-browser'], home.env);
      await until(yandex, (path) => path === '/device/code', 'the code request');
      assertCleanFailure(await interrupt(asking, signal), code, sentence);
      assert.ok(!existsSync(home.configFile), 'nothing stored');
      assertNoLock(home);

      // The code is shown and polled for.
      yandex.clearFailures();
      const { yandex: polled, home: other, before, running } = await startDevice(t);
      await until(polled, isPoll, 'the first poll');
      assertCleanFailure(await interrupt(running, signal), code, sentence);
      assert.deepEqual(readFileSync(other.configFile), before, 'nothing stored; the config file is as it was');
      assertNoLock(other);
    });

    test(`${signal} during \`login --no-localhost\`, waiting for the code or exchanging it: exit ${code}, nothing stored`, async (t) => {
      const yandex = await fakeYandex(t);
      const home = makeHome(t, yandex);
      const args = ['login', '--no-localhost', ...credentials(), '--no-browser'];
      const waiting = startCli(args, home.env);
      await waiting.waitForStderr(/Reading the code from stdin/);
      assertCleanFailure(await interrupt(waiting, signal), code, sentence);
      assert.ok(!existsSync(home.configFile), 'nothing stored');
      assertNoLock(home);

      yandex.fail('/token', 'hang');
      const exchanging = startCli(args, home.env);
      await exchanging.waitForStderr(/Reading the code from stdin/);
      exchanging.child.stdin!.write('pasted-code-1234\n');
      await until(yandex, (path) => path === '/token', 'the exchange');
      assertCleanFailure(await interrupt(exchanging, signal), code, sentence);
      assert.ok(!existsSync(home.configFile), 'nothing stored');
      assertNoLock(home);
    });
  }

  test('Ctrl-C on a print that waits for the lock of a hanging refresh ends it at once; the refresh still holds', async (t) => {
    const yandex = await fakeYandex(t);
    const home = makeHome(t, yandex, { YANDEX_TOKEN_HTTP_TIMEOUT: '120' });
    const issued = yandex.issueToken({ expiresIn: 0, refreshExpiresIn: 3600 });
    const before = writeConfig(home, {
      profiles: { default: { ...record(-HOUR, issued.access_token), refreshToken: issued.refresh_token } },
      deviceIds: {},
    });
    yandex.fail('/token', 'hang');
    const refresh = startCli(['refresh'], home.env, { timeoutMs: 90_000 });
    await until(yandex, (path) => path === '/token', 'the refresh');
    assert.ok(existsSync(`${home.configFile}.lock`), 'the refresh holds the lock');

    // The print finds the token expired and waits for the lock (it says so after 2 s); Ctrl-C must not wait along with it.
    const print = startCli(['print'], home.env, { timeoutMs: 90_000 });
    await print.waitForStderr(/Waiting for another yandex-token to finish/, 15_000);
    print.child.kill('SIGINT');
    const first = await Promise.race([print.done.then(() => 'print'), refresh.done.then(() => 'refresh')]);
    assert.equal(first, 'print', 'the print ended while the refresh still held the lock');
    assertCleanFailure(await print.done, 2, /^Cancelled\. Nothing was stored\.$/);
    assert.ok(existsSync(`${home.configFile}.lock`), "the refresh's lock is untouched");

    assertCleanFailure(await interrupt(refresh, 'SIGINT'), 2, /^Cancelled\. Nothing was stored\.$/);
    assert.deepEqual(readFileSync(home.configFile), before);
    assertNoLock(home);
  });
});
