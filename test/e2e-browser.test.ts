// End to end in a real browser: `login` runs as a user would, with BROWSER set to a driver that opens the
// authorize URL in Debian's Chromium (playwright-core, never a downloaded browser) and clicks Allow or Deny
// on the emulator's consent page. Screenshots of the callback page land in test-artifacts/. For
// `login --device`, Chromium plays the other device: it types the code shown on stderr into the emulator's
// device page and allows or denies there. At a phone's 390 px, the pages must be laid out at that width.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { credentials, fakeYandex, freePort, makeHome, runCli, startCli } from './support/harness.ts';
import { ARTIFACTS, CHROMIUM, chromiumEnv, requireProgram, waitForFile } from './support/e2e.ts';

interface PageResult {
  stage: string;
  url?: string;
  status?: number;
  title?: string;
  text?: string;
  error?: string;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Stops the driver (and so its Chromium) if a failed test left it running. */
function stopDriverAfter(t: TestContext, pidFile: string): void {
  t.after(() => {
    if (!existsSync(pidFile)) return;
    try {
      process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
    } catch {
      // It already ended, as it should.
    }
  });
}

async function loginInChromium(t: TestContext, decision: 'allow' | 'deny') {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const port = await freePort();
  const screenshot = join(ARTIFACTS, `e2e-browser-${decision}.png`);
  const { env, result, pidFile } = chromiumEnv(home, decision, screenshot);
  stopDriverAfter(t, pidFile);
  const login = await runCli(['login', ...credentials(), '--port', String(port), '--timeout', '60'], env, { timeoutMs: 90_000 });
  const page = JSON.parse(await waitForFile(result, 60_000)) as PageResult;
  assert.equal(page.stage, 'callback', `Chromium did not reach the callback page: ${page.error ?? JSON.stringify(page)}\nCLI said:\n${login.stderr}`);
  return { home, login, page, screenshot, port };
}

function assertScreenshot(path: string): void {
  const png = readFileSync(path);
  assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE, `${path} is a PNG`);
  assert.ok(statSync(path).size > 1_000, `${path} shows something`);
}

test('Allow in Chromium: the callback page says so, and print gives the token', { timeout: 120_000 }, async (t) => {
  if (!requireProgram(t, CHROMIUM, 'apt-get install chromium')) return;
  const { home, login, page, screenshot, port } = await loginInChromium(t, 'allow');

  assert.equal(login.code, 0, login.stderr);
  assert.equal(login.stdout, '');
  assert.match(login.stderr, /Logged in as demo\.user\. Token saved to /);

  assert.equal(page.status, 200);
  assert.equal(page.title, 'yandex-token: Logged in');
  assert.equal(page.text, 'Logged in\n\nyandex-token is logged in as demo.user. You can close this tab and return to the terminal.');
  assert.ok(page.url?.startsWith(`http://127.0.0.1:${port}/callback?`), page.url);
  assertScreenshot(screenshot);

  const print = await runCli(['print'], home.env);
  assert.equal(print.code, 0, print.stderr);
  const stored = JSON.parse(readFileSync(home.configFile, 'utf8'));
  assert.equal(print.stdout, `${stored.profiles.default.accessToken}\n`);
  assert.match(print.stdout, /^y0_emu_\S+\n$/);
  assert.ok(!page.text.includes(stored.profiles.default.accessToken), 'the page never shows the token');
});

test('Deny in Chromium: the page and the terminal say it was declined; nothing is stored', { timeout: 120_000 }, async (t) => {
  if (!requireProgram(t, CHROMIUM, 'apt-get install chromium')) return;
  const { home, login, page, screenshot } = await loginInChromium(t, 'deny');

  assert.equal(login.code, 1);
  assert.equal(login.stdout, '');
  assert.match(login.stderr.trim().split('\n').at(-1)!, /^Access was declined in the browser\. Nothing was stored; run `yandex-token login` again to retry\.$/);

  assert.equal(page.status, 400);
  assert.equal(page.title, 'yandex-token: Login declined');
  assert.equal(page.text, 'Login declined\n\nAccess was declined in the browser. You can close this tab.');
  assertScreenshot(screenshot);

  assert.ok(!existsSync(home.configFile), 'nothing stored');
  const print = await runCli(['print'], home.env);
  assert.equal(print.code, 4);
  assert.equal(print.stdout, '');
});

/** `login --device` shows a code; Chromium, as the person's other device, enters it and decides. */
async function deviceLoginInChromium(t: TestContext, decision: 'allow' | 'deny') {
  const yandex = await fakeYandex(t, { deviceIntervalSeconds: 1 });
  const home = makeHome(t, yandex);
  const running = startCli(['login', '--device', ...credentials(), '--no-browser'], home.env, { timeoutMs: 90_000 });
  const shown = await running.waitForStderr(/enter this code:\n\n {2}\S+\n/);
  const userCode = /enter this code:\n\n {2}(\S+)\n/.exec(shown)![1]!;
  const url = /open (\S+) in a browser/.exec(shown)![1]!;
  assert.equal(url, `${yandex.url}/device`);
  const screenshot = join(ARTIFACTS, `e2e-browser-device-${decision}.png`);
  const { enterDeviceCodeInChromium } = await import('./support/chromium-browser.mjs');
  const page = (await enterDeviceCodeInChromium(url, userCode, { decision, screenshot })) as PageResult & { consent: string };
  return { home, login: await running.done, page, screenshot, userCode };
}

test('--device, Allow in Chromium: the code typed on the device page logs in, and print gives the token', { timeout: 120_000 }, async (t) => {
  if (!requireProgram(t, CHROMIUM, 'apt-get install chromium')) return;
  const { home, login, page, screenshot } = await deviceLoginInChromium(t, 'allow');

  assert.match(page.consent, /yandex-token demo app/, 'the consent page names the app');
  assert.equal(page.status, 200);
  assert.match(page.text!, /Access allowed/);
  assertScreenshot(screenshot);

  assert.equal(login.code, 0, login.stderr);
  assert.equal(login.stdout, '');
  assert.match(login.stderr.trim().split('\n').at(-1)!, /^Logged in as demo\.user\. Token saved to /);

  const print = await runCli(['print'], home.env);
  assert.equal(print.code, 0, print.stderr);
  const stored = JSON.parse(readFileSync(home.configFile, 'utf8'));
  assert.equal(print.stdout, `${stored.profiles.default.accessToken}\n`);
  assert.match(print.stdout, /^y0_emu_\S+\n$/);
});

test('--device, Deny in Chromium: the terminal says it was declined; nothing is stored', { timeout: 120_000 }, async (t) => {
  if (!requireProgram(t, CHROMIUM, 'apt-get install chromium')) return;
  const { home, login, page, screenshot } = await deviceLoginInChromium(t, 'deny');

  assert.equal(page.status, 200);
  assert.match(page.text!, /Access denied/);
  assertScreenshot(screenshot);

  assert.equal(login.code, 1);
  assert.equal(login.stdout, '');
  assert.equal(
    login.stderr.trim().split('\n').at(-1),
    // The emulator answers a denial as Yandex is known to answer a code it will not honour (invalid_grant).
    'Yandex answered invalid_grant (The user denied access): the code expired or was declined, and Yandex no longer accepts it. Run `yandex-token login --device` again and enter the new code.',
  );
  assert.ok(!existsSync(home.configFile), 'nothing stored');
  const print = await runCli(['print'], home.env);
  assert.equal(print.code, 4);
  assert.equal(print.stdout, '');
});

test('at a phone\'s 390 px, the emulator\'s pages and ours are laid out at that width and readable', { timeout: 120_000 }, async (t) => {
  if (!requireProgram(t, CHROMIUM, 'apt-get install chromium')) return;
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const port = await freePort();
  // A login waits on the listener, so that one of our pages (a request without its state) can be opened.
  const running = startCli(['login', ...credentials(), '--port', String(port), '--no-browser', '--timeout', '60'], home.env, { timeoutMs: 90_000 });
  t.after(() => running.child.kill('SIGTERM'));
  const authorize = /(http:\/\/\S+\/authorize\?\S+)/.exec(await running.waitForStderr(/Waiting up to/))![1]!;
  const pages = {
    'device page': `${yandex.url}/device`,
    consent: authorize,
    'verification code': `${yandex.url}/verification_code?code=AbCdEfGhIjKlMnOp`,
    'our callback page': `http://127.0.0.1:${port}/callback?error=access_denied`,
  };
  const { measureOnPhone } = await import('./support/chromium-browser.mjs');
  const screenshots = Object.keys(pages).map((name) => join(ARTIFACTS, `e2e-phone-${name.replace(/ /g, '-')}.png`));
  const results = (await measureOnPhone(Object.values(pages), { screenshots })) as { url: string; layoutWidth: number; contentWidth: number; fontSize: number }[];
  for (const [i, name] of Object.keys(pages).entries()) {
    const page = results[i]!;
    assert.equal(page.layoutWidth, 390, `${name}: laid out at the phone's width, not a shrunken desktop one`);
    assert.ok(page.contentWidth <= 390, `${name}: no sideways scrolling (${page.contentWidth} px wide)`);
    assert.ok(page.fontSize >= 16, `${name}: text of ${page.fontSize} px`);
    assertScreenshot(screenshots[i]!);
  }
  running.child.kill('SIGTERM');
  assert.equal((await running.done).code, 143);
});
