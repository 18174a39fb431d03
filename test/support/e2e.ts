// Plumbing for the slow end-to-end tests: a real Chromium as BROWSER, a real terminal under tmux, waiting
// on files, and skipping (or, in CI, failing) when the outside program is missing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { BIN, ROOT, type Home } from './harness.ts';

/** Where tests keep things worth looking at after a run (screenshots); gitignored. */
export const ARTIFACTS = join(ROOT, 'test-artifacts');
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_DRIVER = join(ROOT, 'test', 'support', 'chromium-browser.mjs');

/**
 * Skips the test when an outside program it drives is missing, saying how to get it. With
 * YANDEX_TOKEN_E2E_REQUIRED=1 (as .ci/run sets) a missing program fails the test instead, so CI never
 * skips silently.
 */
export function requireProgram(t: TestContext, path: string, install: string): boolean {
  if (existsSync(path)) return true;
  const message = `${path} is missing: ${install}, or run .ci/run`;
  if (process.env.YANDEX_TOKEN_E2E_REQUIRED === '1') throw new Error(message);
  t.skip(message);
  return false;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves with a file's content once it exists (its producer writes it atomically). */
export async function waitForFile(path: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (existsSync(path)) return readFileSync(path, 'utf8');
    if (Date.now() > deadline) throw new Error(`${path} did not appear within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

/** The environment for a login whose BROWSER is the Chromium driver; its result lands in the home. */
export function chromiumEnv(home: Home, decision: 'allow' | 'deny', screenshot: string) {
  const result = join(home.dir, 'chromium-result.json');
  const pidFile = join(home.dir, 'chromium-driver.pid');
  return {
    result,
    pidFile,
    env: {
      ...home.env,
      BROWSER: `${JSON.stringify(process.execPath)} ${JSON.stringify(CHROMIUM_DRIVER)}`,
      CHROMIUM_BROWSER_DECISION: decision,
      CHROMIUM_BROWSER_RESULT: result,
      CHROMIUM_BROWSER_SCREENSHOT: screenshot,
      CHROMIUM_BROWSER_PIDFILE: pidFile,
    },
  };
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * One tmux server on a private socket (-L, under a temp TMUX_TMPDIR), running one command in a real
 * pseudo-terminal. The pane stays after the command exits so its last screen can still be read.
 */
export class Terminal {
  private readonly socket = `yandex-token-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly tmuxEnv: Record<string, string>;
  private readonly config: string;
  readonly exitFile: string;
  readonly stdoutFile: string;
  readonly ttyFile: string;

  private constructor(readonly dir: string) {
    this.tmuxEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', TMUX_TMPDIR: dir, LANG: 'C.UTF-8', TERM: 'xterm-256color' };
    this.config = join(dir, 'tmux.conf');
    this.exitFile = join(dir, 'exit-code');
    this.stdoutFile = join(dir, 'stdout');
    this.ttyFile = join(dir, 'stty');
    writeFileSync(this.config, 'set -g remain-on-exit on\nset -g history-limit 5000\nset -g status off\n');
  }

  /**
   * Starts `yandex-token <args>` with exactly `env` in a terminal of `columns`×24 (80 unless given). Its
   * stdout goes to a file (stdout is data only; everything the person sees must be on stderr, the
   * terminal), unless `stdoutOnTerminal` keeps it there too, as a person's shell does.
   */
  static start(t: TestContext, args: string[], env: Record<string, string>, options: { columns?: number; stdoutOnTerminal?: boolean } = {}): Terminal {
    // Not tempDir(): the server must be killed before its socket's folder goes.
    const dir = mkdtempSync(join(tmpdir(), 'yandex-token-tmux-'));
    const terminal = new Terminal(dir);
    t.after(() => {
      terminal.kill();
      rmSync(dir, { recursive: true, force: true });
    });
    const assignments = Object.entries(env).map(([key, value]) => `${key}=${shellQuote(value)}`);
    const command = [process.execPath, BIN, ...args].map(shellQuote).join(' ');
    const script = join(dir, 'run.sh');
    const exitFile = shellQuote(terminal.exitFile);
    writeFileSync(
      script,
      [
        // Ctrl-C in cooked mode signals the whole foreground group: like an interactive shell, this one
        // survives it to record the exit code. TERM is passed on as tmux set it for the pane.
        'trap : INT',
        `env -i TERM="$TERM" ${assignments.join(' ')} ${command}${options.stdoutOnTerminal ? '' : ` >${shellQuote(terminal.stdoutFile)}`}`,
        'code=$?',
        // The terminal's modes once the command is gone, from inside it (the pane closes its tty after).
        `stty -a >${shellQuote(terminal.ttyFile)} 2>&1`,
        `echo $code >${exitFile}.tmp && mv ${exitFile}.tmp ${exitFile}`,
        '',
      ].join('\n'),
    );
    terminal.tmux('new-session', '-d', '-s', 'main', '-x', String(options.columns ?? 80), '-y', '24', `/bin/sh ${shellQuote(script)}`);
    return terminal;
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', this.config, ...args], { env: this.tmuxEnv, encoding: 'utf8' });
  }

  /** Everything the terminal has shown, scrollback included, wrapped lines joined. */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-S', '-', '-E', '-', '-t', 'main');
  }

  /** Waits until the screen matches, and returns it. */
  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (pattern.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`the terminal never showed ${pattern}; it shows:\n${screen}`);
      await sleep(50);
    }
  }

  /** Types text literally, as a person would. */
  type(text: string): void {
    this.tmux('send-keys', '-t', 'main', '-l', text);
  }

  /** Presses keys by tmux name: Enter, C-c, … */
  press(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'main', ...keys);
  }

  /** The command's exit code, once it has exited. */
  async exitCode(timeoutMs = 15_000): Promise<number> {
    return Number((await waitForFile(this.exitFile, timeoutMs)).trim());
  }

  /** The terminal's line discipline flags (stty -a) once the command had exited. */
  ttyFlags(): string[] {
    return readFileSync(this.ttyFile, 'utf8').split(/[\s;]+/);
  }

  stdout(): string {
    return readFileSync(this.stdoutFile, 'utf8');
  }

  kill(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // Already gone.
    }
  }
}
