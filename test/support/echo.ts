// A small HTTP server on loopback standing in for Yandex's APIs (Disk, Direct, Tracker, …): it records each
// request's method, path, headers and body, and answers what the test says (by default 200 and a JSON echo).
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { TestContext } from 'node:test';

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface Echo {
  /** http://127.0.0.1:<port> */
  url: string;
  /** 127.0.0.1:<port> */
  host: string;
  requests: Recorded[];
  /** What to answer the next requests, in order; once used up, the default (200, the request as JSON). */
  replies: Reply[];
}

export async function startEcho(t: TestContext): Promise<Echo> {
  const requests: Recorded[] = [];
  const replies: Reply[] = [];
  const server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: Recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(recorded);
      const reply = replies.shift() ?? { body: JSON.stringify({ method: recorded.method, path: recorded.path }) };
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, requests, replies };
}
