// The CLI's stdout: the data it writes (a token, JSON, a completion script), straight to file descriptor 1.
//
// Not process.stdout: building that stream is the largest single cost of a `print` (on Node 20, for a pipe,
// a socket and the whole streams stack: about 3 ms, as much as everything else print does). A synchronous
// write(2) needs none of it, and leaves nothing pending when the process exits.

import { writeSync } from 'node:fs';

export interface Stdout {
  write(text: string): void;
  /** Calls `done` once everything written has left the process. */
  end(done: () => void): void;
}

/**
 * `stream` is asked for only if the descriptor cannot take a write right now (a non-blocking pipe that is
 * full): from then on every write goes through it, in order. A reader that has gone away (EPIPE) ends the
 * output quietly, as it did when process.stdout wrote it.
 */
export function createStdout(fd: number, stream: () => NodeJS.WritableStream): Stdout {
  let fallback: NodeJS.WritableStream | undefined;
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
    end(done) {
      if (fallback && !closed) fallback.write('', () => done());
      else done();
    },
  };
}
