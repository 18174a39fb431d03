// `--help` is answered from pages commander rendered when the CLI was built (dist/help.json), without
// loading commander: the pages must be exactly what commander writes, and only plain help requests may
// be answered that way.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { renderHelpPages } from '../src/cli/program.ts';
import { HELP_WIDTH, helpRequest } from '../src/cli/help.ts';
import { ROOT, makeHome, runCli } from './support/harness.ts';

test('which command lines ask only for a help page', () => {
  for (const argv of [['--help'], ['-h'], ['help']]) assert.equal(helpRequest(argv), '', argv.join(' '));
  for (const argv of [['help', 'login'], ['login', '--help'], ['login', '-h']]) assert.equal(helpRequest(argv), 'login', argv.join(' '));
  for (const argv of [[], ['login'], ['help', 'help'], ['-h', 'login'], ['--help', '--help'], ['help', '--json'], ['login', '--help', '--json'], ['help', '']]) {
    assert.equal(helpRequest(argv), undefined, argv.join(' '));
  }
});

test('every stored page is the one commander renders from the source, and is what --help writes', async (t) => {
  const stored = JSON.parse(readFileSync(join(ROOT, 'dist', 'help.json'), 'utf8')) as Record<string, string>;
  const rendered = await renderHelpPages();
  assert.deepEqual(stored, rendered, 'dist/help.json is current (npm run build)');
  assert.ok(Object.keys(rendered).includes('') && Object.keys(rendered).includes('print'), Object.keys(rendered).join(' '));
  for (const [command, page] of Object.entries(rendered)) {
    for (const line of page.split('\n')) assert.ok(line.length <= HELP_WIDTH, `${command || 'yandex-token'} --help: a line over ${HELP_WIDTH} columns: ${line}`);
  }
  const home = makeHome(t);
  for (const [command, page] of Object.entries(rendered)) {
    const argv = command ? [command, '--help'] : ['--help'];
    const result = await runCli(argv, home.env);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, page, argv.join(' '));
    assert.equal(result.stderr, '');
  }
  assert.equal((await runCli(['help', 'status'], home.env)).stdout, rendered.status);
  assert.equal((await runCli(['-h'], home.env)).stdout, rendered['']);
});

test('--help loads neither commander nor cli.cjs; anything else about help is commander\'s', async (t) => {
  const home = makeHome(t);
  const hook = pathToFileURL(join(ROOT, 'test', 'support', 'module-log.mjs')).href;
  const log = join(home.dir, 'modules.log');
  const result = await runCli(['login', '--help'], { ...home.env, NODE_OPTIONS: `--import=${hook}`, MODULE_LOG: log });
  assert.equal(result.code, 0, result.stderr);
  const loaded = readFileSync(log, 'utf8');
  assert.match(loaded, /\/dist\/print\.cjs/, 'the hook saw the CLI load');
  assert.doesNotMatch(loaded, /\/dist\/cli\.cjs|\/node_modules\/commander\//);

  const unknown = await runCli(['help', 'nope'], home.env);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stdout, '');
  assert.match(unknown.stderr, /^Usage: yandex-token \[options\] \[command\]/);
  const extra = await runCli(['login', '--help', '--json'], home.env);
  assert.equal(extra.code, 0, extra.stderr);
  assert.match(extra.stdout, /^Usage: yandex-token login/);
});
