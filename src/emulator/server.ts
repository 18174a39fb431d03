// The emulator's node:http server: reads each request (query, form, Authorization), logs it, delays it
// when asked, plays an armed failure (a 503, a captive portal's page, half a body, a reset, a hang…) or
// hands it to its route and writes the answer; listens on loopback and closes, hanging answers and all.
import { pageLanguage } from '../page-text.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DEMO_CLIENT,
  createModel,
  decideDevice,
  expireCodes,
  expireDeviceCodes,
  issue,
  logRequest,
  revokeAll,
  takeFailure,
  type Endpoint,
  type FailureMode,
  type Grant,
  type LoggedRequest,
  type Model,
  type ModelOptions,
} from './model.js';
import { ROUTES, json, oauthError, type Reply } from './routes/index.js';

export interface EmulatorOptions extends ModelOptions {
  host?: string;
  port?: number;
  /** Every answer is delayed by this many milliseconds (a slow network or an overloaded Yandex). */
  slowMs?: number;
  /** Called when an answer has gone out (or the connection closed without one): for a request log. */
  onRequest?: (entry: { method: string; path: string; status?: number }) => void;
  /** The emulator's time (ms since the epoch): a test's clock, shared with the CLI in-process. */
  now?: () => number;
}

export interface Emulator {
  /** Base URL for both YANDEX_OAUTH_URL and YANDEX_LOGIN_URL. */
  url: string;
  close(): Promise<void>;
  /** Makes the next `times` requests to an endpoint fail in the given way. */
  fail(endpoint: Endpoint, mode: FailureMode, times?: number): void;
  clearFailures(): void;
  /** How often each thing happened: "token:authorization_code", "token:refresh_token", "revoke", … */
  counts: Record<string, number>;
  requests: LoggedRequest[];
  /**
   * Issues a token pair directly, as if a login had happened (for tests of refresh, status, logout). As at
   * Yandex, the refresh token dies with the access token, unless refreshExpiresIn says otherwise (an
   * expired access token whose refresh still works: `expiresIn: 0, refreshExpiresIn: 3600`).
   */
  issueToken(grant: Partial<Grant> & { expiresIn?: number; refreshExpiresIn?: number }): {
    access_token: string;
    refresh_token: string;
    expires_in: number;
  };
  /** Approves or denies a device code by its user code, as the person would on the device page. */
  decideDevice(userCode: string, allow: boolean): boolean;
  /** Expires every device code now. */
  expireDeviceCodes(): void;
  /** Expires every authorization code now (codes live 10 minutes). */
  expireCodes(): void;
  /** Delays every answer from now on by this many milliseconds (0: no delay). */
  slow(ms: number): void;
  /**
   * Answers the next device-code poll with slow_down and raises that code's interval by 5 s, as a busy
   * server may (RFC 8628 §3.5), in either reading of deviceErrors: no Yandex source shows it, but a
   * client must cope. With 'rfc8628', a client that polls faster than the new interval gets it again.
   */
  slowDownNextPoll(): void;
  /** Revokes every token, as "Log out on all devices" in Yandex ID would. */
  revokeAll(): void;
}

/** What the server holds beside the model: the delay, and the answers it is holding back (to end on close). */
interface Holding {
  slowMs: number;
  hanging: Set<ServerResponse>;
  delays: Set<NodeJS.Timeout>;
}

const NOT_FOUND: Reply = { status: 404, headers: { 'content-type': 'text/plain' }, body: 'Not found' };

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, reply.headers);
  res.end(reply.body);
}

/** Form fields, or undefined when one is given twice ("parameter … duplicated" is invalid_request). */
function parseForm(body: string): Record<string, string> | undefined {
  const entries = [...new URLSearchParams(body)];
  if (new Set(entries.map(([key]) => key)).size !== entries.length) return undefined;
  return Object.fromEntries(entries);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function delay(holding: Holding): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      holding.delays.delete(timer);
      resolve();
    }, holding.slowMs);
    holding.delays.add(timer);
  });
}

function playFailure(res: ServerResponse, mode: FailureMode, holding: Holding): void {
  switch (mode) {
    case 'server-error':
      res.writeHead(503, { 'content-type': 'text/html' });
      return void res.end('<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>');
    case 'html':
      res.writeHead(200, { 'content-type': 'text/html' });
      return void res.end('<html><body><h1>Please sign in to the network</h1></body></html>');
    case 'truncated':
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end('{"access_token": "y0_trunc');
    case 'no-access-token':
      return send(res, json(200, { token_type: 'bearer', expires_in: 3600 }));
    case 'huge': {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = `"${'x'.repeat(1024 * 1024 - 3)}",`;
      res.write('{"padding":[');
      for (let i = 0; i < 10; i++) res.write(chunk);
      return void res.end('""]}');
    }
    case 'reset':
      return void res.socket?.destroy();
    case 'hang':
      holding.hanging.add(res);
      return;
    case 'stall':
      holding.hanging.add(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token": "y0_stall');
      return;
  }
}

async function answer(req: IncomingMessage, res: ServerResponse, model: Model, holding: Holding, options: EmulatorOptions): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://emulator');
  const query = Object.fromEntries(url.searchParams);
  if (options.onRequest) {
    res.once('close', () => options.onRequest?.({ method: req.method ?? '', path: url.pathname, status: res.headersSent ? res.statusCode : undefined }));
  }
  let form: Record<string, string> | undefined = {};
  let body: unknown;
  if (req.method === 'POST') {
    let text: string;
    try {
      text = await readBody(req);
    } catch {
      return send(res, oauthError('invalid_request', 'Request body too large', 413));
    }
    // JSON (Yandex Cloud's IAM exchange) or a form (Yandex OAuth); a body that is not JSON is left unset.
    if (/^application\/json\b/i.test(req.headers['content-type'] ?? '')) body = parseJson(text);
    else form = parseForm(text);
  }
  const authorization = req.headers.authorization;
  logRequest(model, { method: req.method ?? '', path: url.pathname, query, form: form ?? {}, json: body, authorization, at: model.now() });
  if (holding.slowMs > 0) {
    await delay(holding);
    if (res.destroyed) return;
  }
  const failure = takeFailure(model, url.pathname);
  if (failure) return playFailure(res, failure, holding);
  const route = ROUTES[`${req.method} ${url.pathname}`];
  if (!route) return send(res, NOT_FOUND);
  if (!form) return send(res, oauthError('invalid_request', 'A parameter is duplicated'));
  send(res, route({ query, form, json: body, authorization, lang: pageLanguage(req.headers['accept-language']) }, model));
}

async function listen(server: Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const name = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${name}:${address.port}`;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const model = createModel(options, options.now);
  const holding: Holding = { slowMs: options.slowMs ?? 0, hanging: new Set(), delays: new Set() };
  const server = createServer((req, res) => {
    answer(req, res, model, holding, options).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  model.base = await listen(server, options.host ?? '127.0.0.1', options.port ?? 0);

  return {
    url: model.base,
    counts: model.counts,
    requests: model.requests,
    fail(endpoint, mode, times = Number.POSITIVE_INFINITY) {
      model.failures.set(endpoint, { mode, times });
    },
    clearFailures() {
      model.failures.clear();
    },
    issueToken({ expiresIn, refreshExpiresIn, ...grant }) {
      return issue(model, { clientId: DEMO_CLIENT.id, ...grant }, expiresIn ?? model.lifetime, refreshExpiresIn ?? expiresIn ?? model.lifetime);
    },
    decideDevice: (userCode, allow) => decideDevice(model, userCode, allow),
    expireDeviceCodes: () => expireDeviceCodes(model),
    expireCodes: () => expireCodes(model),
    slow(ms) {
      holding.slowMs = ms;
    },
    slowDownNextPoll() {
      model.slowDownPending = true;
    },
    revokeAll: () => revokeAll(model),
    close() {
      for (const res of holding.hanging) res.socket?.destroy();
      for (const timer of holding.delays) clearTimeout(timer);
      holding.delays.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
