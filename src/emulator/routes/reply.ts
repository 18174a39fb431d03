// What a route answers, as data the server writes out: JSON, OAuth errors, redirects, and the emulator's
// HTML pages (the frame every page shares, and the consent form).
import { PAGE_HEADERS, escapeHtml } from '../../html.js';
import type { EmulatorClient, Grant, Model } from '../model.js';

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
  authorization?: string;
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

export function html(status: number, title: string, body: string, headers: Record<string, string> = {}): Reply {
  return { status, headers: { ...PAGE_HEADERS, ...headers }, body: page(title, body) };
}

// The viewport line makes a phone lay the page out at its own width (the device page is where
// `login --device` sends people, often on a phone); without it, mobile browsers render at 980 px and shrink.
function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — Yandex OAuth emulator</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36em;margin:3em auto;padding:0 1em;overflow-wrap:anywhere}
.note{color:#a15c00;font-size:.9em}input,button{font-size:1em}button{padding:.4em 1.2em;margin:0 .6em .6em 0}
input{padding:.3em;max-width:100%;box-sizing:border-box}code{font-size:1.3em}h1{font-size:1.5em;line-height:1.25}</style>
</head><body><p class="note">Yandex OAuth emulator — not Yandex. Tokens issued here work only with this emulator.</p>
${body}</body></html>
`;
}

/** The consent page's body: who asks for what, and Allow and Deny posting `id` back to `action`. */
export function consentForm(model: Model, action: string, id: string, client: EmulatorClient, grant: Grant): string {
  return `
<h1>${escapeHtml(client.name)} asks for access</h1>
<p>Account: <b>${escapeHtml(model.account.login)}</b></p>
<p>Permissions: ${grant.scope ? escapeHtml(grant.scope) : 'all that the app has'}</p>
${grant.deviceName ? `<p>Device: ${escapeHtml(grant.deviceName)}</p>` : ''}
<form method="post" action="${action}">
<input type="hidden" name="request" value="${escapeHtml(id)}">
<button type="submit" name="decision" value="allow" id="allow">Allow</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form>`;
}
