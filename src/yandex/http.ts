// The one way a request reaches Yandex: node:http(s) directly when nothing else is asked for, or the fetch
// the Context names (a proxy's, a test's, a program's through the Node API). Not global fetch by default:
// loading it costs every command that talks to Yandex tens of milliseconds (undici compiles its parser),
// and its pooled connections hold the process up to its exit; one connection per request, closed after
// the answer, costs neither.

/** An answer, read whole (at most `maxBytes`). */
export interface Answer {
  status: number;
  contentType: string | undefined;
  text: string;
}

export interface Ask {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** A form, for POST (the caller names its content type in `headers`). */
  body?: URLSearchParams;
  /** A JSON document, for POST instead of a form (Yandex Cloud's IAM): sent as application/json. */
  json?: unknown;
}

/** The body and headers of `ask` as they go out: a JSON document carries its own content type. */
function encoded(ask: Ask): { body: string | undefined; headers: Record<string, string> } {
  if (ask.json === undefined) return { body: ask.body?.toString(), headers: ask.headers };
  return { body: JSON.stringify(ask.json), headers: { ...ask.headers, 'content-type': 'application/json' } };
}

/** The answer was longer than the caller would read. */
export class BodyTooLarge extends Error {}

/** Sends `ask` and reads the answer, through `fetchImpl` when given; rejects as fetch would (signal, network). */
export function send(url: string, ask: Ask, signal: AbortSignal, maxBytes: number, fetchImpl?: typeof fetch): Promise<Answer> {
  return fetchImpl ? viaFetch(fetchImpl, url, ask, signal, maxBytes) : direct(url, ask, signal, maxBytes);
}

async function direct(url: string, ask: Ask, signal: AbortSignal, maxBytes: number): Promise<Answer> {
  const { request } = url.startsWith('https:') ? await import('node:https') : await import('node:http');
  const { body, headers: given } = encoded(ask);
  const headers = { ...given, connection: 'close', ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) };
  return new Promise((resolve, reject) => {
    const req = request(url, { method: ask.method, headers, agent: false, signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) return void req.destroy(new BodyTooLarge());
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
      // Cut off midway (a reset, the signal): no 'end' comes.
      res.on('close', () => {
        if (!res.complete) reject(Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' }));
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function viaFetch(fetchImpl: typeof fetch, url: string, ask: Ask, signal: AbortSignal, maxBytes: number): Promise<Answer> {
  const { body, headers } = encoded(ask);
  // A form goes as URLSearchParams, as it always has: a caller's fetch may look at it.
  const response = await fetchImpl(url, { method: ask.method, headers, body: ask.json === undefined ? ask.body : body, signal, redirect: 'manual' });
  const chunks: Uint8Array[] = [];
  if (response.body) {
    const reader = response.body.getReader();
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new BodyTooLarge();
      }
      chunks.push(value);
    }
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? undefined, text: Buffer.concat(chunks).toString('utf8') };
}

/** A request whose answer is streamed (yandex-token api): any method, a body of bytes. */
export interface RawAsk {
  method: string;
  headers: Record<string, string>;
  body?: Uint8Array;
}

/** An answer whose body has not been read yet: iterate it once, or discard it. */
export interface OpenAnswer {
  status: number;
  statusText: string;
  /** As the server sent them, in order. */
  headers: [string, string][];
  body: AsyncIterable<Uint8Array>;
  /** Reads nothing more and lets the connection go. */
  discard(): void;
}

/**
 * Sends `ask` and resolves once the status and headers are in, through `fetchImpl` when given; the body is
 * the caller's to stream. Redirects are never followed. Rejects as fetch would (signal, network).
 */
export function open(url: string, ask: RawAsk, signal: AbortSignal, fetchImpl?: typeof fetch): Promise<OpenAnswer> {
  return fetchImpl ? openViaFetch(fetchImpl, url, ask, signal) : openDirect(url, ask, signal);
}

async function openDirect(url: string, ask: RawAsk, signal: AbortSignal): Promise<OpenAnswer> {
  const { request } = url.startsWith('https:') ? await import('node:https') : await import('node:http');
  const length = ask.body === undefined ? {} : { 'content-length': String(ask.body.byteLength) };
  const headers = { ...ask.headers, connection: 'close', ...length };
  return new Promise((resolve, reject) => {
    const req = request(url, { method: ask.method, headers, agent: false, signal }, (res) => {
      const pairs: [string, string][] = [];
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) pairs.push([res.rawHeaders[i]!, res.rawHeaders[i + 1]!]);
      resolve({
        status: res.statusCode ?? 0,
        statusText: res.statusMessage ?? '',
        headers: pairs,
        body: res,
        discard: () => void res.destroy(),
      });
    });
    req.on('error', reject);
    req.end(ask.body);
  });
}

async function openViaFetch(fetchImpl: typeof fetch, url: string, ask: RawAsk, signal: AbortSignal): Promise<OpenAnswer> {
  const response = await fetchImpl(url, { method: ask.method, headers: ask.headers, body: ask.body as BodyInit | undefined, signal, redirect: 'manual' });
  const body = response.body;
  return {
    status: response.status,
    statusText: response.statusText,
    headers: [...response.headers],
    body: body ?? (async function* () {})(),
    discard: () => void body?.cancel().catch(() => undefined),
  };
}
