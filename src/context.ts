// Everything a command may touch from the outside world, in one object that tests build themselves.
import { createAsk, readStdinBytes, type Ask } from './ask.js';
import { createBrowserOpener, type OpenBrowser } from './browser.js';
import type { ForwardedSignal, RunningProgram } from './child.js';
import type { YandexApi } from './yandex/oauth.js';
import { colourWanted, createOutput, type DataSink, type Output } from './output.js';
import { UserError } from './errors.js';
import { readSettings, type Env, type ProxySettings, type Settings } from './settings.js';
import type { Sink } from './stdout.js';
import { Store } from './store/store.js';
import { systemClock, type Clock } from './time.js';
import { currentEndpoints } from './token/server.js';

export interface Context {
  settings: Settings;
  store: Store;
  api: YandexApi;
  openBrowser: OpenBrowser;
  ask: Ask;
  now: () => Date;
  /** What waits and deadlines read and sleep by (ctx.now reads it too). */
  clock: Clock;
  /** Data only: the token, JSON, an API's answer. */
  stdout: DataSink;
  /** Everything said to the person. */
  err: Output;
  /** Whether a person is at a terminal (prompts, spinners). */
  interactive: boolean;
  /**
   * Whether the token commands say, once a day per profile, that a token expires soon and will not be
   * renewed (noting in the file that it was said): the CLI does; the Node API when given onWarning, so that
   * a program that hears no warnings does not take the day's from print.
   */
  expiryWarnings: boolean;
  /** Aborted on Ctrl-C or SIGTERM, with the error to report as its reason. */
  signal: AbortSignal;
  /**
   * Gives SIGINT, SIGTERM and SIGHUP to `handler` instead of aborting `signal`, until the returned function
   * is called. exec takes them while its program runs: they are passed on to it, and exec waits for it to
   * end and exits as it did, where aborting would end exec and leave the program running on its own.
   */
  takeSignals(handler: (signal: ForwardedSignal) => void): () => void;
  /** Starts another program directly (no shell) on our stdin, stdout and stderr: our environment plus `env`. */
  startProgram(command: string, args: string[], env: Record<string, string>): Promise<RunningProgram>;
  /** All of stdin, as bytes (`api -d @-`). */
  readStdin(): Promise<Uint8Array>;
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

/** node:child_process is loaded by the one command that runs a program. */
function programStarter(base: Env): Context['startProgram'] {
  return async (command, args, env) => (await import('./child.js')).startProgram(command, args, { ...base, ...env });
}

/** What a test may give the CLI's Context instead of the real thing (test/support/in-process.ts). */
export interface Outside {
  clock?: Clock;
  fetch?: typeof fetch;
  openBrowser?: OpenBrowser;
  ask?: Ask;
  /**
   * Where messages go instead of proc.stderr: the process entry's writer straight to descriptor 2
   * (entry/process.ts), which spares a run that says something the cost of building process.stderr.
   */
  stderr?: Sink;
}

/**
 * The CLI's Context on the real process. Nothing here touches process.stdin, process.stderr or the terminal
 * until a command needs them; `signal` is aborted by Ctrl-C, SIGTERM or SIGHUP unless a command has taken
 * them with `takeSignals` (both entry/process.ts, for the full CLI and the direct bundle alike).
 */
export function createContext(
  proc: ProcessLike,
  signal: AbortSignal,
  stdout: DataSink,
  takeSignals: Context['takeSignals'],
  outside: Outside = {},
): Context {
  const clock = outside.clock ?? systemClock;
  const settings = readSettings(proc.env);
  let interactive: boolean | undefined;
  const isInteractive = () => (interactive ??= Boolean(proc.stdin.isTTY && proc.stderr.isTTY));
  const stderr = outside.stderr;
  const err = stderr
    ? createOutput(stderr, () => colourWanted(stderr.columns() !== undefined, proc.env))
    : createOutput({ write: (text) => proc.stderr.write(text) }, () => colourWanted(Boolean(proc.stderr.isTTY), proc.env));
  return {
    settings,
    store: new Store(settings.configDir, (text) => err.warn(text), () => signal),
    api: {
      ...currentEndpoints(settings),
      fetch: outside.fetch ?? (settings.proxy ? proxiedFetch(settings.proxy) : undefined),
      proxy: settings.proxy,
      timeoutMs: settings.httpTimeoutMs,
      signal,
      clock,
    },
    openBrowser: outside.openBrowser ?? createBrowserOpener(settings.browser, proc.env),
    ask:
      outside.ask ??
      createAsk({
        io: proc,
        get interactive() {
          return isInteractive();
        },
        signal,
      }),
    now: () => new Date(clock.now()),
    clock,
    stdout,
    err,
    get interactive() {
      return isInteractive();
    },
    expiryWarnings: true,
    signal,
    takeSignals,
    startProgram: programStarter(proc.env),
    readStdin: () => readStdinBytes(proc.stdin, signal),
  };
}

/** How a program using the Node API (src/api.ts) wants the outside world handled. */
export interface ApiContextOptions {
  /** The environment to read settings from (YANDEX_TOKEN, YANDEX_OAUTH_URL, HOME, …); default process.env. */
  env?: Env;
  /** The folder holding config.json, instead of the one the environment gives. */
  configDir?: string;
  /** Aborting it stops a wait, a refresh or a login (CancelledError); nothing half-done is stored. */
  signal?: AbortSignal;
  /** Used for every request to Yandex, instead of node:http(s). */
  fetch?: typeof fetch;
  /** What the CLI would print as "Warning: …" on stderr. */
  onWarning?: (message: string) => void;
  /** What the CLI would tell the person on stderr (a login's progress), one line at a time. */
  onMessage?: (line: string) => void;
  /**
   * How the person is sent to Yandex during a login: true opens the system's browser (honouring
   * BROWSER), false opens nothing, and a function is called with the URL instead (not awaited; a
   * rejection becomes a warning).
   */
  openBrowser?: boolean | ((url: string) => unknown);
}

/**
 * The Context behind the Node API: the same settings, store and protocol as the CLI, but nothing is ever
 * written to stdout or stderr (messages and warnings go to the caller's callbacks, or nowhere) and nothing
 * is asked: a missing value is an error.
 */
export function createApiContext(options: ApiContextOptions = {}): Context {
  const settings = readSettings(options.env ?? process.env);
  if (options.configDir !== undefined) settings.configDir = options.configDir;
  // Used as it is: an abort reason that is no UserError is turned into CancelledError where the API
  // returns (src/api.ts), so no listener is ever added to a signal the caller may keep for long.
  const signal = options.signal ?? new AbortController().signal;
  const opener = options.openBrowser;
  const openBrowser =
    opener === false
      ? async () => false
      : typeof opener === 'function'
        ? async (url: string) => {
            // Not awaited: a promise that settles when the person is done (as a browser driver's may)
            // would otherwise hold up the very login it waits for.
            const opened: unknown = opener(url);
            if (opened instanceof Promise) {
              opened.catch((error: unknown) => options.onWarning?.(`Opening the URL failed: ${error instanceof Error ? error.message : String(error)}`));
            }
            return true;
          }
        : createBrowserOpener(settings.browser, options.env ?? process.env);
  const plain = (text: string) => text;
  return {
    settings,
    store: new Store(settings.configDir, undefined, () => signal),
    api: {
      ...currentEndpoints(settings),
      fetch: options.fetch,
      timeoutMs: settings.httpTimeoutMs,
      signal,
    },
    openBrowser,
    ask: async (question) => {
      throw new UserError(`${question.message.replace(/:?\s*$/, '')} is needed, and the Node API never asks: pass it as an option.`);
    },
    now: () => new Date(),
    clock: systemClock,
    stdout: { write: () => true },
    err: {
      line: (text = '') => options.onMessage?.(text),
      warn: (text) => options.onWarning?.(text),
      bold: plain,
      dim: plain,
      status: () => undefined,
    },
    interactive: false,
    expiryWarnings: options.onWarning !== undefined,
    signal,
    // The program using the API owns its process's signals; none is taken from it.
    takeSignals: () => () => undefined,
    startProgram: programStarter(options.env ?? process.env),
    readStdin: async () => {
      throw new UserError('The Node API never reads stdin: pass the data itself.');
    },
  };
}
