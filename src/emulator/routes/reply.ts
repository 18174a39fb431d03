// What a route answers, as data the server writes out: JSON, OAuth errors, redirects, and the emulator's
// HTML pages (the frame every page shares, and the consent form).
import { PAGE_HEADERS, escapeHtml } from '../../html.js';
import type { EmulatorClient, Grant, Model } from '../model.js';
import { EMULATOR_PAGES, type Lang } from '../../page-text.js';

/** An answer: the server writes the status and headers, then the body (none for a redirect). */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

/** What a route is given of a request: the query, the form of a POST, the Authorization header. */
export interface RouteRequest {
  query: Record<string, string>;
  form: Record<string, string>;
  /** A POST's body parsed as JSON, when it was sent as application/json (Yandex Cloud's IAM exchange). */
  json?: unknown;
  authorization?: string;
  /** The language of the pages, from Accept-Language (English unless the browser prefers Russian). */
  lang: Lang;
}

export type Route = (request: RouteRequest, model: Model) => Reply;

export const BLOCKED = 'The application is blocked or awaiting moderation';

export function json(status: number, body: unknown): Reply {
  return { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(body) };
}

export function oauthError(error: string, description: string, status = 400): Reply {
  return json(status, { error, error_description: description });
}

export function text(status: number, body: string): Reply {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body };
}

export function redirect(location: string): Reply {
  return { status: 302, headers: { location, 'cache-control': 'no-store' } };
}

export function html(status: number, title: string, body: string, headers: Record<string, string> = {}, lang: Lang = 'en'): Reply {
  return { status, headers: { ...PAGE_HEADERS, 'content-language': lang, vary: 'Accept-Language', ...headers }, body: page(title, body, lang) };
}

// The viewport line makes a phone lay the page out at its own width (the device page is where
// `login --device` sends people, often on a phone); without it, mobile browsers render at 980 px and shrink.
function page(title: string, body: string, lang: Lang): string {
  const words = EMULATOR_PAGES[lang];
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — ${words.suffix}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;overflow-wrap:anywhere}
.note{color:#a15c00;font-size:.9em}input,button{font-size:1em}button{padding:.4em 1.2em;margin:0 .6em .6em 0}
input{padding:.3em;max-width:100%;box-sizing:border-box}code{font-size:1.3em}h1{font-size:1.5em;line-height:1.25}</style>
</head><body><p class="note">${words.note}</p>
${body}</body></html>
`;
}

/** The consent page's body: who asks for what, and Allow and Deny posting `id` back to `action`. */
export function consentForm(model: Model, action: string, id: string, client: EmulatorClient, grant: Grant, lang: Lang = 'en'): string {
  const words = EMULATOR_PAGES[lang];
  return `
<h1>${words.asks(escapeHtml(client.name))}</h1>
<p>${words.account}: <b>${escapeHtml(model.account.login)}</b></p>
<p>${words.permissions}: ${grant.scope ? escapeHtml(grant.scope) : words.allPermissions}</p>
${grant.deviceName ? `<p>${words.device}: ${escapeHtml(grant.deviceName)}</p>` : ''}
<form method="post" action="${action}">
<input type="hidden" name="request" value="${escapeHtml(id)}">
<button type="submit" name="decision" value="allow" id="allow">${words.allow}</button>
<button type="submit" name="decision" value="deny" id="deny">${words.deny}</button>
</form>`;
}
