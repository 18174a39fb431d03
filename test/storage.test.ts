// Where the token file lives (YANDEX_TOKEN_CONFIG_DIR, XDG_CONFIG_HOME) and who may use it: every read
// warns on stderr about a file or folder that others can use or that belongs to another user, naming the
// fix; every write restores 0600 and 0700. print's stdout stays the token alone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Emulator } from '../src/emulator/index.ts';
import { configDirFor, readSettings } from '../src/settings.ts';
import type { TokenRecord } from '../src/token/record.ts';
import { ROOT, browserEnv, credentials, fakeYandex, freePort, issuedRecord, makeHome, runCli, tempDir, writeConfig as writeProfiles, type Home } from './support/harness.ts';
import { runCommand } from './support/in-process.ts';

const NOBODY = 65534;

function record(yandex: Emulator, expired = false): TokenRecord {
  return issuedRecord(yandex, { expiresInMs: (expired ? -1 : 1) * 3_600_000, issue: { expiresIn: 3600 } });
}

function writeConfig(dir: string, profiles: Record<string, TokenRecord>, modes: { file: number; dir: number }): string {
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, modes.dir);
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify({ profiles, deviceIds: {} }));
  chmodSync(file, modes.file);
  return file;
}

function mode(path: string): number {
  return statSync(path).mode & 0o7777;
}

async function setUp(t: TestContext, modes: { file: number; dir: number }) {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const stored = record(yandex);
  writeConfig(home.configDir, { default: stored, old: record(yandex, true) }, modes);
  return { yandex, home, stored };
}

function warnings(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.startsWith('Warning: '));
}

test('a config file others can read (0644): print warns on stderr with the chmod, stdout stays the token', async (t) => {
  const { home, stored } = await setUp(t, { file: 0o644, dir: 0o700 });
  const print = await runCommand(['print'], home.env);
  assert.equal(print.code, 0, print.stderr);
  assert.equal(print.stdout, `${stored.accessToken}\n`);
  assert.deepEqual(warnings(print.stderr), [`Warning: ${home.configFile} can be read by other users (mode 0644). Fix it with: chmod 600 ${home.configFile}`]);
  assert.equal(print.stderr, `${warnings(print.stderr)[0]}\n`, 'one line, nothing else');
  assert.equal(mode(home.configFile), 0o644, 'a read changes nothing');

  chmodSync(home.configFile, 0o666);
  const writable = await runCommand(['print', '--json'], home.env);
  assert.equal(JSON.parse(writable.stdout).token, stored.accessToken);
  assert.match(writable.stderr, /can be changed by other users \(mode 0666\)\. Fix it with: chmod 600 /);
});

test('a config folder others can open (0755): a warning with chmod 700; a write restores 0700 and 0600', async (t) => {
  const { home } = await setUp(t, { file: 0o644, dir: 0o755 });
  const status = await runCommand(['status', '--profile', 'default'], home.env);
  assert.equal(status.code, 0, status.stderr);
  assert.deepEqual(warnings(status.stderr), [
    `Warning: ${home.configDir} can be looked into by other users (mode 0755). Fix it with: chmod 700 ${home.configDir}`,
    `Warning: ${home.configFile} can be read by other users (mode 0644). Fix it with: chmod 600 ${home.configFile}`,
  ]);

  // print refreshes the expired "old" profile: that write puts the modes right.
  const refreshing = await runCommand(['print', '--profile', 'old'], home.env);
  assert.equal(refreshing.code, 0, refreshing.stderr);
  assert.equal(mode(home.configFile), 0o600);
  assert.equal(mode(home.configDir), 0o700);
  const quiet = await runCommand(['print'], home.env);
  assert.equal(quiet.stderr, '', 'nothing to warn about any more');
});

test('a login writes 0600 in a 0700 folder, also into a folder that was 0755', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  mkdirSync(home.configDir, { recursive: true, mode: 0o755 });
  chmodSync(home.configDir, 0o755);
  const login = await runCommand(['login', ...credentials(), '--port', String(await freePort())], browserEnv(home));
  assert.equal(login.code, 0, login.stderr);
  assert.equal(mode(home.configFile), 0o600);
  assert.equal(mode(home.configDir), 0o700);
});

test('a config file that belongs to another user (a sudo leftover): a warning naming chown', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to give a file to another user; run the suite as root (as CI does) to cover it');
    return;
  }
  const { home, stored } = await setUp(t, { file: 0o600, dir: 0o700 });
  chownSync(home.configFile, NOBODY, NOBODY);
  const print = await runCommand(['print'], home.env);
  assert.equal(print.code, 0, print.stderr);
  assert.equal(print.stdout, `${stored.accessToken}\n`);
  assert.deepEqual(warnings(print.stderr), [
    `Warning: ${home.configFile} belongs to another user (uid ${NOBODY}), perhaps left by \`sudo yandex-token\`; make it yours with: sudo chown "$(id -un)" ${home.configFile} && chmod 600 ${home.configFile}`,
  ]);

  chownSync(home.configFile, 0, 0);
  chownSync(home.configDir, NOBODY, NOBODY);
  const folder = await runCommand(['print'], home.env);
  assert.deepEqual(warnings(folder.stderr), [
    `Warning: ${home.configDir} belongs to another user (uid ${NOBODY}), perhaps left by \`sudo yandex-token\`; make it yours with: sudo chown "$(id -un)" ${home.configDir} && chmod 700 ${home.configDir}`,
  ]);
});

test('a path with spaces is quoted in the fix', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const dir = join(home.dir, "my tokens's folder");
  const file = writeConfig(dir, { default: record(yandex) }, { file: 0o640, dir: 0o700 });
  const print = await runCommand(['print'], { ...home.env, YANDEX_TOKEN_CONFIG_DIR: dir });
  assert.equal(print.code, 0, print.stderr);
  assert.ok(print.stderr.endsWith(`chmod 600 '${file.replace(/'/g, `'\\''`)}'\n`), print.stderr);
  // The quoting works in a shell.
  const shell = spawnSync('sh', ['-c', print.stderr.split('Fix it with: ')[1]!.trim()]);
  assert.equal(shell.status, 0);
  assert.equal(mode(file), 0o600);
});

test('YANDEX_TOKEN_CONFIG_DIR names the folder; a shared sticky folder (like /tmp) gets advice, not chmod or chown', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const own = join(tempDir(t), 'tokens');
  const login = await runCommand(['login', ...credentials(), '--port', String(await freePort())], { ...browserEnv(home), YANDEX_TOKEN_CONFIG_DIR: own });
  assert.equal(login.code, 0, login.stderr);
  assert.match(login.stderr, new RegExp(`Token saved to ${own.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/config\\.json\\.`));
  assert.ok(existsSync(join(own, 'config.json')));
  assert.ok(!existsSync(home.configFile), 'nothing in the XDG folder');
  assert.equal(mode(own), 0o700);

  const shared = tempDir(t);
  chmodSync(shared, 0o1777);
  writeConfig(shared, { default: record(yandex) }, { file: 0o600, dir: 0o1777 });
  const print = await runCommand(['print'], { ...home.env, YANDEX_TOKEN_CONFIG_DIR: shared });
  assert.equal(print.code, 0, print.stderr);
  assert.deepEqual(warnings(print.stderr), [
    `Warning: ${shared} is a folder shared with other users (mode 1777, like /tmp): set YANDEX_TOKEN_CONFIG_DIR to a folder only you can open.`,
  ]);
  const refresh = await runCommand(['refresh'], { ...home.env, YANDEX_TOKEN_CONFIG_DIR: shared });
  assert.equal(refresh.code, 0, refresh.stderr);
  assert.equal(mode(shared), 0o1777, 'a shared folder is never tightened');
});

test('configDirFor: YANDEX_TOKEN_CONFIG_DIR first, then an absolute XDG_CONFIG_HOME; a relative one is ignored', () => {
  assert.equal(configDirFor({ YANDEX_TOKEN_CONFIG_DIR: '/srv/tokens', XDG_CONFIG_HOME: '/x' }, 'linux', '/home/u'), '/srv/tokens');
  assert.equal(configDirFor({ XDG_CONFIG_HOME: '/x' }, 'linux', '/home/u'), '/x/yandex-token');
  assert.equal(configDirFor({ XDG_CONFIG_HOME: 'relative/config' }, 'linux', '/home/u'), '/home/u/.config/yandex-token');
  assert.equal(configDirFor({ XDG_CONFIG_HOME: ' ' }, 'linux', '/home/u'), '/home/u/.config/yandex-token');
  assert.equal(configDirFor({}, 'darwin', '/Users/u'), '/Users/u/Library/Preferences/yandex-token');
});

test('without HOME the home folder is the one os.homedir() gives, as conf would use', () => {
  assert.equal(readSettings({}, 'linux').configDir, join(homedir(), '.config', 'yandex-token'));
  assert.equal(readSettings({ HOME: '/home/u' }, 'linux').configDir, '/home/u/.config/yandex-token');
});

test('a relative XDG_CONFIG_HOME is ignored by the CLI too: the token lands in ~/.config', async (t) => {
  const yandex = await fakeYandex(t);
  const home: Home = makeHome(t, yandex, { XDG_CONFIG_HOME: 'relative-config' });
  const login = await runCommand(['login', ...credentials(), '--port', String(await freePort())], browserEnv(home));
  assert.equal(login.code, 0, login.stderr);
  assert.ok(existsSync(join(home.dir, '.config', 'yandex-token', 'config.json')));
});

test('the built bundles (and the Node API\'s) write through conf without what src/build.mjs leaves out of it (ajv, semver, debounce-fn)', async (t) => {
  // The stubs are there (else this test would prove nothing), and throw if conf ever calls them: an option
  // store/write.ts passes that needs a schema, migrations or a watcher would fail these writes.
  // (The Node API's conf, in a chunk under dist/index/, writes in test/pack.test.ts's renewal.)
  const api = readdirSync(join(ROOT, 'dist', 'index')).map((name) => join('index', name));
  for (const bundle of ['cli.cjs', 'direct.cjs']) assert.match(readFileSync(join(ROOT, 'dist', bundle), 'utf8'), /leaves out of the bundle/, bundle);
  assert.ok(api.some((chunk) => readFileSync(join(ROOT, 'dist', chunk), 'utf8').includes('leaves out of the bundle')), api.join(' '));
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const issued = (login: string) => issuedRecord(yandex, { expiresInMs: 3_600_000, record: { login } });
  writeProfiles(home, { default: issued('a'), other: issued('b') });
  const before = JSON.parse(readFileSync(home.configFile, 'utf8')).profiles.default.refreshToken;
  // refresh runs in dist/direct.cjs, logout in dist/cli.cjs: both write through their own bundled conf.
  const refreshed = await runCli(['refresh'], home.env);
  assert.equal(refreshed.code, 0, refreshed.stderr);
  const loggedOut = await runCli(['logout', '--profile', 'other'], home.env);
  assert.equal(loggedOut.code, 0, loggedOut.stderr);
  const { profiles } = JSON.parse(readFileSync(home.configFile, 'utf8'));
  assert.notEqual(profiles.default.refreshToken, before, 'the rotated refresh token is stored');
  assert.deepEqual(Object.keys(profiles), ['default']);
  assert.equal(statSync(home.configFile).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(home.configDir).sort(), ['config.json']);
});
