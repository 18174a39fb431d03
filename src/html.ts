// Escaping for the few HTML pages we serve (the callback pages and the emulator's).

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Headers every page we serve carries: no caching, no scripts, no framing, no referrer. */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  // default-src 'none': no script, image, font or connection at all, so even injected markup could not
  // run or send anything out; frame-ancestors and base-uri are not covered by default-src.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
} as const;
