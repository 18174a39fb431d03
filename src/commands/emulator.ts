// `yandex-token emulator`: serves the Yandex OAuth emulator on loopback until Ctrl-C or SIGTERM.
import type { Context } from '../context.js';
import {
  DEMO_ACCOUNT,
  DEMO_CLIENT,
  ENDPOINTS,
  FAILURE_MODES,
  startEmulator,
  type Endpoint,
  type EmulatorClient,
  type FailureMode,
} from '../emulator/index.js';
import { UserError, systemErrorCode } from '../errors.js';

export interface EmulatorCommandOptions {
  port: number;
  json?: boolean;
  /** Accept only these redirect URIs (plus verification_code), as a real app registration does. */
  strictRedirect?: string[];
  tokenLifetimeSeconds?: number;
  login?: string;
  /** ENDPOINT=MODE, e.g. token=server-error. */
  fail?: string[];
  slowMs?: number;
}

/** "token=server-error" or "/token=server-error" → ['/token', 'server-error'], or a UserError naming the choices. */
export function parseFailure(spec: string): [Endpoint, FailureMode] {
  const at = spec.lastIndexOf('=');
  const endpoint = `/${spec.slice(0, Math.max(at, 0)).replace(/^\/+/, '')}` as Endpoint;
  const mode = spec.slice(at + 1) as FailureMode;
  if (at < 0 || !ENDPOINTS.includes(endpoint) || !FAILURE_MODES.includes(mode)) {
    throw new UserError(
      `--fail "${spec}" is not ENDPOINT=MODE. Endpoints: ${ENDPOINTS.map((e) => e.slice(1)).join(', ')}; modes: ${FAILURE_MODES.join(', ')}.`,
    );
  }
  return [endpoint, mode];
}

function checkRedirectUri(uri: string): string {
  try {
    const url = new URL(uri);
    if (url.protocol === 'http:' || url.protocol === 'https:') return uri;
  } catch {
    // fall through to the error below
  }
  throw new UserError(`--strict-redirect "${uri}" is not an http(s) URL. Pass the Redirect URI exactly as you would register it, e.g. http://127.0.0.1:8765/callback.`);
}

export async function emulator(options: EmulatorCommandOptions, ctx: Context): Promise<void> {
  const failures = (options.fail ?? []).map(parseFailure);
  const redirectUris = options.strictRedirect?.length ? options.strictRedirect.map(checkRedirectUri) : undefined;
  const client: EmulatorClient = { ...DEMO_CLIENT, redirectUris };
  const account = { ...DEMO_ACCOUNT, login: options.login ?? DEMO_ACCOUNT.login };
  const lifetime = options.tokenLifetimeSeconds ?? 31_536_000;
  const { err } = ctx;

  let running;
  try {
    running = await startEmulator({
      host: '127.0.0.1',
      port: options.port,
      clients: [client],
      account,
      tokenLifetimeSeconds: lifetime,
      strictRedirect: Boolean(redirectUris),
      slowMs: options.slowMs,
      onRequest: ({ method, path, status }) => err.line(err.dim(`  ${method} ${path} → ${status ?? 'no answer'}`)),
    });
  } catch (error) {
    const code = systemErrorCode(error);
    if (code === 'EADDRINUSE') {
      throw new UserError(`Port ${options.port} is in use, so the emulator cannot listen there. Pass --port with another port (--port 0 picks a free one).`);
    }
    throw new UserError(`The emulator cannot listen on 127.0.0.1:${options.port} (${code ?? String(error)}). Pass --port with another port.`);
  }
  for (const [endpoint, mode] of failures) running.fail(endpoint, mode);

  const { url } = running;
  // One base URL for all three: it also plays Yandex Cloud's IAM token exchange (print --iam).
  const env = { YANDEX_OAUTH_URL: url, YANDEX_LOGIN_URL: url, YANDEX_IAM_URL: url };
  if (options.json) {
    ctx.stdout.write(
      `${JSON.stringify({ url, env, client: { id: client.id, secret: client.secret, name: client.name, redirectUris: redirectUris ?? null }, account: { login: account.login, id: account.id } })}\n`,
    );
  }

  err.line(`${err.bold('Yandex OAuth emulator')} on ${url}`);
  err.line('Not Yandex: a local stand-in for trying yandex-token and testing scripts offline. Its tokens work');
  err.line('only with it and are forgotten when it stops. Never point anything in production at it.');
  err.line();
  err.line('Environment for yandex-token (or your own program):');
  for (const [name, value] of Object.entries(env)) err.line(`  ${name}=${value}`);
  err.line('Demo app:');
  err.line(`  client id      ${client.id}`);
  err.line(`  client secret  ${client.secret}`);
  err.line(`  redirect URIs  ${redirectUris ? `${redirectUris.join(', ')} and ${url}/verification_code only` : 'any http URI on 127.0.0.1, localhost or [::1]'}`);
  const extras = [
    `account ${account.login}`,
    `token lifetime ${lifetime} s`,
    ...failures.map(([endpoint, mode]) => `${endpoint.slice(1)} fails with ${mode}`),
    ...(options.slowMs ? [`every answer delayed ${options.slowMs} ms`] : []),
  ];
  err.line(`  ${extras.join(' · ')}`);
  err.line();
  err.line('Try it (a separate profile keeps your real token apart):');
  err.line(
    `  YANDEX_OAUTH_URL=${url} YANDEX_LOGIN_URL=${url} yandex-token login --client-id ${client.id} --client-secret ${client.secret} --profile emulator${redirectUris ? ` --redirect-uri ${redirectUris[0]}` : ''}`,
  );
  err.line(`  YANDEX_IAM_URL=${url} yandex-token print --iam --profile emulator   # a Yandex Cloud IAM token for it`);
  err.line('Requests are logged below. Ctrl-C stops the emulator.');

  try {
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) return resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    await running.close();
  }
  err.line('Emulator stopped.');
}
