// The token file: where it is, its shape, owner-only permissions, and locked read-modify-write.
// Reading is plain node:fs (print's fast path); writing loads conf and the lock on demand.
import { accessSync, chmodSync, closeSync, constants, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, UserError, systemErrorCode } from './errors.js';

export const CONFIG_FILE_NAME = 'config.json';

/** A config file larger than this is refused unread: a real one is a few kilobytes. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** A UTF-8 byte-order mark, which some Windows editors put at the start of a file. */
const BOM = /^\uFEFF/;

/**
 * Deeper JSON than this is refused before a write: a real config is 4 levels deep, and JSON.stringify
 * (which every write runs) overflows the stack on a few thousand.
 */
export const MAX_CONFIG_DEPTH = 64;

/**
 * What an access or refresh token may be wherever it enters (Yandex's answer) or leaves (print, getToken):
 * 1 to 4096 printable ASCII characters, no spaces. It goes into HTTP headers and shell words as it is, so a
 * newline or an escape sequence in one would inject a header or reach a terminal. Yandex's are about 60.
 */
export const TOKEN_PATTERN = /^[\x21-\x7e]{1,4096}$/;

/** What login stores for one profile. Times are ISO 8601 strings so the file reads well. */
export interface TokenRecord {
  accessToken: string;
  refreshToken?: string;
  tokenType?: string;
  /** When the access token stops working, if Yandex said. */
  expiresAt?: string;
  /** Granted scopes, space-separated, when Yandex reported them or we asked for them. */
  scope?: string;
  clientId: string;
  /** Kept so that refresh and revoke work without asking again. */
  clientSecret?: string;
  /** The Yandex account's login, when /info answered. */
  login?: string;
  /** When the token was obtained or last renewed (ISO 8601): renewals are due counted from here. */
  obtainedAt: string;
  /** When a renewal ahead of expiry last failed; the next is tried an hour later. Cleared by a renewal. */
  renewalFailedAt?: string;
  deviceId?: string;
  deviceName?: string;
  /** The OAuth base URL the token came from, when it was not Yandex's (an emulator): refresh and revoke go there. */
  oauthUrl?: string;
  /** The Yandex ID base URL (/info) of that login, when it was not Yandex's. */
  loginUrl?: string;
  /** Issued by `login --demo`'s built-in emulator, which stopped with it: no request is ever made for it. */
  demo?: boolean;
}

/**
 * A device login started with `login --device --no-wait` and not finished yet: what `login --device --poll`
 * needs to poll and to store the token. Kept apart from the profile's record, so that a pending login
 * never replaces a working token until it succeeds.
 */
export interface PendingDeviceLogin {
  deviceCode: string;
  userCode: string;
  verificationUrl: string;
  /** Seconds between polls, raised after each slow_down. */
  interval: number;
  /** Seconds the code lives, as Yandex said. */
  expiresIn: number;
  /** ISO 8601: when the code stops working. */
  expiresAt: string;
  /** ISO 8601: the last poll (or when the code was issued), so the interval holds across runs. */
  lastPollAt: string;
  clientId: string;
  clientSecret?: string;
  deviceId: string;
  deviceName?: string;
  /** The scope asked for, kept for the record as the other logins keep it. */
  scope?: string;
  /** The base URLs the code came from, when they are not Yandex's (an emulator's): --poll asks them. */
  oauthUrl?: string;
  loginUrl?: string;
}

export interface ConfigData {
  profiles: Record<string, TokenRecord>;
  /** A stable device_id per profile, kept across logins so Yandex ID lists one device, not many. */
  deviceIds: Record<string, string>;
  /** Device logins waiting for `login --device --poll`, per profile. */
  pending?: Record<string, PendingDeviceLogin>;
}

/** Hands a warning about the file to the person (stderr); the store never writes to a stream itself. */
export type Warn = (text: string) => void;

/** How long a write waits for another run's lock before it says so. */
const LOCK_NOTICE_MS = 2_000;

/** A lock whose folder has not been touched for this long was left by a run that was killed: taken over. */
const LOCK_STALE_MS = 15_000;

/** How long a write waits for another run's lock before it gives up. */
const LOCK_GIVE_UP_MS = 60_000;

type Release = () => Promise<void>;
type Replace = import('./write.js').Replace;
/** What a write needs, loaded before anything is asked of the network: conf, and the checks around it. */
interface Writer {
  Conf: typeof import('conf').default;
  prepareReplace: typeof import('./write.js').prepareReplace;
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it is aborted. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * conf, loaded once. Its writer (atomically) hooks SIGINT, SIGTERM and SIGHUP through when-exit, which
 * deletes the temp file being written and re-raises the signal, killing the process before our own handler
 * can store what Yandex answered and exit with the right code (fabiospampinato/when-exit, interceptor.js).
 * Our handlers own the signals: the listeners the import added are taken off again; its 'exit' hook stays.
 */
let writer: Promise<Writer> | undefined;
function loadWriter(): Promise<Writer> {
  writer ??= (async () => {
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2', 'SIGALRM', 'SIGVTALRM', 'SIGXCPU', 'SIGXFSZ', 'SIGABRT', 'SIGUSR1'] as const;
    const before = new Map(signals.map((name) => [name, new Set(process.listeners(name))]));
    const [{ default: Conf }, { prepareReplace }] = await Promise.all([import('conf'), import('./write.js')]);
    for (const name of signals) {
      for (const listener of process.listeners(name)) if (!before.get(name)!.has(listener)) process.removeListener(name, listener);
    }
    return { Conf, prepareReplace };
  })();
  return writer;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRecord(value: unknown): value is TokenRecord {
  if (!isObject(value)) return false;
  const optionalStrings = ['refreshToken', 'tokenType', 'expiresAt', 'scope', 'clientSecret', 'login', 'deviceId', 'deviceName', 'oauthUrl', 'loginUrl', 'renewalFailedAt'];
  return (
    (value.demo === undefined || typeof value.demo === 'boolean') &&
    typeof value.accessToken === 'string' &&
    value.accessToken !== '' &&
    typeof value.clientId === 'string' &&
    typeof value.obtainedAt === 'string' &&
    optionalStrings.every((key) => value[key] === undefined || typeof value[key] === 'string')
  );
}

function isPending(value: unknown): value is PendingDeviceLogin {
  if (!isObject(value)) return false;
  const strings = ['deviceCode', 'userCode', 'verificationUrl', 'expiresAt', 'lastPollAt', 'clientId', 'deviceId'];
  const optionalStrings = ['clientSecret', 'deviceName', 'scope', 'oauthUrl', 'loginUrl'];
  return (
    strings.every((key) => typeof value[key] === 'string' && value[key] !== '') &&
    optionalStrings.every((key) => value[key] === undefined || typeof value[key] === 'string') &&
    typeof value.interval === 'number' &&
    value.interval > 0 &&
    typeof value.expiresIn === 'number' &&
    value.expiresIn > 0
  );
}

/** A path as a shell word, for the commands in warnings. */
function shellWord(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

/**
 * What is wrong with who may use the file or folder, as one sentence naming the fix, or undefined.
 * One statSync: this runs on every read, print's fast path included.
 */
function permissionWarning(path: string, kind: 'file' | 'folder', uid: number): string | undefined {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return undefined;
  const word = shellWord(path);
  const mode = (stat.mode & 0o7777).toString(8).padStart(4, '0');
  const fixMode = kind === 'file' ? `chmod 600 ${word}` : `chmod 700 ${word}`;
  if (kind === 'folder' && (stat.mode & 0o1000) !== 0 && (stat.mode & 0o002) !== 0) {
    return `${path} is a folder shared with other users (mode ${mode}, like /tmp): set YANDEX_TOKEN_CONFIG_DIR to a folder only you can open.`;
  }
  if (stat.uid !== uid) {
    return `${path} belongs to another user (uid ${stat.uid}), perhaps left by \`sudo yandex-token\`; make it yours with: sudo chown "$(id -un)" ${word} && ${fixMode}`;
  }
  if ((stat.mode & 0o077) === 0) return undefined;
  const who = kind === 'file' ? ((stat.mode & 0o022) !== 0 ? 'changed' : 'read') : (stat.mode & 0o022) !== 0 ? 'changed' : 'looked into';
  return `${path} can be ${who} by other users (mode ${mode}). Fix it with: ${fixMode}`;
}

export class Store {
  readonly path: string;
  private checked = false;

  /**
   * `warn` hears, once per process, about a file or folder others can use (without it nothing is checked),
   * and about a write that has waited a while for another run's lock.
   * `signal` (Ctrl-C, SIGTERM) ends a wait for another process's lock with its reason.
   */
  constructor(
    readonly dir: string,
    private readonly warn?: Warn,
    /** Asked only when a write waits for the lock (print's happy path never does). */
    private readonly signal?: () => AbortSignal | undefined,
  ) {
    this.path = join(dir, CONFIG_FILE_NAME);
  }

  /**
   * Warns (once) when the folder or the file is open to other users or belongs to another user. Only
   * where file modes mean something: not on Windows.
   */
  private checkPermissions(): void {
    if (this.checked || !this.warn) return;
    this.checked = true;
    const uid = process.getuid?.();
    if (uid === undefined || process.platform === 'win32') return;
    try {
      for (const warning of [permissionWarning(this.dir, 'folder', uid), permissionWarning(this.path, 'file', uid)]) {
        if (warning) this.warn(warning);
      }
    } catch {
      // A folder that cannot be examined is reported by the read itself.
    }
  }

  /**
   * A stored token fit to print or send: TOKEN_PATTERN. A hand-edited record with a control character or a
   * space is refused (naming the file) rather than written into a header or onto a terminal.
   */
  checkedToken(token: string, profile: string): string {
    if (TOKEN_PATTERN.test(token)) return token;
    throw this.badToken(profile);
  }

  private badToken(profile: string): ConfigError {
    return new ConfigError(
      `The token stored for profile "${profile}" in ${this.path} is not a token (a token is 1 to 4096 printable ASCII characters without spaces; it was edited by hand?), so it was not printed. Run \`yandex-token login${profile === 'default' ? '' : ` --profile ${profile}`}\` again, or fix the file.`,
    );
  }

  /** The whole file, checked. A missing file is an empty config; anything unreadable is a ConfigError. */
  read(): ConfigData {
    let text: string;
    try {
      text = this.readText();
      // After the read: a file that cannot be read at all gets the error, which names the fix, alone.
      this.checkPermissions();
    } catch (error) {
      if (systemErrorCode(error) === 'ENOENT' && !(error instanceof ConfigError)) return { profiles: {}, deviceIds: {} };
      throw this.unreadable(error);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text.replace(BOM, ''));
    } catch {
      throw this.malformed('is not valid JSON');
    }
    const profiles = isObject(parsed) ? (parsed.profiles ?? {}) : undefined;
    const deviceIds = isObject(parsed) ? (parsed.deviceIds ?? {}) : undefined;
    if (
      !isObject(profiles) ||
      !isObject(deviceIds) ||
      !Object.values(profiles).every(isRecord) ||
      !Object.values(deviceIds).every((id) => typeof id === 'string')
    ) {
      throw this.malformed('does not look like a yandex-token config file');
    }
    const data = { ...(parsed as object), profiles, deviceIds } as ConfigData;
    // A pending device login is disposable: a malformed one is dropped rather than making the file unusable.
    const pending = isObject(parsed) ? parsed.pending : undefined;
    if (pending !== undefined) {
      data.pending = isObject(pending) ? (Object.fromEntries(Object.entries(pending).filter(([, entry]) => isPending(entry))) as Record<string, PendingDeviceLogin>) : {};
    }
    return data;
  }

  // The sentences for a file that cannot be used live in functions of their own, apart from read(): the
  // happy path then compiles none of them (print runs read() once per call).

  private unreadable(error: unknown): ConfigError {
    if (error instanceof ConfigError) return error;
    const code = systemErrorCode(error);
    if (code === 'EACCES' || code === 'EPERM') {
      return new ConfigError(
        `Cannot read ${this.path}: permission denied. It may belong to another user (after sudo); fix it with: sudo chown "$(id -un)" ${this.path} && chmod 600 ${this.path}`,
      );
    }
    if (code === 'EISDIR') return this.isAFolder();
    if (code === 'ENXIO') return this.notAFile('a socket');
    return new ConfigError(`Cannot read ${this.path} (${code ?? String(error)}). Check the file and its folder.`);
  }

  private malformed(what: string): ConfigError {
    // A write killed at the wrong instant leaves the old file beside the new one (see write.ts).
    const previous = `${this.path}.previous`;
    const hint = existsSync(previous) ? ` The previous version may be in ${previous}.` : '';
    return new ConfigError(`${this.path} ${what}. Fix it, or move it aside and run \`yandex-token login\` again; it was left untouched.${hint}`);
  }

  private isAFolder(): ConfigError {
    return new ConfigError(`${this.path} is a folder, not a file. Move it aside and log in again.`);
  }

  /**
   * The file's text, only if it is a regular file of a sane size: a FIFO, a device (/dev/zero through a
   * symlink) or a huge file would hang the read or grow without bound. Opened without blocking (a FIFO
   * with no writer would block the open itself), then one fstat on the descriptor, so the check and the
   * read see the same file; readFileSync by path does the same open and fstat, so this costs nothing more.
   */
  private readText(path = this.path): string {
    const fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile() || stat.size > MAX_CONFIG_BYTES) throw this.refused(stat);
      const bytes = readFileSync(fd);
      const text = bytes.toString('utf8');
      // Invalid UTF-8 decodes to U+FFFD, which the next write would make permanent: refuse such a file as
      // for invalid JSON. The strict decoder runs only when a U+FFFD shows up (it may also be a real one).
      if (text.includes('\uFFFD')) this.strictUtf8(bytes);
      return text;
    } finally {
      closeSync(fd);
    }
  }

  private strictUtf8(bytes: Buffer): void {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw this.malformed('is not valid UTF-8 text');
    }
  }

  private refused(stat: Stats): ConfigError {
    if (stat.isDirectory()) return this.isAFolder();
    if (!stat.isFile()) {
      return this.notAFile(stat.isFIFO() ? 'a named pipe' : stat.isCharacterDevice() || stat.isBlockDevice() ? 'a device' : stat.isSocket() ? 'a socket' : 'something else');
    }
    return new ConfigError(
      `${this.path} is ${stat.size} bytes, too large for a yandex-token config file (at most ${MAX_CONFIG_BYTES}); it was not read. Move it aside and run \`yandex-token login\` again.`,
    );
  }

  private notAFile(what: string): ConfigError {
    return new ConfigError(
      `${this.path} is ${what}, not a regular file, so it was not read. Remove it (or the symlink) and run \`yandex-token login\` again, or set YANDEX_TOKEN_CONFIG_DIR to another folder.`,
    );
  }

  get(profile: string): TokenRecord | undefined {
    const { profiles } = this.read();
    return Object.hasOwn(profiles, profile) ? profiles[profile] : undefined;
  }

  /**
   * Read-modify-write under a lock next to the file, so concurrent processes never lose each other's
   * writes. `change` sees the current content and mutates it; the file is written only if it changed.
   * Everything the write needs is loaded before `change` runs, so that what it brings back from the network
   * is stored without a pause in which a signal could be handled.
   *
   * `settled`, asked each time the lock is found taken, looks at the file as the holder left it: a value
   * it returns ends the wait without the lock (print's crowd: another run has just renewed the token).
   */
  async update<T>(change: (data: ConfigData) => T | Promise<T>, settled?: (data: ConfigData) => T | undefined): Promise<T> {
    this.ensureDir();
    // Asked first: for print, this is what installs the Ctrl-C handlers, before anything can wait.
    const signal = this.signal?.();
    this.assertWritable();
    const held = await this.lock(signal, settled);
    if ('value' in held) return held.value;
    try {
      const { Conf, prepareReplace } = await loadWriter().catch((error: unknown) => Promise.reject(this.writeError(error)));
      signal?.throwIfAborted();
      const data = this.read();
      const before = this.snapshot(data);
      const replace = prepareReplace(Conf, this.writeTarget(), this.path, (error) => this.writeError(error));
      const result = await change(data);
      if (JSON.stringify(data) !== before) this.write(replace, data);
      return result;
    } finally {
      await held.release().catch(() => undefined);
    }
  }

  /**
   * Takes the lock (`config.json.lock`, a folder, through proper-lockfile). While another run holds it,
   * the file is read again between tries (`settled` may end the wait) and proper-lockfile is not even
   * loaded. A try in progress always finishes before a signal ends the wait, and a lock it got is given
   * back, so a signal never leaves a lock behind.
   */
  private async lock<T>(signal: AbortSignal | undefined, settled?: (data: ConfigData) => T | undefined): Promise<{ release: Release } | { value: T }> {
    return (await this.waitForLock(signal, settled, true)) as { release: Release } | { value: T };
  }

  /**
   * While another run holds the lock, reads the file between looks until `settled` finds what it needs
   * (its value) or the lock is free (undefined); takes nothing. print asks it before it loads the code of
   * a renewal: a crowd of prints waiting on one renewal then costs little more than reading the file.
   * A signal ends the wait with its reason, as it ends the wait for the lock itself.
   */
  async whileLocked<T>(settled: (data: ConfigData) => T | undefined): Promise<T | undefined> {
    if (!existsSync(`${this.path}.lock`)) return undefined;
    const waited = await this.waitForLock(this.signal?.(), settled, false);
    return 'value' in waited ? waited.value : undefined;
  }

  private async waitForLock<T>(
    signal: AbortSignal | undefined,
    settled: ((data: ConfigData) => T | undefined) | undefined,
    take: boolean,
  ): Promise<{ release: Release } | { value: T } | { free: true }> {
    const lockPath = `${this.path}.lock`;
    const started = Date.now();
    let noticed = false;
    let delay = 5;
    let lockfile: typeof import('proper-lockfile') | undefined;
    for (;;) {
      signal?.throwIfAborted();
      const holder = statSync(lockPath, { throwIfNoEntry: false });
      const stale = holder !== undefined && Date.now() - holder.mtimeMs > LOCK_STALE_MS;
      if ((!holder || stale) && !take) return { free: true };
      if (!holder || stale) {
        lockfile ??= await import('proper-lockfile');
        let release: Release | undefined;
        try {
          release = await lockfile.lock(this.path, { realpath: false, stale: LOCK_STALE_MS, retries: 0, lockfilePath: lockPath });
        } catch (error) {
          if (systemErrorCode(error) !== 'ELOCKED') throw this.writeError(error);
        }
        if (release) {
          if (stale) this.warn?.(`Took over ${lockPath}, left by a run that was killed ${Math.round((Date.now() - holder.mtimeMs) / 1000)} s ago.`);
          if (!signal?.aborted) return { release };
          await release().catch(() => undefined);
          throw signal.reason;
        }
      }
      if (settled) {
        const value = settled(this.read());
        if (value !== undefined) return { value };
      }
      const waited = Date.now() - started;
      if (!noticed && waited >= LOCK_NOTICE_MS) {
        noticed = true;
        // A live holder touches its lock every LOCK_STALE_MS / 2; one untouched for longer may have been killed.
        const untouched = holder ? Date.now() - holder.mtimeMs : 0;
        this.warn?.(
          untouched > LOCK_STALE_MS / 2 + 1_000
            ? `Waiting for another yandex-token to finish with ${this.path}; its lock (${lockPath}) has not been touched for ${Math.round(untouched / 1000)} s, and is taken over once it is ${LOCK_STALE_MS / 1000} s old, in case the run that left it was killed.`
            : `Waiting for another yandex-token to finish with ${this.path}.`,
        );
      }
      if (waited >= LOCK_GIVE_UP_MS) {
        throw new UserError(`Another yandex-token is still updating ${this.path}. Try again; if it persists, remove ${lockPath}.`);
      }
      await pause(delay * (0.5 + Math.random()), signal);
      delay = Math.min(delay * 1.5, 250);
    }
  }

  /**
   * Fails now, naming the file, when a write could not happen: the config folder (or, before it exists,
   * the nearest folder that does) must be writable. login calls it before sending anyone to Yandex, so a
   * read-only folder never costs a consent and a token that cannot be kept; update() calls it before the
   * lock, which would otherwise retry a permission error for a minute.
   */
  assertWritable(): void {
    let dir = this.dir;
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch (error) {
      throw this.writeError(error);
    }
    this.writeTarget();
  }

  /**
   * The file a write replaces: config.json itself, or, when it is a symlink, the file it points to, but
   * only if that is a yandex-token config (a JSON object with "profiles"). Writing through a link to
   * another program's JSON file would add our keys to it and change its mode.
   */
  private writeTarget(): string {
    let link: Stats | undefined;
    try {
      link = lstatSync(this.path, { throwIfNoEntry: false });
    } catch (error) {
      throw this.writeError(error);
    }
    if (!link?.isSymbolicLink()) return this.path;
    let target: string;
    let parsed: unknown;
    try {
      target = realpathSync(this.path);
    } catch {
      throw this.foreignLink('a file that does not exist');
    }
    try {
      // The same checked read as config.json's own: a link to /dev/zero or a pipe must not hang here.
      parsed = JSON.parse(this.readText(target).replace(BOM, ''));
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      parsed = undefined;
    }
    if (!isObject(parsed) || !isObject(parsed.profiles)) throw this.foreignLink(`${target}, which is not a yandex-token config file`);
    return target;
  }

  private foreignLink(what: string): ConfigError {
    return new ConfigError(
      `${this.path} is a symlink to ${what}, so nothing was written to it; it was left untouched. Replace the link with a file of its own, point it at a yandex-token config.json, or set YANDEX_TOKEN_CONFIG_DIR to another folder.`,
    );
  }

  /**
   * The content as one string, to tell whether a change changed anything; JSON nested deeper than
   * MAX_CONFIG_DEPTH is refused first (JSON.stringify would overflow the stack on it).
   */
  private snapshot(data: ConfigData): string {
    const stack: [unknown, number][] = [[data, 1]];
    while (stack.length > 0) {
      const [value, depth] = stack.pop()!;
      if (typeof value !== 'object' || value === null) continue;
      if (depth > MAX_CONFIG_DEPTH) throw this.malformed(`is nested more than ${MAX_CONFIG_DEPTH} levels deep, which no yandex-token config is`);
      for (const child of Object.values(value)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
    return JSON.stringify(data);
  }

  private ensureDir(): void {
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const stat = statSync(this.dir);
      // Tighten a folder we own, but never a shared sticky one such as /tmp named by mistake.
      if ((stat.mode & 0o077) !== 0 && (stat.mode & 0o1000) === 0 && stat.uid === process.getuid?.()) {
        chmodSync(this.dir, 0o700);
      }
    } catch (error) {
      throw this.writeError(error);
    }
  }

  /**
   * Replaces the file with `data` through conf (src/write.ts): afterwards it holds exactly the new content
   * or exactly the old one, and then a ConfigError says why (a full disk, a quota, …). Content the reader
   * would refuse (over MAX_CONFIG_BYTES) is refused here instead of written.
   */
  private write(replace: Replace, data: ConfigData): void {
    // conf's own layout (tab-indented), so files stay as they were written before.
    const text = JSON.stringify(data, undefined, '\t');
    const size = Buffer.byteLength(text, 'utf8');
    if (size > MAX_CONFIG_BYTES) {
      throw new ConfigError(
        `Cannot write ${this.path}: the new content would be ${size} bytes, more than the ${MAX_CONFIG_BYTES} a yandex-token config file may hold. It was left as it was; remove profiles you no longer need (\`yandex-token logout --profile NAME\`) or what was added to it by hand.`,
      );
    }
    replace(text, data);
  }

  private writeError(error: unknown): UserError {
    if (error instanceof UserError) return error;
    const code = systemErrorCode(error);
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      return new ConfigError(
        `Cannot write ${this.path}: ${code === 'EROFS' ? 'read-only file system' : 'permission denied'}. Make ${this.dir} writable by you, or set YANDEX_TOKEN_CONFIG_DIR to a folder that is.`,
      );
    }
    return new ConfigError(`Cannot write ${this.path} (${code ?? String(error)}). Check the file and its folder.`);
  }
}
