// The error types every module throws, and the one table that maps them to exit codes.

export const ExitCode = {
  ok: 0,
  failure: 1,
  cancelled: 2,
  /** `login --device --poll`: the code has not been entered yet; poll again later. */
  pending: 3,
  notLoggedIn: 4,
  /** `status --expires-within`: a token expires within that time and will not be renewed before then. */
  expiresSoon: 5,
  /** exec: the program could not be run (not executable, permission denied), as a shell says. */
  cannotRun: 126,
  /** exec: no such program, as a shell says. */
  commandNotFound: 127,
  /** SIGHUP: the terminal went away (128 + 1, as a shell reports a process the signal ended). */
  hungUp: 129,
  terminated: 143,
} as const;

// Each class names itself: a name taken from the class (new.target.name) would be whatever a minifier
// made of it, as in the CLI's bundles, and programs using the Node API may compare names.

/** An expected failure: its message is a sentence that names the fix, shown without a stack trace. */
export class UserError extends Error {
  override name: string = 'UserError';
  readonly exitCode: number = ExitCode.failure;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The person stopped us: Ctrl-C at a prompt or during a wait. */
export class CancelledError extends UserError {
  override name = 'CancelledError';
  override readonly exitCode: number = ExitCode.cancelled;
  constructor(message = 'Cancelled. Nothing was stored.') {
    super(message);
  }
}

/** SIGTERM: stop cleanly, store nothing. */
export class TerminatedError extends UserError {
  override name = 'TerminatedError';
  override readonly exitCode: number = ExitCode.terminated;
  constructor(message = 'Terminated. Nothing was stored.') {
    super(message);
  }
}

/** SIGHUP (the terminal was closed): stop as for SIGTERM, so that locks are released and nothing is half-stored. */
export class HungUpError extends TerminatedError {
  override name = 'HungUpError';
  override readonly exitCode: number = ExitCode.hungUp;
  constructor(message = 'Hung up (the terminal was closed). Nothing was stored.') {
    super(message);
  }
}

/** A run stopped by Ctrl-C, SIGTERM or SIGHUP (TerminatedError covers the hang-up): never a failure to soften. */
export function isInterruption(error: unknown): boolean {
  return error instanceof CancelledError || error instanceof TerminatedError;
}

/**
 * The signal's error (same class, same exit code) for a run it stopped only after something was stored:
 * "Cancelled. The renewed token was stored first: Yandex had already answered."
 */
export function stoppedAfter(reason: unknown, stored: string): unknown {
  if (!(reason instanceof UserError) || !isInterruption(reason)) return reason;
  const first = reason.message.replace(/ Nothing was stored\.$/, '');
  const Kind = reason.constructor as new (message: string) => UserError;
  return new Kind(`${first} ${stored}`);
}

/** A two-step device login is still waiting for the code to be entered: not a failure, not done. */
export class PendingError extends UserError {
  override name = 'PendingError';
  override readonly exitCode: number = ExitCode.pending;
}

/** No usable token: nothing stored, or it can no longer be refreshed. */
export class NotLoggedInError extends UserError {
  override name = 'NotLoggedInError';
  override readonly exitCode: number = ExitCode.notLoggedIn;
}

/** `status --expires-within`: a token will stop working within that time, and nothing will renew it first. */
export class ExpiresSoonError extends UserError {
  override name = 'ExpiresSoonError';
  override readonly exitCode: number = ExitCode.expiresSoon;
}

/** exec: the program to run is not there (127) or cannot be run (126); nothing was started. */
export class CommandError extends UserError {
  override name = 'CommandError';
  constructor(
    message: string,
    override readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Yandex answered with an OAuth error object: {"error": code, "error_description": text}. */
export class OAuthError extends UserError {
  override name = 'OAuthError';
  constructor(
    message: string,
    readonly code: string,
    readonly description?: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The config file cannot be read or has the wrong content. The message names the file. */
export class ConfigError extends UserError {
  override name = 'ConfigError';
}

/**
 * Yandex could not be reached, or what answered was not Yandex's usual answer: a timeout, a refused or
 * reset connection, a server error, an HTML page from a proxy or captive portal. Worth retrying later.
 */
export class NetworkError extends UserError {
  override name = 'NetworkError';
  /** The sentence that says what happened, without the advice after it (a retrying caller shows only this). */
  readonly what: string;
  constructor(what: string, advice?: string, options?: { cause?: unknown }) {
    super(advice ? `${what} ${advice}` : what, options);
    this.what = what;
  }
}

export function exitCodeFor(error: unknown): number {
  return error instanceof UserError ? error.exitCode : ExitCode.failure;
}

/** The code (ECONNREFUSED, EADDRINUSE, …) of a Node system error, looking through `cause` chains. */
export function systemErrorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Text that came from outside (a redirect's query, Yandex's answer, a header) made fit for a one-line
 * message: control characters (terminal escape sequences, newlines, bidi overrides) become spaces or
 * vanish, and it is cut to `max` characters.
 */
export function untrusted(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ').replace(/[\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, '').trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}
