// The fast entry (src/entry/print-fast.ts): which command lines it answers alone, and that they behave as
// the commander-declared ones do.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { directCommand, fastPrintOptions } from '../src/entry/print-fast.ts';
import { VERSION } from '../src/version.ts';
import { ROOT, fakeYandex, makeHome, runCli } from './support/harness.ts';
import { runCommand } from './support/in-process.ts';

test('print with its usual flags is parsed without commander; anything else is left to commander', () => {
  assert.deepEqual(fastPrintOptions(['print']), {});
  assert.deepEqual(fastPrintOptions(['print', '--json', '--profile', 'work']), { json: true, profile: 'work' });
  assert.deepEqual(fastPrintOptions(['print', '--profile=client.a', '--header']), { header: 'oauth', profile: 'client.a' });
  assert.deepEqual(fastPrintOptions(['print', '--header', 'bearer', '--profile', 'p']), { header: 'bearer', profile: 'p' });
  assert.deepEqual(fastPrintOptions(['print', '--header=bearer']), { header: 'bearer' });
  for (const argv of [
    ['status'],
    ['print', '--help'],
    ['print', '-h'],
    ['print', '--json', '--header'],
    ['print', '--profile'],
    ['print', '--profile', '../etc'],
    ['print', '--profile', '--json'],
    ['print', 'extra'],
    ['print', '--nope'],
    ['print', '--header', 'basic'],
    ['print', '--header=basic'],
  ]) {
    assert.equal(fastPrintOptions(argv), undefined, argv.join(' '));
  }
});

test('print, refresh and status with only --profile (and --json) go to the direct bundle already parsed; anything else to commander', () => {
  assert.deepEqual(directCommand(['print', '--json']), { name: 'print', options: { json: true } });
  assert.deepEqual(directCommand(['refresh']), { name: 'refresh' });
  assert.deepEqual(directCommand(['refresh', '--profile', 'work']), { name: 'refresh', profile: 'work' });
  assert.deepEqual(directCommand(['status', '--json', '--profile=a.b']), { name: 'status', json: true, profile: 'a.b' });
  for (const argv of [
    [],
    ['login'],
    ['print', '--nope'],
    ['refresh', '--json'],
    ['refresh', '--profile'],
    ['refresh', '--profile', '../etc'],
    ['status', '--profile', '--json'],
    ['status', '--expires-within', '30d'],
    ['status', '--help'],
    ['status', 'extra'],
    ['exec', '--', 'env'],
  ]) {
    assert.equal(directCommand(argv), undefined, argv.join(' '));
  }
});

test('--version is package.json\'s version, with or without commander', async (t) => {
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  assert.equal(VERSION, version);
  const home = makeHome(t);
  assert.equal((await runCli(['--version'], home.env)).stdout, `${version}\n`);
});

test('lines the fast path leaves to commander get commander\'s answers', async (t) => {
  const home = makeHome(t, await fakeYandex(t));
  const extra = await runCli(['print', 'extra'], home.env);
  assert.equal(extra.code, 1);
  assert.match(extra.stderr, /too many arguments/);
  const badProfile = await runCli(['print', '--profile', '../etc'], home.env);
  assert.equal(badProfile.code, 1);
  assert.match(badProfile.stderr, /is invalid\. A profile name is 1–64 letters/);
  const basic = await runCli(['print', '--header', 'basic'], home.env);
  assert.equal(basic.code, 1);
  assert.match(basic.stderr, /Allowed choices are oauth, bearer/);
  const help = await runCli(['print', '--help'], home.env);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: yandex-token print/);
});

test('print.cjs holds the fast entry and the few modules it reads with, and nothing of the full CLI or the packages', () => {
  // Read off the bundles' source maps (the bundles themselves are minified).
  const modulesIn = (file: string) =>
    new Set(
      (JSON.parse(readFileSync(join(ROOT, 'dist', `${file}.map`), 'utf8')) as { sources: string[] }).sources
        .filter((source) => source.startsWith('../'))
        .map((source) => source.slice(3)),
    );
  const print = modulesIn('print.cjs');
  const cli = modulesIn('cli.cjs');
  assert.ok(print.has('src/entry/print-fast.ts') && print.has('src/store/read.ts') && cli.has('src/entry/cli.ts') && cli.has('src/yandex/oauth.ts'), [...print, ...cli].join(' '));
  assert.deepEqual([...print].filter((m) => /^src\/(cli\/(main|program)|commands|yandex|login|emulator|token\/(current|renew))|^node_modules\//.test(m)), []);
  // direct.cjs renews and writes (conf and the lock bundled, ajv and friends left out), without commander.
  const direct = modulesIn('direct.cjs');
  assert.ok(direct.has('src/entry/direct.ts') && direct.has('src/token/renew.ts') && [...direct].some((m) => m.endsWith('node_modules/conf/dist/source/index.js')) && [...direct].some((m) => m.endsWith('node_modules/proper-lockfile/index.js')), [...direct].join(' '));
  assert.deepEqual([...direct].filter((m) => /^src\/(cli\/(main|program)|commands\/(login|exec|logout|emulator|completion|demo)|login|emulator)|\/(commander|ajv|ajv-formats|semver|graceful-fs)\//.test(m)), []);
});

test('the Node API holds conf and the lock (without ajv, semver, debounce-fn) in chunks loaded for a write, not in dist/index.js', () => {
  const index = readFileSync(join(ROOT, 'dist', 'index.js'), 'utf8');
  const chunks = readdirSync(join(ROOT, 'dist', 'index')).map((name) => readFileSync(join(ROOT, 'dist', 'index', name), 'utf8'));
  for (const text of [index, ...chunks]) assert.doesNotMatch(text, /(from |import\()"(conf|proper-lockfile|ajv[^"]*|semver|debounce-fn|graceful-fs)"/);
  const conf = 'Please specify the `projectName` option.';
  assert.ok(!index.includes(conf) && chunks.some((text) => text.includes(conf)), 'conf is in a chunk');
  assert.match(index, /import\("\.\/index\/proper-lockfile-\w+\.js"\)/, 'the lock is a chunk, imported when first used');
});

test('with DEBUG set, a stack trace from the minified bundles names the src/ lines', async (t) => {
  const home = makeHome(t);
  const result = await runCli(['print'], { ...home.env, DEBUG: 'yandex-token' });
  assert.equal(result.code, 4);
  assert.match(result.stderr, /^NotLoggedInError: Not logged in/m);
  assert.match(result.stderr, /at \S+ \(\S+\/src\/token\/current\.ts:\d+:\d+\)/);
  const quiet = await runCli(['print'], home.env);
  assert.equal(quiet.stderr, 'Not logged in. Run `yandex-token login` first.\n');
});

test('completion scripts and `__complete profiles` come from the fast entry, as the full CLI writes them, without loading it', async (t) => {
  const home = makeHome(t);
  mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
  writeFileSync(home.configFile, JSON.stringify({ profiles: { work: { accessToken: 'y0_a', clientId: 'c', obtainedAt: '2026-01-01T00:00:00Z' }, default: { accessToken: 'y0_b', clientId: 'c', obtainedAt: '2026-01-01T00:00:00Z' } }, deviceIds: {} }), { mode: 0o600 });
  const hook = pathToFileURL(join(ROOT, 'test', 'support', 'module-log.mjs')).href;
  for (const argv of [['completion', 'bash'], ['completion', 'zsh'], ['completion', 'fish'], ['__complete', 'profiles']]) {
    const log = join(home.dir, `modules-${argv.join('-')}.log`);
    const fast = await runCli(argv, { ...home.env, NODE_OPTIONS: `--import=${hook}`, MODULE_LOG: log });
    const full = await runCommand(argv, home.env);
    assert.equal(fast.code, 0, fast.stderr);
    assert.equal(fast.stdout, full.stdout, argv.join(' '));
    assert.equal(fast.stderr, '');
    assert.doesNotMatch(readFileSync(log, 'utf8'), /\/dist\/cli\.cjs|\/node_modules\//, `${argv.join(' ')} loads only the fast entry`);
  }
  assert.equal((await runCli(['__complete', 'profiles'], home.env)).stdout, 'default\nwork\n');
  // Anything else still goes to the full CLI, which explains it.
  const unknown = await runCli(['completion', 'tcsh'], home.env);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /Allowed choices are bash, zsh, fish/);
});
