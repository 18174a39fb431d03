// `yandex-token exec`: the built CLI runs a program with the token in its environment (never in any
// process's arguments), passes its exit code and our signals through, renews a due token once before the
// program starts, and starts nothing when there is no token. Against the emulator, in temp homes.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exec } from '../src/commands/exec.ts';
import type { ForwardedSignal, ProgramEnd } from '../src/child.ts';
import type { Context } from '../src/context.ts';
import type { Emulator } from '../src/emulator/index.ts';
import type { TokenRecord } from '../src/token/record.ts';
import { assertCleanFailure, fakeYandex, issuedRecord, makeHome, runCli, startCli, writeConfig, type Home } from './support/harness.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NODE = process.execPath;

/** A live token the emulator issued, stored as login would have stored it `ageMs` ago. */
function stored(yandex: Emulator, options: { expiresInMs?: number; ageMs?: number } = {}): TokenRecord {
  return issuedRecord(yandex, {
    expiresInMs: options.expiresInMs ?? 300 * DAY,
    ageMs: options.ageMs,
    issue: { expiresIn: 3600, deviceId: 'yt-exec-device' },
    record: { tokenType: 'bearer', login: 'demo.user', deviceId: 'yt-exec-device' },
  });
}

function storedToken(home: Home, profile = 'default'): TokenRecord {
  return (JSON.parse(readFileSync(home.configFile, 'utf8')) as { profiles: Record<string, TokenRecord> }).profiles[profile]!;
}

/**
 * A program (node -e) that reports, as JSON on stdout, the variables it was asked about, its own command
 * line and its parent's (/proc/<pid>/cmdline: what ps shows), and every process whose command line holds
 * NEEDLE while it runs.
 */
const REPORTER = `
const { readFileSync, readdirSync } = require('node:fs');
const cmdline = (pid) => { try { return readFileSync('/proc/' + pid + '/cmdline', 'utf8').split('\\0').filter(Boolean); } catch { return null; } };
const needle = process.env.NEEDLE;
const holding = readdirSync('/proc').filter((pid) => /^\\d+$/.test(pid)).filter((pid) => (cmdline(pid) ?? []).some((arg) => arg.includes(needle)));
const vars = Object.fromEntries(process.argv.slice(1).map((name) => [name, process.env[name] ?? null]));
process.stdout.write(JSON.stringify({ vars, self: cmdline('self'), parent: cmdline(process.ppid), holding }));
`;

test('the program sees the token in YANDEX_TOKEN, or in each --env variable, and in no process\'s arguments', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const record = stored(yandex);
  writeConfig(home, { default: record });
  const env = { ...home.env, NEEDLE: record.accessToken };

  const plain = await runCli(['exec', '--', NODE, '-e', REPORTER, 'YANDEX_TOKEN'], env);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stderr, '');
  const seen = JSON.parse(plain.stdout);
  assert.deepEqual(seen.vars, { YANDEX_TOKEN: record.accessToken });
  assert.deepEqual(seen.self, [NODE, '-e', REPORTER, 'YANDEX_TOKEN'], 'the arguments reach the program as given, no shell between');
  assert.ok(seen.parent.includes('exec'), `its parent is yandex-token exec: ${JSON.stringify(seen.parent)}`);
  assert.deepEqual(seen.holding, [], 'no process has the token in its arguments');

  const named = await runCli(
    ['exec', '--env', 'YANDEX_OAUTH_TOKEN', '--env', 'YANDEX_API_KEY', '--', NODE, '-e', REPORTER, 'YANDEX_OAUTH_TOKEN', 'YANDEX_API_KEY', 'YANDEX_TOKEN', 'HOME'],
    env,
  );
  assert.equal(named.code, 0, named.stderr);
  assert.deepEqual(JSON.parse(named.stdout).holding, []);
  assert.deepEqual(JSON.parse(named.stdout).vars, {
    YANDEX_OAUTH_TOKEN: record.accessToken,
    YANDEX_API_KEY: record.accessToken,
    // --env names the variables instead of YANDEX_TOKEN; the rest of our environment is the program's.
    YANDEX_TOKEN: null,
    HOME: home.env.HOME,
  });

  // Without `--`, the program's own options are its own all the same.
  const bare = await runCli(['exec', 'sh', '-c', 'printf "%s|" "$@"', 'sh', '--profile', '--env', '$HOME'], home.env);
  assert.equal(bare.code, 0, bare.stderr);
  assert.equal(bare.stdout, '--profile|--env|$HOME|');

  const bad = await runCli(['exec', '--env', 'NOT-A-NAME', '--', 'true'], home.env);
  assertCleanFailure(bad, 1, /^\(run `yandex-token --help` for usage\)$/);
  assert.match(bad.stderr, /'NOT-A-NAME' is invalid\. A variable name is letters, digits and "_"/);
});

test('YANDEX_TOKEN in our environment is what the program gets, with nothing read', async (t) => {
  const home = makeHome(t);
  const result = await runCli(['exec', '--env', 'TOKEN', '--', NODE, '-e', 'process.stdout.write(process.env.TOKEN)'], { ...home.env, YANDEX_TOKEN: 'y0_from_ci' });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'y0_from_ci');
  assert.ok(!existsSync(home.configFile));
});

test('the program\'s exit code is ours: 0, 7, and 128 + 15 when SIGTERM killed it', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, { default: stored(yandex) });
  for (const [script, code] of [
    ['process.exit(0)', 0],
    ['process.exit(7)', 7],
    ['process.kill(process.pid, "SIGTERM")', 143],
    ['process.kill(process.pid, "SIGKILL")', 137],
  ] as const) {
    const result = await runCli(['exec', '--', NODE, '-e', script], home.env);
    assert.equal(result.code, code, `${script}: ${result.stderr}`);
    assert.equal(result.signal, null);
    assert.equal(result.stderr, '', script);
  }
});

test('SIGINT, SIGTERM and SIGHUP sent to exec reach the program, and exec waits for it and ends as it did', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, { default: stored(yandex) });
  // It says when it is listening, and on the signal writes its name and ends with 40 + its number.
  const program = `
for (const [name, n] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
  process.on(name, () => { process.stdout.write('got ' + name); setTimeout(() => process.exit(40 + n), 50); });
}
process.stderr.write('listening\\n');
setTimeout(() => process.exit(99), 20000);
`;
  for (const [signal, code] of [
    ['SIGTERM', 55],
    ['SIGINT', 42],
    ['SIGHUP', 41],
  ] as const) {
    const running = startCli(['exec', '--', NODE, '-e', program], home.env);
    await running.waitForStderr(/listening/);
    running.child.kill(signal);
    const result = await running.done;
    assert.equal(result.stdout, `got ${signal}`, signal);
    assert.equal(result.code, code, `${signal}: ${result.stderr}`);
    assert.equal(result.stderr, 'listening\n', 'exec itself says nothing: the program decided');
  }
});

test('a program that ignores SIGTERM keeps running, and exec with it', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, { default: stored(yandex) });
  const program = `
let got = 0;
process.on('SIGTERM', () => { got++; process.stderr.write('ignored\\n'); if (got === 2) process.exit(3); });
process.stderr.write('listening\\n');
setTimeout(() => process.exit(99), 20000);
`;
  const running = startCli(['exec', '--', NODE, '-e', program], home.env);
  await running.waitForStderr(/listening/);
  running.child.kill('SIGTERM');
  await running.waitForStderr(/ignored/);
  assert.equal(running.child.exitCode, null, 'exec is still there');
  running.child.kill('SIGTERM');
  const result = await running.done;
  assert.equal(result.code, 3, result.stderr);
});

test('an expired token that can be renewed is renewed once, before the program starts, however many exec at once', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const old = stored(yandex, { expiresInMs: -HOUR, ageMs: 366 * DAY });
  writeConfig(home, { default: old });
  // Each program reads the file as it starts: the renewal is already stored then.
  const program = `
const record = JSON.parse(require('node:fs').readFileSync(process.env.CONFIG_FILE, 'utf8')).profiles.default;
process.stdout.write(JSON.stringify({ token: process.env.YANDEX_TOKEN, stored: record.accessToken, obtainedAt: record.obtainedAt, expiresAt: record.expiresAt }));
`;
  const env = { ...home.env, CONFIG_FILE: home.configFile };
  const results = await Promise.all([1, 2, 3].map(() => runCli(['exec', '--', NODE, '-e', program], env)));
  assert.equal(yandex.counts['token:refresh_token'], 1, 'one renewal between them');
  const renewed = storedToken(home);
  assert.notEqual(renewed.refreshToken, old.refreshToken);
  for (const result of results) {
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    const seen = JSON.parse(result.stdout);
    assert.equal(seen.token, renewed.accessToken);
    assert.equal(seen.stored, renewed.accessToken);
    assert.equal(seen.obtainedAt, renewed.obtainedAt, 'the renewal was stored before the program started');
    assert.ok(Date.parse(seen.expiresAt) > Date.now(), 'with a new expiry');
  }
});

test('not logged in, or a token that cannot be renewed: exit 4 and the program is never started', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const marker = join(home.dir, 'started');
  const program = ['--', NODE, '-e', `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`];

  const none = await runCli(['exec', ...program], home.env);
  assertCleanFailure(none, 4, /^Not logged in\. Run `yandex-token login` first\.$/);
  const other = await runCli(['exec', '--profile', 'work', ...program], home.env);
  assertCleanFailure(other, 4, /^Not logged in \(profile "work"\)\. Run `yandex-token login --profile work` first\.$/);

  const { refreshToken: _, ...unrenewable } = stored(yandex, { expiresInMs: -HOUR });
  writeConfig(home, { default: unrenewable });
  const expired = await runCli(['exec', ...program], home.env);
  assertCleanFailure(expired, 4, /has expired and no refresh token is stored to renew it\. Run `yandex-token login` again\.$/);
  assert.ok(!existsSync(marker), 'nothing was started');
  assert.deepEqual(readdirSync(home.configDir).sort(), ['config.json'], 'no lock or marker left');
});

test('a program that is not there: exit 127 and a sentence; one that cannot be run: 126', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, { default: stored(yandex) });
  const missing = await runCli(['exec', '--', 'yandex-token-no-such-program', '--flag'], home.env);
  assertCleanFailure(missing, 127, /^Command not found: yandex-token-no-such-program\. Check its name and PATH; exec runs it directly, not through a shell/);
  const builtin = await runCli(['exec', '--', 'cd', '/'], home.env);
  assertCleanFailure(builtin, 127, /^Command not found: cd\./);

  const script = join(home.dir, 'not-executable.sh');
  writeFileSync(script, '#!/bin/sh\necho hi\n', { mode: 0o644 });
  const denied = await runCli(['exec', '--', script], home.env);
  // As root a mode of 644 still cannot be executed (no x bit at all).
  assertCleanFailure(denied, 126, /^Cannot run \S+not-executable\.sh \(EACCES\): make it executable \(chmod \+x\)/);
});

test('in-process: a signal that comes while the program is starting is passed on once it has started, and the signals are given back after', async () => {
  const sent: ForwardedSignal[] = [];
  let handler: ((signal: ForwardedSignal) => void) | undefined;
  let ended!: (end: ProgramEnd) => void;
  const env: Record<string, string>[] = [];
  const ctx = {
    settings: { token: 'y0_in_process' },
    now: () => new Date(),
    err: { warn: () => undefined, line: () => undefined },
    signal: new AbortController().signal,
    takeSignals: (take: (signal: ForwardedSignal) => void) => {
      handler = take;
      return () => (handler = undefined);
    },
    startProgram: async (_command: string, _args: string[], extra: Record<string, string>) => {
      env.push(extra);
      // Ctrl-C while the program is being started.
      handler!('SIGINT');
      return { kill: (signal: ForwardedSignal) => void sent.push(signal), ended: new Promise<ProgramEnd>((resolve) => (ended = resolve)) };
    },
  } as unknown as Context;
  const running = exec({ profile: 'default', env: ['A', 'B'], command: 'program', args: [] }, ctx);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(sent, ['SIGINT']);
  handler!('SIGTERM');
  assert.deepEqual(sent, ['SIGINT', 'SIGTERM']);
  ended({ signal: 'SIGTERM', signalNumber: 15 });
  assert.equal(await running, 143);
  assert.equal(handler, undefined, 'given back');
  assert.deepEqual(env, [{ A: 'y0_in_process', B: 'y0_in_process' }]);
});

test('in-process: at a terminal, Ctrl-C and a hang-up are not sent a second time (the terminal sent them); SIGTERM is', async () => {
  const sent: ForwardedSignal[] = [];
  let handler: ((signal: ForwardedSignal) => void) | undefined;
  let ended!: (end: ProgramEnd) => void;
  const ctx = {
    settings: { token: 'y0_in_process' },
    now: () => new Date(),
    err: { warn: () => undefined, line: () => undefined },
    signal: new AbortController().signal,
    interactive: true,
    takeSignals: (take: (signal: ForwardedSignal) => void) => {
      handler = take;
      return () => (handler = undefined);
    },
    startProgram: async () => ({ kill: (signal: ForwardedSignal) => void sent.push(signal), ended: new Promise<ProgramEnd>((resolve) => (ended = resolve)) }),
  } as unknown as Context;
  const running = exec({ profile: 'default', env: [], command: 'program', args: [] }, ctx);
  await new Promise((resolve) => setImmediate(resolve));
  handler!('SIGINT');
  handler!('SIGHUP');
  handler!('SIGTERM');
  assert.deepEqual(sent, ['SIGTERM']);
  ended({ code: 0 });
  assert.equal(await running, 0);
});
