// End to end in a real terminal: `login` under tmux (a real pseudo-terminal), answered by keystrokes and
// read back with capture-pane: the prompts, the hidden secret, Ctrl-C, and the waiting message.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { DEMO_CLIENT, fakeYandex, freePort, makeHome, runCli } from './support/harness.ts';
import { Terminal, requireProgram } from './support/e2e.ts';

const TMUX = '/usr/bin/tmux';
const ID_PROMPT = /Client ID of your Yandex app/;
const SECRET_PROMPT = /Client secret \(hidden\)/;
const WAITING = /Waiting up to 5 min for Yandex to redirect to http:\/\/127\.0\.0\.1:(\d+)\/callback \(Ctrl-C to abort\)\./;

async function startLogin(t: TestContext, args: string[] = []) {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const port = await freePort();
  const terminal = Terminal.start(t, ['login', '--port', String(port), '--no-browser', ...args], home.env);
  return { yandex, home, port, terminal };
}

function assertNothingStored(home: { configFile: string }, terminal: Terminal): void {
  assert.ok(!existsSync(home.configFile), 'nothing stored');
  assert.equal(terminal.stdout(), '', 'stdout stays empty');
}

/** The prompts switch the terminal to raw mode; the person's shell must get it back as it was. */
function assertTerminalRestored(terminal: Terminal): void {
  const flags = terminal.ttyFlags();
  for (const flag of ['icanon', 'echo', 'isig']) assert.ok(flags.includes(flag), `${flag} is back on: ${flags.join(' ')}`);
}

test('the prompts take the client id, hide the secret, and the login completes', { timeout: 60_000 }, async (t) => {
  if (!requireProgram(t, TMUX, 'apt-get install tmux')) return;
  const { home, port, terminal } = await startLogin(t);

  await terminal.waitFor(ID_PROMPT);
  terminal.type(DEMO_CLIENT.id);
  await terminal.waitFor(new RegExp(DEMO_CLIENT.id), 5_000);
  terminal.press('Enter');

  await terminal.waitFor(SECRET_PROMPT);
  terminal.type(DEMO_CLIENT.secret);
  // Give the terminal every chance to echo it before looking: nothing may appear, not even one * per key.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const typed = terminal.screen();
  assert.ok(!typed.includes(DEMO_CLIENT.secret), `the secret is on the screen:\n${typed}`);
  assert.ok(!typed.includes('*'.repeat(DEMO_CLIENT.secret.length)), `the secret's length is on the screen:\n${typed}`);
  terminal.press('Enter');

  const waiting = await terminal.waitFor(WAITING);
  assert.equal(WAITING.exec(waiting)![1], String(port));
  assert.ok(!waiting.includes(DEMO_CLIENT.secret), 'the secret never appears');
  const url = /(http:\/\/\S+\/authorize\?\S+)/.exec(waiting)![1]!;
  assert.match(url, new RegExp(`client_id=${DEMO_CLIENT.id}&`), 'the whole URL is on the screen, on one logical line');

  const { visit } = await import('./support/scripted-browser.mjs');
  const page = await visit(url);
  assert.equal(page.status, 200);

  const done = await terminal.waitFor(/Logged in as demo\.user\. Token saved to /);
  assert.equal(await terminal.exitCode(), 0);
  assert.ok(!done.includes(DEMO_CLIENT.secret), 'the secret never appears');
  assert.equal(terminal.stdout(), '', 'everything shown went to stderr; stdout stays empty');
  assertTerminalRestored(terminal);

  const stored = JSON.parse(readFileSync(home.configFile, 'utf8'));
  assert.equal(stored.profiles.default.clientSecret, DEMO_CLIENT.secret, 'the hidden answer was taken as typed');
  const print = await runCli(['print'], home.env);
  assert.equal(print.stdout, `${stored.profiles.default.accessToken}\n`);
});

test('Ctrl-C at the client id prompt: exit 2, nothing stored', { timeout: 60_000 }, async (t) => {
  if (!requireProgram(t, TMUX, 'apt-get install tmux')) return;
  const { home, terminal } = await startLogin(t);
  await terminal.waitFor(ID_PROMPT);
  terminal.type('half-typed');
  terminal.press('C-c');
  assert.equal(await terminal.exitCode(), 2);
  await terminal.waitFor(/Cancelled\. Nothing was stored\./);
  assertNothingStored(home, terminal);
  assertTerminalRestored(terminal);
});

test('Ctrl-C at the hidden secret prompt: exit 2, nothing stored, nothing shown', { timeout: 60_000 }, async (t) => {
  if (!requireProgram(t, TMUX, 'apt-get install tmux')) return;
  const { home, terminal } = await startLogin(t, ['--client-id', DEMO_CLIENT.id]);
  await terminal.waitFor(SECRET_PROMPT);
  terminal.type('not-yet-finished-secret');
  terminal.press('C-c');
  assert.equal(await terminal.exitCode(), 2);
  const screen = await terminal.waitFor(/Cancelled\. Nothing was stored\./);
  assert.ok(!screen.includes('not-yet-finished-secret'));
  assertNothingStored(home, terminal);
  assertTerminalRestored(terminal);
});

test('Ctrl-C while waiting for the browser, after the prompts: exit 2, nothing stored, the port released', { timeout: 60_000 }, async (t) => {
  if (!requireProgram(t, TMUX, 'apt-get install tmux')) return;
  const { home, port, terminal } = await startLogin(t);
  await terminal.waitFor(ID_PROMPT);
  terminal.type(DEMO_CLIENT.id);
  terminal.press('Enter');
  await terminal.waitFor(SECRET_PROMPT);
  terminal.type(DEMO_CLIENT.secret);
  terminal.press('Enter');
  await terminal.waitFor(WAITING);
  // The prompts put the terminal in raw mode; Ctrl-C must be a signal again by now.
  terminal.press('C-c');
  assert.equal(await terminal.exitCode(), 2);
  await terminal.waitFor(/Cancelled\. Nothing was stored\./);
  assertNothingStored(home, terminal);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/callback`), 'the listener is gone');
});

test('with the credentials given, the terminal shows the URL and the waiting message, and no prompt', { timeout: 60_000 }, async (t) => {
  if (!requireProgram(t, TMUX, 'apt-get install tmux')) return;
  const { home, terminal } = await startLogin(t, ['--client-id', DEMO_CLIENT.id, '--client-secret', DEMO_CLIENT.secret, '--timeout', '2']);
  const screen = await terminal.waitFor(/Waiting up to 2 s for Yandex to redirect to http:\/\/127\.0\.0\.1:\d+\/callback \(Ctrl-C to abort\)\./);
  assert.match(screen, /Open this URL in a browser to log in to Yandex:/);
  assert.doesNotMatch(screen, ID_PROMPT);
  assert.equal(await terminal.exitCode(), 1);
  await terminal.waitFor(/No answer from the browser within 2 s\./);
  assertNothingStored(home, terminal);
});
