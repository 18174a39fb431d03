// Shared test plumbing: temp folders, the emulator as fake Yandex, free loopback ports, running the
// built CLI as a user would, and in-process contexts. Tests touch only loopback and temp folders.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { startEmulator, DEMO_CLIENT, type Emulator, type EmulatorOptions } from '../../src/emulator/index.ts';
import type { TokenRecord } from '../../src/token/record.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'yandex-token.cjs');
export const SCRIPTED_BROWSER = join(ROOT, 'test', 'support', 'scripted-browser.mjs');
/** The built full CLI (dist/cli.cjs) run as bin/ runs print.cjs: what a command line gives without the fast entry. */
export const FULL_CLI = join(ROOT, 'test', 'support', 'full-cli.cjs');
export { DEMO_CLIENT };

export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'yandex-token-test-'));
  // Retried whole: a detached scripted browser may still be writing its log into the folder, and rmSync's
  // own retries only repeat the last rmdir, not the removal of what appeared meanwhile.
  t.after(async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return rmSync(dir, { recursive: true, force: true });
      } catch (error) {
        if (attempt === 40) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  });
  return dir;
}

export async function fakeYandex(t: TestContext, options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await startEmulator(options);
  t.after(() => emulator.close());
  return emulator;
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Home {
  dir: string;
  /** Where the config file lands for this home (XDG_CONFIG_HOME/yandex-token/config.json). */
  configFile: string;
  configDir: string;
  env: Record<string, string>;
}

/** A fresh HOME and XDG_CONFIG_HOME pointed at the emulator, with no inherited YANDEX_* variables. */
export function makeHome(t: TestContext, emulator?: Emulator, extra: Record<string, string> = {}): Home {
  const dir = tempDir(t);
  const configDir = join(dir, 'config', 'yandex-token');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'config'),
    LANG: 'C.UTF-8',
    BROWSER: 'none',
    ...(emulator ? { YANDEX_OAUTH_URL: emulator.url, YANDEX_LOGIN_URL: emulator.url } : {}),
    ...extra,
  };
  return { dir, configDir, configFile: join(configDir, 'config.json'), env };
}

/**
 * A record as login would store it, for a token the emulator really issued (`issue`: its lifetimes and
 * device), stored as expiring `expiresInMs` from now and obtained `ageMs` ago; `record` overrides fields.
 */
export function issuedRecord(
  yandex: Emulator,
  options: { expiresInMs: number; ageMs?: number; issue?: Parameters<Emulator['issueToken']>[0]; record?: Partial<TokenRecord> },
): TokenRecord {
  const issued = yandex.issueToken(options.issue ?? {});
  return {
    accessToken: issued.access_token,
    refreshToken: issued.refresh_token,
    expiresAt: new Date(Date.now() + options.expiresInMs).toISOString(),
    clientId: DEMO_CLIENT.id,
    clientSecret: DEMO_CLIENT.secret,
    obtainedAt: new Date(Date.now() - (options.ageMs ?? 0)).toISOString(),
    ...options.record,
  };
}

/** Writes config.json as the CLI would (owner-only folder and file) with these profiles. */
export function writeConfig(home: Home, profiles: Record<string, TokenRecord>): void {
  mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
  writeFileSync(home.configFile, `${JSON.stringify({ profiles, deviceIds: {} }, null, 2)}\n`, { mode: 0o600 });
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running {
  child: ChildProcess;
  /** Resolves when stderr has printed text matching the pattern. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<string>;
  done: Promise<RunResult>;
}

/** What a run is given besides its arguments: stdin, a time limit, the script (BIN unless said), and a
 * command that runs node (as another user: setpriv …). */
export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  entry?: string;
  wrapper?: string[];
}

/** Starts the built CLI with exactly the given environment. */
export function startCli(args: string[], env: Record<string, string>, options: RunOptions = {}): Running {
  const command = [...(options.wrapper ?? []), process.execPath, options.entry ?? BIN, ...args];
  const child = spawn(command[0]!, command.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: (s: string) => void }[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const w of [...waiters]) if (w.pattern.test(stderr)) w.resolve(stderr);
  });
  // A program that exits without reading its input closes the pipe first (EPIPE): what it did shows in its
  // output and exit code, not as an uncaught error of the test.
  child.stdin!.on('error', () => undefined);
  if (options.input !== undefined) child.stdin!.end(options.input);
  const killer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const done = new Promise<RunResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    done,
    waitForStderr(pattern, timeoutMs = 10_000) {
      if (pattern.test(stderr)) return Promise.resolve(stderr);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`stderr never matched ${pattern}; it was:\n${stderr}`)), timeoutMs);
        waiters.push({
          pattern,
          resolve: (s) => {
            clearTimeout(timer);
            resolve(s);
          },
        });
      });
    },
  };
}

export function runCli(args: string[], env: Record<string, string>, options: RunOptions = {}): Promise<RunResult> {
  return startCli(args, env, { input: options.input ?? '', ...options }).done;
}

/** The env for a login that the scripted browser completes (allow or deny). */
export function browserEnv(home: Home, decision: 'allow' | 'deny' = 'allow'): Record<string, string> {
  return {
    ...home.env,
    BROWSER: `${JSON.stringify(process.execPath)} ${JSON.stringify(SCRIPTED_BROWSER)}`,
    SCRIPTED_BROWSER_DECISION: decision,
    SCRIPTED_BROWSER_LOG: join(home.dir, 'browser.log'),
  };
}

/**
 * What the scripted browser was last shown. It runs detached and writes its log after the callback page
 * arrives, which may be after the CLI has exited: wait for the line (bounded).
 */
export async function browserPage(home: Home, timeoutMs = 10_000): Promise<{ stage: string; status: number; html: string }> {
  const file = join(home.dir, 'browser.log');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (text.endsWith('\n')) return JSON.parse(text.trim().split('\n').at(-1)!);
    if (Date.now() > deadline) throw new Error(`the scripted browser wrote no log to ${file}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function credentials(client = DEMO_CLIENT): string[] {
  return ['--client-id', client.id, '--client-secret', client.secret];
}

/**
 * A run that failed the way a person should see a failure: the exit code, empty stdout, and a last line on
 * stderr matching the pattern, with no stack trace, no unhandled rejection and no control characters.
 * Returns that last line.
 */
export function assertCleanFailure(result: Pick<RunResult, 'code' | 'stdout' | 'stderr'>, code: number, pattern: RegExp): string {
  assert.equal(result.code, code, `exit code; stderr:\n${result.stderr}`);
  assert.equal(result.stdout, '', 'stdout stays empty');
  const last = result.stderr.trim().split('\n').at(-1) ?? '';
  assert.match(last, pattern);
  assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
  assert.doesNotMatch(result.stderr, /Unexpected error|Unhandled|ERR_UNHANDLED_REJECTION|Warning: .*(unsettled|rejection)/);
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(result.stderr, /[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]/, 'no control characters reach the terminal');
  return last;
}
