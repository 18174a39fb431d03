// The CLI's stdout: the data it writes (a token, JSON, a completion script), straight to file descriptor 1.
//
// Not process.stdout: building that stream is the largest single cost of a `print` (on Node 20, for a pipe,
// a socket and the whole streams stack: about 3 ms, as much as everything else print does). A synchronous
// write(2) needs none of it, and leaves nothing pending when the process exits.

import { fstatSync, statSync, writeSync } from 'node:fs';

/** What may stand behind a descriptor: process.stdout or process.stderr, built only when asked for. */
type Stream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number; writableNeedDrain?: boolean };

/** Writes text to people or programs; `columns` is the terminal's width, when it is a terminal. */
export interface Sink {
  write(text: string | Uint8Array): void;
  columns(): number | undefined;
}

export interface Stdout extends Sink {
  /** Calls `done` once everything written has left the process. */
  end(done: () => void): void;
  /**
   * For a long stream of writes (api's answer): resolves true once the writes so far have room to go on
   * (a full pipe has drained), false once the reader has gone (EPIPE), so the writer can stop.
   */
  ready(): Promise<boolean>;
}

/**
 * `stream` is asked for only if the descriptor cannot take a write right now (a non-blocking pipe that is
 * full): from then on every write goes through it, in order. A reader that has gone away (EPIPE) ends the
 * output quietly, as it did when process.stdout wrote it.
 */
export function createStdout(fd: number, stream: () => Stream): Stdout {
  let fallback: Stream | undefined;
  let closed = false;
  return {
    write(text) {
      if (closed) return;
      if (fallback) return void fallback.write(text);
      let rest = Buffer.from(text);
      while (rest.length > 0) {
        try {
          rest = rest.subarray(writeSync(fd, rest));
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'EPIPE') {
            closed = true;
            return;
          }
          if (code !== 'EAGAIN') throw error;
          fallback = stream();
          fallback.on('error', () => (closed = true));
          fallback.write(rest);
          return;
        }
      }
    },
    columns: () => columnsOf(fd, stream),
    ready() {
      const waiting = fallback;
      if (closed || !waiting?.writableNeedDrain) return Promise.resolve(!closed);
      return new Promise((resolve) => {
        const settle = () => {
          waiting.off('drain', settle).off('close', settle).off('error', settle);
          resolve(!closed);
        };
        waiting.on('drain', settle).on('close', settle).on('error', settle);
      });
    },
    end(done) {
      if (fallback && !closed) fallback.write('', () => done());
      else done();
    },
  };
}

/**
 * The width of the terminal on `fd`, or undefined when it is not a terminal. fstat tells a file, a pipe
 * or /dev/null apart without building the stream (or loading node:tty, which costs as much): only
 * another character device, in practice a terminal, is asked.
 */
export function columnsOf(fd: number, stream: () => Stream): number | undefined {
  try {
    const stat = fstatSync(fd);
    if (!stat.isCharacterDevice() || stat.rdev === statSync('/dev/null', { throwIfNoEntry: false })?.rdev) return undefined;
  } catch {
    return undefined;
  }
  const terminal = stream();
  return terminal.isTTY ? terminal.columns : undefined;
}
