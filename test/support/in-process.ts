// Commands run in this process, through the same cli/main.ts the binary runs, with a Context built on a
// stand-in process: the environment given, stdout and stderr captured, no terminal, and the clock, fetch,
// browser and prompts a test may replace. No build and no new process: a change of logic is tested at once.
// A separate process only for what only a process shows (test/support/harness.ts: runCli).
import { appendFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import type { OpenBrowser } from '../../src/browser.ts';
import { main } from '../../src/cli/main.ts';
import { createContext, type Outside, type ProcessLike } from '../../src/context.ts';
import { browseConsent } from '../../src/emulator/index.ts';
import type { Clock } from '../../src/time.ts';

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface InProcessOptions extends Outside {
  /** What the command reads on stdin (a pasted code, a token); empty and closed by default. */
  input?: string;
  /** Aborted as Ctrl-C would (its reason is the error to report). */
  signal?: AbortSignal;
  /** Told all of stderr so far at every write: a test acts on what the command says while it runs. */
  onStderr?: (stderr: string) => void;
  /** Told all of stdout so far at every write of data (api's answer as it streams). */
  onStdout?: (stdout: string) => void;
  /**
   * A terminal as script(1) gives one: stdin, stdout and stderr are the one terminal (isTTY, 0 columns, as a
   * pseudo-terminal without a size reports), whose output is the result's stdout, each newline as `\r\n`.
   */
  terminal?: boolean;
}

/**
 * The scripted browser of harness.ts's browserEnv() played in this process, as the script plays it (the
 * emulator's browseConsent, what the callback page said appended to SCRIPTED_BROWSER_LOG), without a node
 * process per login. Undefined for any other environment: BROWSER is then launched as the binary would.
 */
function scriptedBrowser(env: Record<string, string>): OpenBrowser | undefined {
  const decision = env.SCRIPTED_BROWSER_DECISION;
  if (decision !== 'allow' && decision !== 'deny') return undefined;
  return async (url) => {
    // Not awaited, as a browser started by the command is not: the login waits on its listener.
    void browseConsent(url, decision)
      .catch((error: unknown) => ({ stage: 'error', error: String(error) }))
      .then((result) => {
        try {
          if (env.SCRIPTED_BROWSER_LOG) appendFileSync(env.SCRIPTED_BROWSER_LOG, `${JSON.stringify(result)}\n`);
        } catch {
          // The test has ended and its folder is gone, as for a browser process that outlives it.
        }
      });
    return true;
  };
}

/** Runs one command line in-process; never throws (as the binary, every failure is an exit code). */
export async function runCommand(argv: string[], env: Record<string, string>, options: InProcessOptions = {}): Promise<InProcessResult> {
  let stdout = '';
  let stderr = '';
  const stdin = new PassThrough();
  stdin.end(options.input ?? '');
  const terminal = options.terminal === true;
  const columns = terminal ? 0 : undefined;
  const sink = (append: (text: string) => void) => ({ write: (text: string) => (append(text), true), isTTY: terminal, columns });
  const proc: ProcessLike = {
    env,
    stdin: Object.assign(stdin, { isTTY: terminal }) as unknown as NodeJS.ReadStream,
    stdout: sink((text) => (stdout += text)) as unknown as NodeJS.WriteStream,
    stderr: sink((text) => {
      if (terminal) stdout += text;
      else stderr += text;
      options.onStderr?.(terminal ? stdout : stderr);
    }) as unknown as NodeJS.WriteStream,
  };
  // An API's answer comes as bytes, in chunks that may split a character: decoded as a stream.
  const decoder = new TextDecoder();
  const out = {
    write: (data: string | Uint8Array) => {
      stdout += typeof data === 'string' ? data : decoder.decode(data, { stream: true });
      options.onStdout?.(stdout);
    },
    columns: () => columns,
  };
  const err = {
    write: (text: string) => proc.stderr.write(text),
    columns: () => columns,
  };
  const signal = options.signal ?? new AbortController().signal;
  // No process signals in-process: a test aborts `signal` itself.
  const outside = { ...options, openBrowser: options.openBrowser ?? scriptedBrowser(env) };
  const code = await main(argv, () => createContext(proc, signal, out, () => () => undefined, outside), { stdout: out, stderr: err });
  return { code, stdout: terminal ? stdout.replace(/\n/g, '\r\n') : stdout, stderr };
}

/**
 * A clock that moves only when a command sleeps (or the test says): waits of minutes take no time, and
 * whatever shares it (the emulator's `now` option) sees the same time. `manual`: a sleep ends only when the
 * test advances the clock past it, for a test that acts at a moment of its choosing.
 */
export function testClock(options: { start?: number; manual?: boolean } = {}): Clock & { advance(ms: number): void } {
  let now = options.start ?? Date.now();
  const waiting: { at: number; wake: () => void }[] = [];
  return {
    now: () => now,
    advance(ms) {
      now += ms;
      for (const sleeper of waiting.filter((w) => w.at <= now)) {
        waiting.splice(waiting.indexOf(sleeper), 1);
        sleeper.wake();
      }
    },
    async sleep(ms, signal) {
      signal?.throwIfAborted();
      if (!options.manual) {
        now += Math.max(0, ms);
        // A turn of the event loop, so that servers in this process (the emulator) get to answer meanwhile.
        return new Promise((resolve) => setImmediate(resolve));
      }
      return new Promise<void>((resolve, reject) => {
        const sleeper = { at: now + ms, wake: resolve };
        waiting.push(sleeper);
        signal?.addEventListener('abort', () => {
          if (waiting.includes(sleeper)) waiting.splice(waiting.indexOf(sleeper), 1);
          reject(signal.reason);
        });
      });
    },
  };
}

/**
 * fetch that hands the person's side to `onPoll` before each device-code poll goes out (the code shown,
 * and the number of this poll): a test allows, denies or expires the code at the poll of its choosing,
 * on a test clock, where nothing waits for the test.
 */
export function devicePerson(onPoll: (userCode: string, poll: number) => unknown): typeof fetch {
  let userCode = '';
  let polls = 0;
  return async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const body = init?.body instanceof URLSearchParams ? init.body : undefined;
    if (url.endsWith('/token') && body?.get('grant_type') === 'device_code') await onPoll(userCode, ++polls);
    const response = await fetch(input, init);
    if (url.endsWith('/device/code')) userCode = ((await response.clone().json()) as { user_code: string }).user_code;
    return response;
  };
}
