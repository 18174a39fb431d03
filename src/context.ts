// Everything a command may touch from the outside world, in one object that tests build themselves.
import { isatty } from 'node:tty';
import { createAsk, type Ask } from './ask.js';
import { createBrowserOpener, type OpenBrowser } from './browser.js';
import type { YandexApi } from './oauth.js';
import { colourWanted, createOutput, type Output, type TextSink } from './output.js';
import { readSettings, type Env, type Settings } from './settings.js';
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

export function createContext(proc: ProcessLike, signal: AbortSignal): Context {
  const settings = readSettings(proc.env);
  // isatty() rather than process.stdin/stderr: creating those streams costs print several milliseconds.
  const interactive = isatty(0) && isatty(2);
  return {
    settings,
    store: new Store(settings.configDir),
    api: {
      oauthUrl: settings.oauthUrl,
      loginUrl: settings.loginUrl,
      fetch: globalThis.fetch,
      timeoutMs: settings.httpTimeoutMs,
      signal,
    },
    openBrowser: createBrowserOpener(settings.browser),
    ask: createAsk({ io: proc, interactive, signal }),
    now: () => new Date(),
    stdout: proc.stdout,
    err: createOutput({ write: (text) => proc.stderr.write(text) }, colourWanted(isatty(2), proc.env)),
    interactive,
    signal,
  };
}
