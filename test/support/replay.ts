// A replay of real Yandex OAuth exchanges (test/fixtures/yandex-recorded): a loopback server that answers
// each request with the next recorded answer for its method and path, and notes every way the request
// differs from the recorded one. Not an emulator: it decides nothing, it only replays and compares.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ROOT } from './harness.ts';

/** One recorded request and Yandex's answer, as the fixtures keep them (bodies decoded, secrets faked). */
export interface RecordedExchange {
  method: string;
  url: string;
  request: { headers: Record<string, string>; form: Record<string, string> };
  response: { status: number; headers: Record<string, string>; body: string };
}

export interface Fixture {
  source: { repo: string; commit: string; path: string; note: string };
  exchanges: RecordedExchange[];
}

export const FIXTURES = join(ROOT, 'test', 'fixtures', 'yandex-recorded');

/** Where the recorded exchanges went: only these are replayed; the Disk API calls in them are not ours. */
const RECORDED_OAUTH_ORIGIN = 'https://oauth.yandex.ru';

export function loadFixture(name: 'test_auth' | 'test_device_code_auth'): Fixture {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as Fixture;
}

/** The exchanges with oauth.yandex.ru, in recorded order. */
export function oauthExchanges(fixture: Fixture): RecordedExchange[] {
  return fixture.exchanges.filter((e) => new URL(e.url).origin === RECORDED_OAUTH_ORIGIN);
}

/** A request as the replay received it. */
export interface SeenRequest {
  method: string;
  path: string;
  query: string;
  headers: IncomingMessage['headers'];
  /** The form body's fields, in the order sent. */
  form: Record<string, string>;
  /** client_id and client_secret from an `Authorization: Basic` header, when the client used one. */
  basic?: { clientId: string; clientSecret: string };
  /** options.now() (Date.now()) on arrival. */
  at: number;
  /** The recorded exchange that answered it, if any. */
  replayed?: RecordedExchange;
}

export interface Replay {
  /** Base URL for both YANDEX_OAUTH_URL and YANDEX_LOGIN_URL. */
  url: string;
  requests: SeenRequest[];
  /** One sentence per difference from the recording; a test that replays faithfully ends with none. */
  mismatches: string[];
  /** Recorded exchanges nobody asked for yet. */
  remaining(): RecordedExchange[];
  close(): Promise<void>;
}

export interface ReplayOptions {
  /**
   * What GET /info?format=json answers for a token the replay has handed out. Not recorded (the recordings
   * never call login.yandex.ru): a fixed answer of the documented shape.
   */
  info?: Record<string, string>;
  /** The clock requests are timed by (`at`): a test clock shared with the CLI; Date.now by default. */
  now?: () => number;
}

/** Decodes `Authorization: Basic base64(client_id:client_secret)` (RFC 6749 §2.3.1: each part form-encoded). */
function basicCredentials(header: string | undefined): SeenRequest['basic'] {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const part = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  return { clientId: part(decoded.slice(0, colon)), clientSecret: part(decoded.slice(colon + 1)) };
}

const mediaType = (value: string | undefined) => (value ?? '').split(';')[0]!.trim().toLowerCase();

/**
 * Compares a request with the recorded one. Recorded fields must all be there with the recorded values;
 * fields the recording lacks are fine (we may send more than yadisk did: code_verifier, device_name,
 * redirect_uri). The recordings send client_id/client_secret in the body; Yandex also takes them in a Basic
 * header, so either counts.
 */
function compare(seen: SeenRequest, recorded: RecordedExchange): string[] {
  const where = `${seen.method} ${seen.path}`;
  const problems: string[] = [];
  const recordedType = mediaType(recorded.request.headers['content-type']);
  if (seen.method !== 'GET' && mediaType(seen.headers['content-type']) !== recordedType) {
    problems.push(`${where}: content-type ${seen.headers['content-type'] ?? '(none)'}, recorded ${recordedType}`);
  }
  // Secrets travel in the body, never in the URL (where logs and proxies keep them).
  if (seen.query) problems.push(`${where}: a query string (${seen.query.split('&').map((p) => p.split('=')[0]).join(', ')}); the recording has none`);
  for (const [name, value] of Object.entries(recorded.request.form)) {
    const fromBasic = name === 'client_id' ? seen.basic?.clientId : name === 'client_secret' ? seen.basic?.clientSecret : undefined;
    const inBody = Object.hasOwn(seen.form, name) ? seen.form[name] : undefined;
    if (inBody !== undefined && fromBasic !== undefined && inBody !== fromBasic) {
      problems.push(`${where}: ${name} differs between the body and the Basic header`);
    }
    const sent = inBody ?? fromBasic;
    if (sent === undefined) problems.push(`${where}: ${name} is missing (recorded: ${name}=${value})`);
    else if (sent !== value) problems.push(`${where}: ${name}=${sent}, recorded ${name}=${value}`);
  }
  return problems;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('request body over 64 KiB');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

/** Starts the replay of these exchanges (in their recorded order per method and path) on 127.0.0.1. */
export async function startReplay(t: TestContext, exchanges: RecordedExchange[], options: ReplayOptions = {}): Promise<Replay> {
  const queue = [...exchanges];
  const requests: SeenRequest[] = [];
  const mismatches: string[] = [];
  // Tokens the replayed answers handed out: /info accepts these, as Yandex accepts a token it issued.
  const issued = new Set<string>();

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://replay.invalid');
      const body = await readBody(req);
      const form = mediaType(req.headers['content-type']) === 'application/x-www-form-urlencoded' ? Object.fromEntries(new URLSearchParams(body)) : {};
      const seen: SeenRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.search.slice(1),
        headers: req.headers,
        form,
        basic: basicCredentials(req.headers.authorization),
        at: (options.now ?? Date.now)(),
      };
      requests.push(seen);

      if (seen.method === 'GET' && seen.path === '/info') {
        const token = /^OAuth (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
        if (seen.query !== 'format=json') mismatches.push(`GET /info: query ${seen.query || '(none)'}, expected format=json`);
        if (!token) mismatches.push('GET /info: no `Authorization: OAuth <token>` header');
        if (token && issued.has(token) && options.info) return send(res, 200, 'application/json', JSON.stringify(options.info));
        // What Yandex answers a token it does not know.
        return send(res, 401, 'text/plain', 'Unauthorized');
      }

      const index = queue.findIndex((e) => e.method === seen.method && new URL(e.url).pathname === seen.path);
      if (index < 0) {
        mismatches.push(`${seen.method} ${seen.path}: not in the recording (or every recorded one was already replayed)`);
        return send(res, 404, 'text/plain', 'nothing recorded for this request');
      }
      const [recorded] = queue.splice(index, 1) as [RecordedExchange];
      seen.replayed = recorded;
      mismatches.push(...compare(seen, recorded));
      try {
        const answer = JSON.parse(recorded.response.body) as Record<string, unknown>;
        if (typeof answer.access_token === 'string') issued.add(answer.access_token);
      } catch {
        // Not JSON: nothing handed out.
      }
      // The recorded body byte for byte (Yandex's own spacing and field order), with its status and type.
      send(res, recorded.response.status, recorded.response.headers['content-type'] ?? 'application/json', recorded.response.body);
    })().catch((error: unknown) => {
      mismatches.push(`${req.method} ${req.url}: the replay failed: ${String(error)}`);
      if (!res.headersSent) send(res, 500, 'text/plain', 'replay failed');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  t.after(close);
  return { url: `http://127.0.0.1:${port}`, requests, mismatches, remaining: () => [...queue], close };
}
