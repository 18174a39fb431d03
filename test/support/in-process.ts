// Commands run in this process, through the same cli/main.ts the binary runs, with a Context built on a
// stand-in process: the environment given, stdout and stderr captured, no terminal, and the clock, fetch,
// browser and prompts a test may replace. No build and no new process: a change of logic is tested at once.
// A separate process only for what only a process shows (test/support/harness.ts: runCli).
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.ts';
import { createContext, type Outside, type ProcessLike } from '../../src/context.ts';
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
}

/** Runs one command line in-process; never throws (as the binary, every failure is an exit code). */
export async function runCommand(argv: string[], env: Record<string, string>, options: InProcessOptions = {}): Promise<InProcessResult> {
  let stdout = '';
  let stderr = '';
  const stdin = new PassThrough();
  stdin.end(options.input ?? '');
  const sink = (append: (text: string) => void) => ({ write: (text: string) => (append(text), true), isTTY: false, columns: undefined });
  const proc: ProcessLike = {
    env,
    stdin: stdin as unknown as NodeJS.ReadStream,
    stdout: sink((text) => (stdout += text)) as unknown as NodeJS.WriteStream,
    stderr: sink((text) => (stderr += text)) as unknown as NodeJS.WriteStream,
  };
  const out = { write: (text: string) => void (stdout += text), columns: () => undefined };
  const err = { write: (text: string) => void (stderr += text), columns: () => undefined };
  const signal = options.signal ?? new AbortController().signal;
  // No process signals in-process: a test aborts `signal` itself.
  const code = await main(argv, () => createContext(proc, signal, out, () => () => undefined, options), { stdout: out, stderr: err });
  return { code, stdout, stderr };
}

/**
 * A clock that moves only when a command sleeps (or the test says): waits of minutes take no time, and
 * whatever shares it (the emulator's `now` option) sees the same time.
 */
export function testClock(start = Date.now()): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    advance(ms) {
      now += ms;
    },
    async sleep(ms, signal) {
      signal?.throwIfAborted();
      now += Math.max(0, ms);
      // A turn of the event loop, so that servers in this process (the emulator) get to answer meanwhile.
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}
