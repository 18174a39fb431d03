// Everything a command may touch from the outside world, in one object that tests build themselves.
import { createAsk, type Ask } from './ask.js';
import { createBrowserOpener, type OpenBrowser } from './browser.js';
import type { YandexApi } from './oauth.js';
import { colourWanted, createOutput, type Output, type TextSink } from './output.js';
import { readSettings, type Env, type ProxySettings, type Settings } from './settings.js';
import { Store } from './store.js';

export interface Context {
  settings: Settings;
  store: Store;
  api: YandexApi;
  openBrowser: OpenBrowser;
  ask: Ask;
  now: () => Date;
  /** Data only: the token, JSON. */
  stdout: TextSink;
  /** Everything said to the person. */
  err: Output;
  /** Whether a person is at a terminal (prompts, spinners). */
  interactive: boolean;
  /** Aborted on Ctrl-C or SIGTERM, with the error to report as its reason. */
  signal: AbortSignal;
}

export interface ProcessLike {
  env: Env;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** fetch through the proxies the environment names; undici is loaded on the first request, so never by a print that needs none. */
function proxiedFetch(proxy: ProxySettings): typeof fetch {
  let loaded: Promise<typeof fetch> | undefined;
  return async (input, init) => {
    loaded ??= import('./proxy.js').then(({ createProxyFetch }) => createProxyFetch(proxy));
    return (await loaded)(input, init);
  };
}

export function createContext(proc: ProcessLike, signal: AbortSignal): Context {
  const settings = readSettings(proc.env);
  const interactive = Boolean(proc.stdin.isTTY && proc.stderr.isTTY);
  const err = createOutput(proc.stderr, colourWanted(Boolean(proc.stderr.isTTY), proc.env));
  return {
    settings,
    store: new Store(settings.configDir, (text) => err.warn(text)),
    api: {
      oauthUrl: settings.oauthUrl,
      loginUrl: settings.loginUrl,
      fetch: settings.proxy ? proxiedFetch(settings.proxy) : globalThis.fetch,
      proxy: settings.proxy,
      timeoutMs: settings.httpTimeoutMs,
      signal,
    },
    openBrowser: createBrowserOpener(settings.browser),
    ask: createAsk({ stdin: proc.stdin, stderr: proc.stderr, interactive, signal }),
    now: () => new Date(),
    stdout: proc.stdout,
    err,
    interactive,
    signal,
  };
}
