#!/usr/bin/env node
// A real browser for end-to-end tests: used as BROWSER (`node test/support/chromium-browser.mjs <url>`),
// it opens the URL in Debian's Chromium through playwright-core, clicks Allow or Deny on the emulator's
// consent page, waits for our callback page, and writes what that page said (JSON) and a screenshot.
// Settings come from the environment, since the CLI passes nothing but the URL:
//   CHROMIUM_BROWSER_DECISION   allow (default) or deny
//   CHROMIUM_BROWSER_RESULT     the JSON file to write: {stage, url, status, title, text} or {stage, error}
//   CHROMIUM_BROWSER_SCREENSHOT the PNG to save of the callback page
//   CHROMIUM_BROWSER_PIDFILE    where to write this process's pid (so a test can stop it)
// It never downloads a browser: the executable is /usr/bin/chromium (or CHROMIUM_PATH).
// Imported, enterDeviceCodeInChromium() plays the person who types a `login --device` code on another device,
// and measureOnPhone() lays pages out as a phone would, to check they are readable there.
import { mkdtempSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The flags the issue names: headless, no sandbox (root in CI), nothing that phones home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const STEP_TIMEOUT_MS = 30_000;
const OVERALL_TIMEOUT_MS = 90_000;

function writeAtomically(file, text) {
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

/**
 * Runs `use` with a page of a fresh headless Chromium (its own user-data folder), closed and removed after.
 * `device` adds playwright's context options (a phone's viewport, say).
 */
async function withChromiumPage(use, device = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'yandex-token-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: STEP_TIMEOUT_MS,
    ...device,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    return await use(page);
  } finally {
    await context.close().catch(() => undefined);
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Opens `url`, decides on the consent page and returns what the callback page showed. */
export async function consentInChromium(url, { decision = 'allow', screenshot } = {}) {
  return withChromiumPage(async (page) => {
    // Chromium's own complaints (a CSP violation, a blocked redirect) explain a failure better than a timeout.
    const console = [];
    page.on('console', (message) => console.push(`${message.type()}: ${message.text()}`));
    const consent = await page.goto(url, { waitUntil: 'load' });
    const button = page.locator(decision === 'deny' ? '#deny' : '#allow');
    if ((await button.count()) === 0) {
      return { stage: 'authorize', url: page.url(), status: consent?.status(), title: await page.title(), text: await page.innerText('body') };
    }
    // The form posts to the emulator, which redirects to our loopback listener; the listener answers
    // only once the login is finished, so this waits for the whole exchange.
    const redirect = new URL(new URL(url).searchParams.get('redirect_uri') ?? url);
    const isCallback = (response) => {
      const at = new URL(response.url());
      return at.origin === redirect.origin && at.pathname === redirect.pathname;
    };
    const [callback] = await Promise.all([
      page.waitForResponse(isCallback).catch((error) => {
        throw new Error(`${error.message}\nChromium said:\n${console.join('\n') || '(nothing)'}`);
      }),
      button.click(),
    ]);
    await page.waitForLoadState('load');
    const text = await page.innerText('body');
    if (screenshot) {
      mkdirSync(dirname(screenshot), { recursive: true });
      await page.screenshot({ path: screenshot, fullPage: true });
    }
    return { stage: 'callback', url: page.url(), status: callback.status(), title: await page.title(), text };
  });
}

/**
 * The device login as a person does it on another device: opens the verification page, types the code
 * shown by `login --device`, continues, and clicks Allow or Deny. Returns what the last page said.
 */
export async function enterDeviceCodeInChromium(url, userCode, { decision = 'allow', screenshot } = {}) {
  return withChromiumPage(async (page) => {
    await page.goto(url, { waitUntil: 'load' });
    await page.locator('#user_code').pressSequentially(userCode);
    await page.locator('#continue').click();
    const button = page.locator(decision === 'deny' ? '#deny' : '#allow');
    await button.waitFor();
    const consent = await page.innerText('body');
    const [decided] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), button.click()]);
    if (screenshot) {
      mkdirSync(dirname(screenshot), { recursive: true });
      await page.screenshot({ path: screenshot, fullPage: true });
    }
    return { stage: 'decided', consent, url: page.url(), status: decided?.status(), title: await page.title(), text: await page.innerText('body') };
  });
}

/**
 * Opens each URL as a phone 390 CSS px wide would (a mobile layout viewport, which honours or lacks the
 * page's viewport line) and reports how it was laid out: the layout width (980 without a viewport line,
 * so text shrinks to about 40 %), how wide the content is (wider: sideways scrolling), and the body's
 * font size. Saves a screenshot of each when `screenshots` names files.
 */
export async function measureOnPhone(urls, { width = 390, screenshots = [] } = {}) {
  const phone = { viewport: { width, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 3 };
  return withChromiumPage(async (page) => {
    const results = [];
    for (const [i, url] of urls.entries()) {
      const response = await page.goto(url, { waitUntil: 'load' });
      const measured = await page.evaluate(() => ({
        layoutWidth: window.innerWidth,
        contentWidth: document.documentElement.scrollWidth,
        fontSize: parseFloat(getComputedStyle(document.body).fontSize),
        title: document.title,
      }));
      if (screenshots[i]) {
        mkdirSync(dirname(screenshots[i]), { recursive: true });
        await page.screenshot({ path: screenshots[i], fullPage: true });
      }
      results.push({ url, status: response?.status(), ...measured });
    }
    return results;
  }, phone);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.argv[process.argv.length - 1];
  if (process.env.CHROMIUM_BROWSER_PIDFILE) writeAtomically(process.env.CHROMIUM_BROWSER_PIDFILE, String(process.pid));
  // Detached from the CLI, so it must end on its own even if nobody is waiting any more.
  const overall = setTimeout(() => {
    if (process.env.CHROMIUM_BROWSER_RESULT) {
      writeAtomically(process.env.CHROMIUM_BROWSER_RESULT, JSON.stringify({ stage: 'error', error: 'timed out' }));
    }
    process.exit(3);
  }, OVERALL_TIMEOUT_MS);
  overall.unref();
  const result = await consentInChromium(url, {
    decision: process.env.CHROMIUM_BROWSER_DECISION ?? 'allow',
    screenshot: process.env.CHROMIUM_BROWSER_SCREENSHOT,
  }).catch((error) => ({ stage: 'error', error: String(error?.stack ?? error) }));
  if (process.env.CHROMIUM_BROWSER_RESULT) writeAtomically(process.env.CHROMIUM_BROWSER_RESULT, `${JSON.stringify(result)}\n`);
  process.exit(result.stage === 'callback' ? 0 : 1);
}
