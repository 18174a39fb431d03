// Fault injection: nothing lost, nothing injected. A real tiny file system (a 64 KiB tmpfs, as root) that
// fills up mid-write; token endpoints answering with hostile tokens and nonsense lifetimes; config files
// that are hand-edited into something no write may keep (control characters in a token, invalid UTF-8,
// 5,000 levels of nesting, content past 1 MiB, a symlink to another program's file). Every case ends in
// one sentence naming the file or the answer, and the config file byte for byte as it was.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  ftruncateSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Emulator } from '../src/emulator/index.ts';
import type { TokenRecord } from '../src/token/record.ts';
import {
  DEMO_CLIENT,
  ROOT,
  assertCleanFailure,
  browserEnv,
  credentials,
  fakeYandex,
  freePort,
  issuedRecord,
  makeHome,
  runCli,
  tempDir,
  type Home,
  type RunResult,
} from './support/harness.ts';
import { runCommand, testClock } from './support/in-process.ts';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const HOUR = 3_600_000;

/** A record for a token the emulator really issued, expired an hour ago unless said otherwise. */
function issued(yandex: Emulator, expiresInMs = -HOUR): TokenRecord {
  return issuedRecord(yandex, { expiresInMs, ageMs: HOUR, issue: { expiresIn: 3600 }, record: { login: 'demo.user' } });
}

function writeRaw(home: Home, content: string | Buffer): Buffer {
  mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
  writeFileSync(home.configFile, content, { mode: 0o600 });
  return readFileSync(home.configFile);
}

/** What a write must never leave beside the file: atomically's temporary files, our kept old file, the lock. */
function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) => name !== 'config.json');
}

// ---------------------------------------------------------------------------------------------------
// A full disk: a 64 KiB tmpfs, filled so that the new file cannot be written whole.

const PAGE = 4096;

/** A 64 KiB tmpfs under a temp folder, unmounted after the test; or the reason it cannot be had. */
function tinyFileSystem(t: TestContext): string | { skip: string } {
  if (process.platform !== 'linux') return { skip: 'a tmpfs mount needs Linux' };
  if (process.getuid?.() !== 0) return { skip: 'mounting a tmpfs needs root (CI runs as root)' };
  const mountPoint = mkdtempSync(join(tmpdir(), 'yandex-token-tiny-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', mountPoint], { encoding: 'utf8' });
  if (mounted.error || mounted.status !== 0) {
    rmSync(mountPoint, { recursive: true, force: true });
    return { skip: `cannot mount a tmpfs here (${(mounted.stderr || String(mounted.error)).trim()})` };
  }
  t.after(() => {
    spawnSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });
  return mountPoint;
}

/** Fills the file system holding `dir` with a file, then frees `pagesLeft` pages of it. */
function fill(dir: string, pagesLeft: number): void {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  const page = Buffer.alloc(PAGE, 0x61);
  let size = 0;
  try {
    for (;;) {
      const written = writeSync(fd, page);
      size += written;
      if (written < PAGE) break;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  }
  ftruncateSync(fd, Math.max(0, Math.floor(size / PAGE) - pagesLeft) * PAGE);
  closeSync(fd);
}

/** A home whose config folder is on the tiny file system, with a config of `bytes` bytes (padded with profiles). */
function homeOnTinyDisk(t: TestContext, mountPoint: string, yandex: Emulator, bytes: number): Home {
  const home = makeHome(t, yandex);
  const configDir = join(mountPoint, 'yandex-token');
  const small = { ...home, configDir, configFile: join(configDir, 'config.json'), env: { ...home.env, YANDEX_TOKEN_CONFIG_DIR: configDir } };
  const profiles: Record<string, TokenRecord> = { default: issued(yandex, 10 * 60_000) };
  const base = { profiles, deviceIds: {} as Record<string, string> };
  // Padding in the device ids, which every write keeps as they are.
  const length = () => Buffer.byteLength(JSON.stringify(base, undefined, '\t'));
  base.deviceIds.padding = '';
  base.deviceIds.padding = 'p'.repeat(bytes - length());
  writeRaw(small, JSON.stringify(base, undefined, '\t'));
  assert.equal(statSync(small.configFile).size, bytes);
  return small;
}

test('a full disk (one page free for a 4,481-byte file): refresh and login exit 1 naming the file and "the disk is full"; the file is kept byte for byte', async (t) => {
  const mountPoint = tinyFileSystem(t);
  if (typeof mountPoint !== 'string') return t.skip(mountPoint.skip);
  const yandex = await fakeYandex(t);
  const home = homeOnTinyDisk(t, mountPoint, yandex, 4481);
  const before = readFileSync(home.configFile);
  fill(mountPoint, 1);
  const full = new RegExp(`^Cannot write ${escapeRegExp(home.configFile)}: the disk is full\\. It was left as it was; free some space and run the command again\\.$`);

  // A renewal is not even asked for: Yandex's answer rotates the refresh token, and could not be stored.
  const noRoom = new RegExp(
    `^Cannot write ${escapeRegExp(home.configFile)}: the disk is full \\(\\d+ bytes free\\), so the token was not renewed: Yandex's answer, with a new refresh token, could not have been stored\\. The file was left as it was; free some space and run the command again\\.$`,
  );
  assertCleanFailure(await runCommand(['refresh'], home.env), 1, noRoom);
  // The binary's refresh (dist/direct.cjs, with its own bundled conf and lock) says the same.
  assertCleanFailure(await runCli(['refresh'], home.env), 1, noRoom);
  assert.equal(yandex.counts['token:refresh_token'] ?? 0, 0, 'Yandex was not asked');
  assert.deepEqual(readFileSync(home.configFile), before, 'byte for byte the old file');
  assert.deepEqual(leftovers(home.configDir), [], 'no temporary file, kept old file or lock left behind');

  const login = await runCommand(['login', ...credentials(), '--port', String(await freePort()), '--profile', 'second'], browserEnv(home));
  assertCleanFailure(login, 1, full);
  assert.deepEqual(readFileSync(home.configFile), before, 'byte for byte the old file');
  assert.deepEqual(leftovers(home.configDir), []);

  // Still usable: print reads the old file (its token has ten minutes left).
  const print = await runCommand(['print'], home.env);
  assert.equal(print.code, 0, print.stderr);
  assert.equal(print.stdout, `${JSON.parse(before.toString()).profiles.default.accessToken}\n`);
});

test('a full disk and a token due for renewal: print hands out the working token with one warning and asks Yandex nothing; with room again, the refresh token still renews', async (t) => {
  const mountPoint = tinyFileSystem(t);
  if (typeof mountPoint !== 'string') return t.skip(mountPoint.skip);
  const yandex = await fakeYandex(t);
  const home = homeOnTinyDisk(t, mountPoint, yandex, 4481);
  const before = readFileSync(home.configFile);
  const stored = JSON.parse(before.toString()) as { profiles: { default: TokenRecord } };
  fill(mountPoint, 1);

  for (let i = 0; i < 3; i++) {
    const print = await runCommand(['print'], home.env);
    assert.equal(print.code, 0, print.stderr);
    assert.equal(print.stdout, `${stored.profiles.default.accessToken}\n`);
    assert.match(print.stderr, /^Warning: Could not renew the token, which still works until .*: Cannot write .*: the disk is full/);
    assert.equal(print.stderr.split('\n').length, 2, 'one line');
  }
  assert.equal(yandex.counts['token:refresh_token'] ?? 0, 0, 'the refresh token was never spent');
  assert.deepEqual(readFileSync(home.configFile), before);

  rmSync(join(mountPoint, 'filler'));
  const refresh = await runCommand(['refresh'], home.env);
  assert.equal(refresh.code, 0, refresh.stderr);
  assert.equal(yandex.counts['token:refresh_token'], 1);
});

test('a full disk with no page free: the new file would fit where the old one is, but its temporary file cannot be written; exit 1, the file kept', async (t) => {
  const mountPoint = tinyFileSystem(t);
  if (typeof mountPoint !== 'string') return t.skip(mountPoint.skip);
  const yandex = await fakeYandex(t);
  const home = homeOnTinyDisk(t, mountPoint, yandex, 2000);
  const before = readFileSync(home.configFile);
  fill(mountPoint, 0);
  const full = new RegExp(`^Cannot write ${escapeRegExp(home.configFile)}: the disk is full`);
  assertCleanFailure(await runCommand(['refresh'], home.env), 1, full);
  assert.deepEqual(readFileSync(home.configFile), before);
  assert.deepEqual(leftovers(home.configDir), []);
  // The same through the binary (dist/direct.cjs, with its own bundled conf and lock).
  assertCleanFailure(await runCli(['refresh'], home.env), 1, full);
  assert.equal(yandex.counts['token:refresh_token'] ?? 0, 0, 'Yandex was not asked');
  assert.deepEqual(readFileSync(home.configFile), before);
  assert.deepEqual(leftovers(home.configDir), []);
});

test('room enough on the tiny disk: the same refresh succeeds and leaves only config.json', async (t) => {
  const mountPoint = tinyFileSystem(t);
  if (typeof mountPoint !== 'string') return t.skip(mountPoint.skip);
  const yandex = await fakeYandex(t);
  const home = homeOnTinyDisk(t, mountPoint, yandex, 4481);
  const before = JSON.parse(readFileSync(home.configFile, 'utf8'));
  fill(mountPoint, 3);
  const refresh = await runCommand(['refresh'], home.env);
  assert.equal(refresh.code, 0, refresh.stderr);
  const after = JSON.parse(readFileSync(home.configFile, 'utf8'));
  assert.notEqual(after.profiles.default.accessToken, before.profiles.default.accessToken);
  assert.deepEqual(after.deviceIds, before.deviceIds);
  assert.equal(statSync(home.configFile).mode & 0o777, 0o600);
  assert.deepEqual(leftovers(home.configDir), []);
});

test('what a killed write left (a temporary file, the kept old file) is removed by the next write; a broken file names the kept one', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const good = writeRaw(home, JSON.stringify({ profiles: { default: issued(yandex) }, deviceIds: {} }));
  // Killed after the old file was kept and conf's temporary file written, before the rename.
  linkSync(home.configFile, `${home.configFile}.previous`);
  writeFileSync(`${home.configFile}.tmp-1234567890abcdef`, '{"half');
  const refresh = await runCommand(['refresh'], home.env);
  assert.equal(refresh.code, 0, refresh.stderr);
  assert.deepEqual(leftovers(home.configDir), []);

  // Killed after a short write was renamed over the file (what atomically alone would leave): the file
  // is refused, unchanged, and the message names where the old one is.
  writeFileSync(`${home.configFile}.previous`, good);
  writeFileSync(home.configFile, good.subarray(0, 100));
  assertCleanFailure(
    await runCommand(['print'], home.env),
    1,
    new RegExp(`is not valid JSON\\. .*left untouched\\. The previous version may be in ${escapeRegExp(home.configFile)}\\.previous\\.$`),
  );
});

// ---------------------------------------------------------------------------------------------------
// Hostile token answers, from a small fake of Yandex's token endpoint.

interface FakeToken {
  url: string;
  /** What /token answers next (JSON). */
  answer: Record<string, unknown>;
}

async function fakeTokenEndpoint(t: TestContext, answer: Record<string, unknown>): Promise<FakeToken> {
  const fake = { url: '', answer };
  const server = createServer((req: IncomingMessage, res) => {
    req.resume();
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const body =
        path === '/token'
          ? fake.answer
          : path === '/device/code'
            ? { device_code: 'device-code-1', user_code: 'abcd1234', verification_url: `${fake.url}/device`, interval: 1, expires_in: 300 }
            : path === '/info'
              ? { login: 'demo.user', id: '1' }
              : { error: 'not_found' };
      res.writeHead(path === '/token' || path === '/device/code' || path === '/info' ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  fake.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return fake;
}

function homeFor(t: TestContext, fake: FakeToken): Home {
  return makeHome(t, undefined, { YANDEX_OAUTH_URL: fake.url, YANDEX_LOGIN_URL: fake.url });
}

const STORED: TokenRecord = {
  accessToken: 'y0_stored-token',
  refreshToken: '1:stored-refresh',
  expiresAt: new Date(Date.now() - HOUR).toISOString(),
  clientId: DEMO_CLIENT.id,
  clientSecret: DEMO_CLIENT.secret,
  obtainedAt: new Date(Date.now() - 2 * HOUR).toISOString(),
};

const HOSTILE_TOKENS: [string, Record<string, unknown>, string][] = [
  ['a header injected into the access token', { access_token: 'y0_HOSTILE\r\nX-Evil: 1', refresh_token: '1:r', expires_in: 3600 }, 'access_token'],
  ['an escape sequence in the access token', { access_token: '\x1b[2J\x1b[31my0_red', expires_in: 3600 }, 'access_token'],
  ['a space in the access token', { access_token: 'y0_one two', expires_in: 3600 }, 'access_token'],
  ['an access token of 5,000 characters', { access_token: 'y'.repeat(5000), expires_in: 3600 }, 'access_token'],
  ['non-ASCII in the access token', { access_token: 'y0_токен', expires_in: 3600 }, 'access_token'],
  ['a newline in the refresh token', { access_token: 'y0_fine', refresh_token: '1:r\nX-Evil: 1', expires_in: 3600 }, 'refresh_token'],
  ['a refresh token that is a number', { access_token: 'y0_fine', refresh_token: 42, expires_in: 3600 }, 'refresh_token'],
];

const refused = (field: string, action: string) =>
  new RegExp(`^Yandex's answer while ${action} was refused: its ${field} is not a token \\(a token is 1 to 4096 printable ASCII characters without spaces\\), so nothing was stored\\. Check YANDEX_OAUTH_URL`);

for (const [name, answer, field] of HOSTILE_TOKENS) {
  test(`a token answer with ${name}: refresh, --no-localhost and --device exit 1 with one sentence, nothing stored or printed`, async (t) => {
    const fake = await fakeTokenEndpoint(t, answer);
    const home = homeFor(t, fake);
    const before = writeRaw(home, JSON.stringify({ profiles: { default: STORED }, deviceIds: {} }));

    // The stored token has expired: a renewal refused this way leaves it unusable (exit 4), the refusal said.
    const expired = (result: RunResult) => {
      assertCleanFailure(result, 4, /^The token has expired, and renewing it failed: /);
      assert.match(result.stderr.replace(/^The token has expired, and renewing it failed: /, ''), refused(field, 'refreshing the token'));
    };
    expired(await runCommand(['refresh'], home.env));
    assert.deepEqual(readFileSync(home.configFile), before, 'nothing stored');
    // print would renew the expired token: the same refusal, nothing on stdout.
    expired(await runCommand(['print', '--header'], home.env));

    const pasted = await runCommand(['login', '--no-localhost', ...credentials(), '--profile', 'pasted'], home.env, { input: 'code-1234567\n' });
    assertCleanFailure(pasted, 1, refused(field, 'exchanging the pasted code for a token'));
    const device = await runCommand(['login', '--device', ...credentials(), '--profile', 'device'], home.env, { clock: testClock() });
    assertCleanFailure(device, 1, refused(field, 'waiting for the code to be entered on the Yandex page'));
    const after = JSON.parse(readFileSync(home.configFile, 'utf8'));
    assert.deepEqual(Object.keys(after.profiles), ['default'], 'no profile was added');
    assert.doesNotMatch(readFileSync(home.configFile, 'latin1'), /HOSTILE|Evil|\x1b/);
  });
}

const LIFETIMES: [string, unknown, number | undefined][] = [
  ['negative', -3600, undefined],
  ['zero', 0, undefined],
  ['a string of digits', '3600', 3600],
  ['a word', 'soon', undefined],
  ['null', null, undefined],
  ['a fraction', 3600.9, 3600],
  ['1e12', 1e12, undefined],
  ['1e20', 1e20, undefined],
  ['ten years and a second', 315_360_001, undefined],
  ['ten years', 315_360_000, 315_360_000],
];

test('expires_in that is not a sensible number of seconds leaves the expiry unknown; never an unexpected error', async (t) => {
  const fake = await fakeTokenEndpoint(t, {});
  const home = homeFor(t, fake);
  writeRaw(home, JSON.stringify({ profiles: { default: STORED }, deviceIds: {} }));
  for (const [name, value, seconds] of LIFETIMES) {
    fake.answer = { access_token: 'y0_new', refresh_token: '1:new', token_type: 'bearer', expires_in: value };
    const started = Date.now();
    const refresh = await runCommand(['refresh'], home.env);
    assert.equal(refresh.code, 0, `${name}: ${refresh.stderr}`);
    assert.doesNotMatch(refresh.stderr, /Unexpected|Invalid time/);
    const stored = JSON.parse(readFileSync(home.configFile, 'utf8')).profiles.default as TokenRecord;
    if (seconds === undefined) {
      assert.equal(stored.expiresAt, undefined, `${name}: no expiry stored`);
    } else {
      const at = Date.parse(stored.expiresAt!);
      assert.ok(at >= started + seconds * 1000 - 1000 && at <= Date.now() + seconds * 1000, `${name}: ${stored.expiresAt}`);
    }
  }
  // The login that failed after consent in the issue: device login with expires_in 1e20.
  fake.answer = { access_token: 'y0_device', expires_in: 1e20 };
  const device = await runCommand(['login', '--device', ...credentials(), '--profile', 'device'], home.env, { clock: testClock() });
  assert.equal(device.code, 0, device.stderr);
  assert.match(device.stderr, /Logged in as demo\.user/);
});

test('token_type and scope that are not plain text are dropped, not stored or shown', async (t) => {
  const fake = await fakeTokenEndpoint(t, { access_token: 'y0_new', token_type: 'bearer\x1b[2J', scope: 'login:info\x1b]0;owned\x07', expires_in: 3600 });
  const home = homeFor(t, fake);
  writeRaw(home, JSON.stringify({ profiles: { default: { ...STORED, scope: 'login:info' } }, deviceIds: {} }));
  const refresh = await runCommand(['refresh'], home.env);
  assert.equal(refresh.code, 0, refresh.stderr);
  const stored = JSON.parse(readFileSync(home.configFile, 'utf8')).profiles.default as TokenRecord;
  assert.equal(stored.tokenType, undefined);
  assert.equal(stored.scope, 'login:info', 'the scope stored before is kept');
  assert.doesNotMatch(readFileSync(home.configFile, 'latin1'), /\x1b|\x07/);
});

test('a device code answer with lifetimes of 1e20 s: the documented defaults, no crash', async (t) => {
  const fake = await fakeTokenEndpoint(t, { error: 'authorization_pending' });
  const home = homeFor(t, fake);
  // The fake's /device/code is replaced for this test by one with absurd numbers.
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ device_code: 'd', user_code: 'abcd1234', verification_url: `${fake.url}/device`, interval: 1e20, expires_in: 1e20 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const started = await runCommand(['login', '--device', '--no-wait', '--json', ...credentials()], { ...home.env, YANDEX_OAUTH_URL: url });
  assert.equal(started.code, 0, started.stderr);
  const code = JSON.parse(started.stdout) as { expires_in: number; interval: number };
  assert.equal(code.expires_in, 600);
  assert.equal(code.interval, 5);
});

// ---------------------------------------------------------------------------------------------------
// print never writes a control character.

test('a hand-edited token with a header in it: print, print --header and getToken refuse it naming the file', async (t) => {
  const home = makeHome(t, await fakeYandex(t));
  const fresh = new Date(Date.now() + HOUR).toISOString();
  writeRaw(
    home,
    JSON.stringify({ profiles: { default: { ...STORED, accessToken: 'y0_HOSTILE\r\nX-Evil: 1', expiresAt: fresh }, tab: { ...STORED, accessToken: 'y0\tx', expiresAt: fresh } }, deviceIds: {} }),
  );
  const refusal = (profile: string) =>
    new RegExp(`^The token stored for profile "${profile}" in ${escapeRegExp(home.configFile)} is not a token .*so it was not printed\\. Run \`yandex-token login`);
  for (const args of [['print'], ['print', '--header'], ['print', '--json'], ['print', '--header', 'bearer']]) {
    assertCleanFailure(await runCommand(args, home.env), 1, refusal('default'));
  }
  assertCleanFailure(await runCommand(['print', '--profile', 'tab'], home.env), 1, refusal('tab'));
  assertCleanFailure(await runCommand(['print'], { ...home.env, YANDEX_TOKEN: 'y0_env\x1b[2Jx' }), 1, /^YANDEX_TOKEN is not a token .*Fix or unset it\.$/);

  const { getToken, ConfigError } = (await import(pathToFileURL(join(ROOT, 'dist', 'index.js')).href)) as typeof import('../src/index.ts');
  await assert.rejects(getToken({ env: home.env }), (error: unknown) => error instanceof ConfigError && error.message.includes(home.configFile));
});

// ---------------------------------------------------------------------------------------------------
// Config files no write may keep.

test('invalid UTF-8 in the file: print, refresh and login refuse it naming the file, which stays as it was', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const text = JSON.stringify({ profiles: { default: issued(yandex, HOUR) }, deviceIds: {}, note: 'NOTE' });
  const before = writeRaw(home, Buffer.concat([Buffer.from(text.slice(0, text.indexOf('NOTE'))), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(text.slice(text.indexOf('NOTE')))]));
  const bad = new RegExp(`^${escapeRegExp(home.configFile)} is not valid UTF-8 text\\. Fix it, or move it aside`);
  assertCleanFailure(await runCommand(['print'], home.env), 1, bad);
  assertCleanFailure(await runCommand(['refresh'], home.env), 1, bad);
  assertCleanFailure(await runCommand(['login', ...credentials(), '--port', String(await freePort())], browserEnv(home)), 1, bad);
  assert.deepEqual(readFileSync(home.configFile), before);

  // A real U+FFFD (valid UTF-8) is only text: read, and kept by a write.
  writeRaw(home, JSON.stringify({ profiles: { default: issued(yandex) }, deviceIds: {}, note: 'a \ufffd here' }));
  const refresh = await runCommand(['refresh'], home.env);
  assert.equal(refresh.code, 0, refresh.stderr);
  assert.equal(JSON.parse(readFileSync(home.configFile, 'utf8')).note, 'a \ufffd here');
});

test('a config nested 5,000 levels deep: print still reads it; writes exit 1 with a sentence, the file kept', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const record = issued(yandex, HOUR);
  const before = writeRaw(home, `{"profiles": ${JSON.stringify({ default: record })}, "deviceIds": {}, "deep": ${'['.repeat(5000)}${']'.repeat(5000)}}`);
  const print = await runCommand(['print'], home.env);
  assert.equal(print.code, 0, print.stderr);
  assert.equal(print.stdout, `${record.accessToken}\n`);
  const deep = new RegExp(`^${escapeRegExp(home.configFile)} is nested more than 64 levels deep, which no yandex-token config is\\. Fix it, or move it aside`);
  assertCleanFailure(await runCommand(['refresh'], home.env), 1, deep);
  assertCleanFailure(await runCommand(['logout'], home.env), 1, deep);
  assert.deepEqual(readFileSync(home.configFile), before);
});

test('a write that would grow the file past 1 MiB is refused with a sentence; the file is kept', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const record = issued(yandex);
  const base = JSON.stringify({ profiles: { default: record }, deviceIds: {}, notes: '' });
  // Compact, just under the reader's limit; written back tab-indented, it grows past it.
  const before = writeRaw(home, base.replace('"notes":""', `"notes":"${'n'.repeat(1024 * 1024 - base.length - 10)}"`));
  assert.ok(before.length < 1024 * 1024);
  assertCleanFailure(
    await runCommand(['refresh'], home.env),
    1,
    // The refresh itself worked (the token had expired), so the sentence says what became of Yandex's answer.
    new RegExp(
      `^Yandex renewed the token, but it could not be stored: Cannot write ${escapeRegExp(home.configFile)}: the new content would be \\d+ bytes, more than the 1048576 a yandex-token config file may hold\\. It was left as it was.* The stored refresh token may no longer work`,
    ),
  );
  assert.deepEqual(readFileSync(home.configFile), before);
  assert.deepEqual(leftovers(home.configDir), []);
});

test("config.json as a symlink to another program's JSON: writes refuse it; the other file and the link stay as they were", async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
  const other = join(tempDir(t), 'settings.json');
  writeFileSync(other, '{"theme": "dark"}\n', { mode: 0o644 });
  symlinkSync(other, home.configFile);
  const foreign = new RegExp(`^${escapeRegExp(home.configFile)} is a symlink to ${escapeRegExp(other)}, which is not a yandex-token config file, so nothing was written to it`);
  assertCleanFailure(await runCommand(['login', ...credentials(), '--port', String(await freePort())], browserEnv(home)), 1, foreign);
  assertCleanFailure(await runCommand(['login', '--device', '--no-wait', ...credentials()], home.env), 1, foreign);
  assert.equal(readFileSync(other, 'utf8'), '{"theme": "dark"}\n');
  assert.equal(statSync(other).mode & 0o777, 0o644);
  assert.ok(lstatSync(home.configFile).isSymbolicLink());

  // A link to nothing is refused the same way (a write would create a file wherever it points).
  rmSync(home.configFile);
  const nowhere = join(tempDir(t), 'missing.json');
  symlinkSync(nowhere, home.configFile);
  assertCleanFailure(
    await runCommand(['login', '--device', '--no-wait', ...credentials()], home.env),
    1,
    new RegExp(`^${escapeRegExp(home.configFile)} is a symlink to a file that does not exist, so nothing was written`),
  );
  assert.ok(!existsSync(nowhere));
});

test('config.json as a symlink to a yandex-token config (dotfiles): a write goes to that file and keeps the link', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
  const dotfiles = tempDir(t);
  const real = join(dotfiles, 'yandex-token.json');
  const record = issued(yandex);
  writeFileSync(real, JSON.stringify({ profiles: { default: record }, deviceIds: {} }), { mode: 0o600 });
  symlinkSync(real, home.configFile);
  const refresh = await runCommand(['refresh'], home.env);
  assert.equal(refresh.code, 0, refresh.stderr);
  assert.ok(lstatSync(home.configFile).isSymbolicLink(), 'still a link');
  assert.notEqual(JSON.parse(readFileSync(real, 'utf8')).profiles.default.accessToken, record.accessToken);
  assert.equal(statSync(real).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dotfiles).sort(), ['yandex-token.json']);
});

test('a write with config.json moved aside (as the error about a broken file says) keeps config.json.previous, the copy it pointed to', async (t) => {
  const { Store } = await import('../src/store/store.ts');
  const dir = join(tempDir(t), 'yandex-token');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'config.json.previous'), '{"profiles":{},"deviceIds":{"kept":"yes"}}', { mode: 0o600 });
  await new Store(dir).update((data) => {
    data.deviceIds.fresh = 'start';
  });
  assert.equal(readFileSync(join(dir, 'config.json.previous'), 'utf8'), '{"profiles":{},"deviceIds":{"kept":"yes"}}');
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).deviceIds, { fresh: 'start' });
});
