// End to end in a real terminal: `login` under tmux (a real pseudo-terminal), answered by keystrokes and
// read back with capture-pane: the prompts, the hidden secret, Ctrl-C, and the waiting message; and the
// logins without a listener: --device's code and countdown, --no-localhost's prompt for the code.
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

  const first = await terminal.waitFor(ID_PROMPT);
  // One line before the first prompt: where a ClientID comes from, and that the demo needs none.
  const hint = first.split('\n').filter((line) => line.trim() !== '');
  assert.match(hint[0] ?? '', /^Your Yandex app's ClientID is on its page at https:\/\/oauth\.yandex\.ru \(register one at https:\/\/oauth\.yandex\.ru\/client\/new\), or try `yandex-token login --demo`, which needs none\./);
  assert.match(hint[1] ?? '', ID_PROMPT);
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
  const after = await terminal.waitFor(/Cancelled\. Nothing was stored\./);
  // The ^C the terminal echoed is cleared: the message starts its own line.
  assert.match(after, /^Cancelled\. Nothing was stored\./m);
  assert.doesNotMatch(after, /\^C/);
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

// The logins without a listener, on a terminal.

test('login --device shows the code and a countdown; Ctrl-C during it exits 2, nothing stored', { timeout: 60_000 }, async (t) => {
  if (!requireProgram(t, TMUX, 'apt-get install tmux')) return;
  const yandex = await fakeYandex(t, { deviceIntervalSeconds: 1 });
  const home = makeHome(t, yandex);
  const terminal = Terminal.start(t, ['login', '--device', '--client-id', DEMO_CLIENT.id, '--client-secret', DEMO_CLIENT.secret, '--no-browser'], home.env);
  const screen = await terminal.waitFor(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Waiting for the code to be entered… [0-4]:\d\d left/);
  assert.ok(screen.includes(`To log in, open ${yandex.url}/device in a browser on any device and enter this code:`), screen);
  const userCode = /enter this code:\n\n {2}(\S+)\n/.exec(screen)?.[1];
  assert.match(userCode ?? '', /^[a-z]{8}$/, `the code stands alone on its line:\n${screen}`);
  assert.match(screen, /the code expires in 5 min \(Ctrl-C to abort\)\./);
  // The clock runs: a later screen shows less time left (the spinner redraws it in place, on one line).
  await terminal.waitFor(/Waiting for the code to be entered… 4:5[0-8] left/);
  assert.equal(terminal.screen().match(/Waiting for the code to be entered/g)?.length, 1, 'redrawn in place, not scrolled');

  terminal.press('C-c');
  assert.equal(await terminal.exitCode(), 2);
  const after = await terminal.waitFor(/Cancelled\. Nothing was stored\./);
  assert.doesNotMatch(after, /\d:\d\d left/, 'the countdown is erased before the last line');
  assert.doesNotMatch(after, /\^C/, 'and the ^C echoed after it');
  assert.match(after, /^Cancelled\. Nothing was stored\./m);
  assertNothingStored(home, terminal);
  assertTerminalRestored(terminal);
  assert.ok(!existsSync(`${home.configFile}.lock`));
});

test('login --no-localhost asks for the code on the terminal, and the code typed there logs in', { timeout: 60_000 }, async (t) => {
  if (!requireProgram(t, TMUX, 'apt-get install tmux')) return;
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const terminal = Terminal.start(t, ['login', '--no-localhost', '--client-id', DEMO_CLIENT.id, '--client-secret', DEMO_CLIENT.secret, '--no-browser'], home.env);
  const screen = await terminal.waitFor(/Code from the Yandex page/);
  assert.doesNotMatch(screen, /Reading the code from stdin/, 'a terminal gets a prompt, not a read from stdin');
  const url = /(http:\/\/\S+\/authorize\?\S+)/.exec(screen)![1]!;
  assert.ok(url.includes(encodeURIComponent(`${yandex.url}/verification_code`)), url);

  const { visit } = await import('./support/scripted-browser.mjs');
  const page = await visit(url);
  const code = /<code id="code">([^<]+)<\/code>/.exec(page.html)![1]!;
  terminal.type(code);
  await terminal.waitFor(new RegExp(code), 5_000);
  terminal.press('Enter');

  await terminal.waitFor(/Logged in as demo\.user\. Token saved to /);
  assert.equal(await terminal.exitCode(), 0);
  assert.equal(terminal.stdout(), '');
  assertTerminalRestored(terminal);
  const stored = JSON.parse(readFileSync(home.configFile, 'utf8'));
  assert.equal((await runCli(['print'], home.env)).stdout, `${stored.profiles.default.accessToken}\n`);
});

test('Ctrl-C at the --no-localhost code prompt: exit 2, nothing stored', { timeout: 60_000 }, async (t) => {
  if (!requireProgram(t, TMUX, 'apt-get install tmux')) return;
  const home = makeHome(t, await fakeYandex(t));
  const terminal = Terminal.start(t, ['login', '--no-localhost', '--client-id', DEMO_CLIENT.id, '--client-secret', DEMO_CLIENT.secret, '--no-browser'], home.env);
  await terminal.waitFor(/Code from the Yandex page/);
  terminal.type('half-pasted');
  terminal.press('C-c');
  assert.equal(await terminal.exitCode(), 2);
  await terminal.waitFor(/Cancelled\. Nothing was stored\./);
  assertNothingStored(home, terminal);
  assertTerminalRestored(terminal);
});

test('help in a terminal narrower than 80 columns is wrapped to it; in a wider one it is the 80-column page', { timeout: 60_000 }, async (t) => {
  if (!requireProgram(t, TMUX, 'apt-get install tmux')) return;
  const home = makeHome(t);
  const page = (await runCli(['login', '--help'], home.env)).stdout;
  // The Options: section, which commander lays out (the text after it is written as it is).
  const optionRows = (text: string) => {
    const lines = text.split('\n');
    const start = lines.indexOf('Options:') + 1;
    return lines.slice(start, lines.indexOf('', start)).map((line) => line.trimEnd());
  };

  // 72: commander wraps only where at least 40 columns are left for the descriptions.
  const narrow = Terminal.start(t, ['login', '--help'], home.env, { columns: 72, stdoutOnTerminal: true });
  assert.equal(await narrow.exitCode(), 0);
  const rows = optionRows(narrow.screen());
  assert.ok(rows.length > 10, narrow.screen());
  for (const row of rows) assert.ok(row.length <= 72, `wrapped to the terminal: ${row}`);
  assert.ok(optionRows(page).some((row) => row.length > 72), 'the 80-column page would not have fitted');

  const wide = Terminal.start(t, ['login', '--help'], home.env, { columns: 120, stdoutOnTerminal: true });
  assert.equal(await wide.exitCode(), 0);
  const screen = wide.screen();
  for (const row of optionRows(page)) assert.ok(screen.includes(row), `the 80-column page's row is on screen: ${row}`);
});
