#!/usr/bin/env node
// A scripted browser for black-box tests, used as BROWSER (`node test/support/scripted-browser.mjs <url>`):
// answers the emulator's consent page with SCRIPTED_BROWSER_DECISION (allow or deny) and appends what the
// callback page said to SCRIPTED_BROWSER_LOG. The clicking itself is the emulator's browseConsent().
import { appendFileSync } from 'node:fs';
import { browseConsent } from '../../dist/emulator/index.js';

export const visit = (url, { decision = 'allow' } = {}) => browseConsent(url, decision);

if (import.meta.url === `file://${process.argv[1]}`) {
  const url = process.argv[process.argv.length - 1];
  const delay = Number(process.env.SCRIPTED_BROWSER_DELAY_MS ?? 0);
  if (delay) await new Promise((r) => setTimeout(r, delay));
  const result = await visit(url, { decision: process.env.SCRIPTED_BROWSER_DECISION ?? 'allow' }).catch((error) => ({
    stage: 'error',
    error: String(error),
  }));
  if (process.env.SCRIPTED_BROWSER_LOG) appendFileSync(process.env.SCRIPTED_BROWSER_LOG, `${JSON.stringify(result)}\n`);
}
