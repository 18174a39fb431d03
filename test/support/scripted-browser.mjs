#!/usr/bin/env node
// A scripted browser: follows the authorize URL, answers the consent page (Allow or Deny), follows the
// redirect to the callback and records what the callback page said. Used as BROWSER by black-box tests
// (`node test/support/scripted-browser.mjs <url>`) and imported by in-process tests.
import { appendFileSync } from 'node:fs';

function attr(html, pattern) {
  const match = pattern.exec(html);
  return match ? match[1].replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))) : undefined;
}

/** Returns { stage, status, html, location? }; stage is where it stopped: authorize, consent or callback. */
export async function visit(url, { decision = 'allow', delayMs = 0 } = {}) {
  if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
  const authorize = await fetch(url, { redirect: 'manual' });
  const consent = await authorize.text();
  if (authorize.status !== 200) return { stage: 'authorize', status: authorize.status, html: consent };
  const action = attr(consent, /<form method="post" action="([^"]+)"/);
  const request = attr(consent, /name="request" value="([^"]+)"/);
  if (!action || !request) return { stage: 'authorize', status: authorize.status, html: consent };
  const decided = await fetch(new URL(action, url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, decision }),
    redirect: 'manual',
  });
  const location = decided.headers.get('location');
  if (!location) return { stage: 'consent', status: decided.status, html: await decided.text() };
  const callback = await fetch(location, { redirect: 'manual' });
  return { stage: 'callback', status: callback.status, html: await callback.text(), location };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.argv[process.argv.length - 1];
  const result = await visit(url, {
    decision: process.env.SCRIPTED_BROWSER_DECISION ?? 'allow',
    delayMs: Number(process.env.SCRIPTED_BROWSER_DELAY_MS ?? 0),
  }).catch((error) => ({ stage: 'error', error: String(error) }));
  if (process.env.SCRIPTED_BROWSER_LOG) appendFileSync(process.env.SCRIPTED_BROWSER_LOG, `${JSON.stringify(result)}\n`);
}
