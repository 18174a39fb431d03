// The token file's writes: locked read-modify-write, owner-only permissions, and a write checked to have
// landed whole (write.ts). Reading is read.ts's; conf and the lock are loaded only for a write.
import { accessSync, chmodSync, constants, existsSync, lstatSync, mkdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, UserError, systemErrorCode } from '../errors.js';
import { sleep } from '../time.js';
import { freeBytes, prepareReplace, type Replace } from './write.js';
import { BOM, ConfigFile, LOCK_GIVE_UP_MS, LOCK_NOTICE_MS, LOCK_STALE_MS, MAX_CONFIG_BYTES, MAX_CONFIG_DEPTH, isObject, lockPath, permissionWarnings, waitingNotice, type ConfigData, type Warn } from './read.js';

/** Room beyond the file's size that a write needs: a page for the temporary file's growth. */
const ROOM_MARGIN = 4096;

type Release = () => Promise<void>;
/** What a write needs, loaded before anything is asked of the network: conf, and the checks around it. */
interface Writer {
  Conf: typeof import('conf').default;
  prepareReplace: typeof prepareReplace;
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
    const { default: Conf } = await import('conf');
    for (const name of signals) {
      for (const listener of process.listeners(name)) if (!before.get(name)!.has(listener)) process.removeListener(name, listener);
    }
    return { Conf, prepareReplace };
  })();
  return writer;
}

/** proper-lockfile, loaded once: by the first lock, or while a login waits for the person (preloadWriter). */
let lockfile: Promise<typeof import('proper-lockfile')> | undefined;
const loadLockfile = () => (lockfile ??= import('proper-lockfile'));

export class Store extends ConfigFile {
  private checked = false;

  /**
   * `warn` hears, once per process, about a file or folder others can use (without it nothing is checked),
   * and about a write that has waited a while for another run's lock.
   * `signal` (Ctrl-C, SIGTERM) ends a wait for another process's lock with its reason.
   */
  constructor(
    dir: string,
    private readonly warn?: Warn,
    /** Ends a wait for the lock (and a write's preparation) with its reason. */
    private readonly signal?: () => AbortSignal | undefined,
  ) {
    super(dir);
  }

  /** Warns (once) when the folder or the file is open to other users or belongs to another user. */
  protected override afterRead(): void {
    if (this.checked || !this.warn) return;
    this.checked = true;
    for (const warning of permissionWarnings(this.dir, this.path)) this.warn(warning);
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
    const lockAt = lockPath(this.path);
    const started = Date.now();
    let noticed = false;
    let delay = 5;
    for (;;) {
      signal?.throwIfAborted();
      const holder = statSync(lockAt, { throwIfNoEntry: false });
      const stale = holder !== undefined && Date.now() - holder.mtimeMs > LOCK_STALE_MS;
      if (!holder || stale) {
        const { lock } = await loadLockfile();
        let release: Release | undefined;
        try {
          release = await lock(this.path, { realpath: false, stale: LOCK_STALE_MS, retries: 0, lockfilePath: lockAt });
        } catch (error) {
          if (systemErrorCode(error) !== 'ELOCKED') throw this.writeError(error);
        }
        if (release) {
          if (stale) this.warn?.(`Took over ${lockAt}, left by a run that was killed ${Math.round((Date.now() - holder.mtimeMs) / 1000)} s ago.`);
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
            ? `Waiting for another yandex-token to finish with ${this.path}; its lock (${lockAt}) has not been touched for ${Math.round(untouched / 1000)} s, and is taken over once it is ${LOCK_STALE_MS / 1000} s old, in case the run that left it was killed.`
            : waitingNotice(this.path),
        );
      }
      if (waited >= LOCK_GIVE_UP_MS) {
        throw new UserError(`Another yandex-token is still updating ${this.path}. Try again; if it persists, remove ${lockAt}.`);
      }
      await sleep(delay * (0.5 + Math.random()), signal);
      delay = Math.min(delay * 1.5, 250);
    }
  }

  /**
   * Loads what a write needs (conf, write.ts, the lock) while a login waits for the person, so that the token
   * Yandex answers with is stored without that delay. Not at once: in the next turn of the event loop, after
   * what this one starts (the listener, the browser), which the person would otherwise wait for. A failure
   * is reported by the write itself.
   */
  preloadWriter(): void {
    setImmediate(() => {
      loadWriter().catch(() => undefined);
      loadLockfile().catch(() => undefined);
    });
  }

  /**
   * Fails now, naming the file, when the disk holding it has no room for a whole new copy beside the old
   * one (a write needs that much, and a page more): a renewal asks this before it asks Yandex, whose answer
   * rotates the refresh token and so must be stored. Where the system cannot say, it passes.
   */
  assertRoom(): void {
    const free = freeBytes(this.dir);
    if (free === undefined) return;
    const size = statSync(this.path, { throwIfNoEntry: false })?.size ?? 0;
    if (free >= size + ROOM_MARGIN) return;
    throw new ConfigError(
      `Cannot write ${this.path}: the disk is full (${free} bytes free), so the token was not renewed: Yandex's answer, with a new refresh token, could not have been stored. The file was left as it was; free some space and run the command again.`,
    );
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
   * Replaces the file with `data` through conf (store/write.ts): afterwards it holds exactly the new content
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
