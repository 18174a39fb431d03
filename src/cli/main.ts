// A command line in, an exit code out: commander's parse (program.ts) inside the one catch-all (settle.ts).
// Tests run commands through this same function in-process, with a Context of their own
// (test/support/in-process.ts).
import type { Context } from '../context.js';
import type { Sink } from '../stdout.js';
import { runCommandLine } from './program.js';
import { settle } from './settle.js';

/** Runs one command line. Never throws: every failure becomes a message on stderr and an exit code. */
export function main(argv: string[], makeContext: () => Context, io: { stdout: Sink; stderr: Sink }): Promise<number> {
  return settle((getContext) => runCommandLine(argv, getContext, io), makeContext, io);
}
