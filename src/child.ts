// Other programs: starting one (exec) directly, without a shell, on our stdin, stdout and stderr; loaded
// only by the command that runs a program (the browser launcher, browser.ts, starts BROWSER its own way).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/** The signals exec passes on to the program it runs: the ones the full CLI otherwise stops on. */
export type ForwardedSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/** How a program ended: its exit code, the signal that killed it (with its number), or why it never started. */
export type ProgramEnd =
  | { code: number }
  | { signal: string; signalNumber: number }
  | { error: 'not-found' | 'cannot-run' | 'other'; detail: string };

export interface RunningProgram {
  /** Sends it a signal; a program that has already ended is left alone. */
  kill(signal: ForwardedSignal): void;
  ended: Promise<ProgramEnd>;
}

/** Starts `command` with `args` and exactly `env` as its environment. */
export type StartProgram = (command: string, args: string[], env: Record<string, string | undefined>) => RunningProgram;

export const startProgram: StartProgram = (command, args, env) => {
  // No shell: the arguments reach the program as given, and nothing is read as shell syntax.
  const child = spawn(command, args, { env, stdio: 'inherit', shell: false });
  const ended = new Promise<ProgramEnd>((resolve) => {
    // 'error' comes instead of 'exit' when the program could not be started (spawn's errno).
    child.once('error', (error: NodeJS.ErrnoException) => {
      const code = error.code ?? '';
      resolve({ error: code === 'ENOENT' ? 'not-found' : code === 'EACCES' || code === 'ENOEXEC' || code === 'EISDIR' ? 'cannot-run' : 'other', detail: code || error.message });
    });
    child.once('exit', (code, signal) => {
      if (signal) resolve({ signal, signalNumber: constants.signals[signal] ?? 0 });
      else resolve({ code: code ?? 1 });
    });
  });
  return {
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) child.kill(signal);
    },
    ended,
  };
};
