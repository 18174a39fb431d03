// Reading the token file: where it is, its shape, who may use it. Plain node:fs and no dependencies: the
// fast print reads through this alone, and the store (store.ts) adds the locked writes on top.
import { closeSync, constants, existsSync, fstatSync, openSync, readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, systemErrorCode } from '../errors.js';
import { profileFlag } from '../messages.js';
import { forProfile, IAM_TOKEN_PATTERN, TOKEN_PATTERN, type TokenRecord } from '../token/record.js';
import type { ServiceSettings } from '../services.js';

const CONFIG_FILE_NAME = 'config.json';

/** A config file larger than this is refused unread: a real one is a few kilobytes. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** How long a run waits for another run's lock (config.json.lock) before it says so. */
export const LOCK_NOTICE_MS = 2_000;

/** A lock whose folder has not been touched for this long was left by a run that was killed: taken over. */
export const LOCK_STALE_MS = 15_000;

/** How long a run waits for another run's lock before it gives up. */
export const LOCK_GIVE_UP_MS = 60_000;

/** What a run says once it has waited LOCK_NOTICE_MS for another run. */
export function waitingNotice(path: string): string {
  return `Waiting for another yandex-token to finish with ${path}.`;
}

/** The lock beside the file (config.json.lock, a folder, through proper-lockfile): held while a run writes. */
export function lockPath(path: string): string {
  return `${path}.lock`;
}

/**
 * Beside the file while a print renews its token (config.json.renewing): the fast entry's hint to the
 * prints that come meanwhile to wait for the result rather than start the full CLI. Not a lock.
 */
export function renewalMarker(path: string): string {
  return `${path}.renewing`;
}

/** A UTF-8 byte-order mark, which some Windows editors put at the start of a file. */
export const BOM = /^\uFEFF/;

/**
 * Deeper JSON than this is refused before a write: a real config is 4 levels deep, and JSON.stringify
 * (which every write runs) overflows the stack on a few thousand.
 */
export const MAX_CONFIG_DEPTH = 64;

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

/**
 * A Yandex Cloud IAM token got for a profile's OAuth token (print --iam, token/iam.ts), reused until an
 * hour after it was issued or ten minutes before it expires. It belongs to the login it was got for: a
 * new login and a logout drop it, and one whose OAuth token is no longer the profile's is not used.
 */
export interface IamCacheEntry {
  token: string;
  /** ISO 8601: when we got it. */
  issuedAt: string;
  /** ISO 8601: when Cloud said it stops working. */
  expiresAt: string;
  /** SHA-256 (hex) of the IAM server's URL and the OAuth token it was got for (token/iam.ts hashOf). */
  oauthTokenHash: string;
  /** ISO 8601: when Cloud last could not be asked for its replacement (token/iam.ts holds the next try off). */
  failedAt?: string;
}

export interface ConfigData {
  profiles: Record<string, TokenRecord>;
  /** A stable device_id per profile, kept across logins so Yandex ID lists one device, not many. */
  deviceIds: Record<string, string>;
  /** Device logins waiting for `login --device --poll`, per profile. */
  pending?: Record<string, PendingDeviceLogin>;
  /**
   * What each service needs beside the token, per profile (`profile set`: Direct's client login, Tracker's
   * organisation). Apart from the records, so that a login, a renewal or a logout never touches them.
   */
  settings?: Record<string, ServiceSettings>;
  /** Yandex Cloud IAM tokens, per profile (print --iam). */
  iam?: Record<string, IamCacheEntry>;
}

/** Forgets the profile's IAM token: its login is being replaced or removed. */
export function dropIamToken(data: ConfigData, profile: string): void {
  if (data.iam && Object.hasOwn(data.iam, profile)) delete data.iam[profile];
}

/** Hands a warning about the file to the person (stderr); the store never writes to a stream itself. */
export type Warn = (text: string) => void;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRecord(value: unknown): value is TokenRecord {
  if (!isObject(value)) return false;
  const optionalStrings = ['refreshToken', 'tokenType', 'expiresAt', 'scope', 'clientSecret', 'login', 'deviceId', 'deviceName', 'oauthUrl', 'loginUrl', 'renewalFailedAt', 'expiryWarnedAt'];
  return (
    ['demo', 'renewalRefused', 'imported'].every((key) => value[key] === undefined || typeof value[key] === 'boolean') &&
    typeof value.accessToken === 'string' &&
    value.accessToken !== '' &&
    typeof value.clientId === 'string' &&
    typeof value.obtainedAt === 'string' &&
    optionalStrings.every((key) => value[key] === undefined || typeof value[key] === 'string')
  );
}

function isSettings(value: unknown): value is ServiceSettings {
  return isObject(value) && ['clientLogin', 'orgId', 'cloudOrgId'].every((key) => value[key] === undefined || typeof value[key] === 'string');
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

function isIamEntry(value: unknown): value is IamCacheEntry {
  if (!isObject(value)) return false;
  return (
    typeof value.token === 'string' &&
    IAM_TOKEN_PATTERN.test(value.token) &&
    ['issuedAt', 'expiresAt'].every((key) => typeof value[key] === 'string' && Number.isFinite(Date.parse(value[key] as string))) &&
    typeof value.oauthTokenHash === 'string' &&
    /^[0-9a-f]{64}$/.test(value.oauthTokenHash) &&
    (value.failedAt === undefined || (typeof value.failedAt === 'string' && Number.isFinite(Date.parse(value.failedAt))))
  );
}

/** Only the well-formed entries of a disposable part of the file (pending logins, IAM tokens). */
function wellFormed<T>(value: unknown, check: (entry: unknown) => entry is T): Record<string, T> {
  return isObject(value) ? (Object.fromEntries(Object.entries(value).filter(([, entry]) => check(entry))) as Record<string, T>) : {};
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

/**
 * What is wrong with who may use the config folder and file, one sentence each naming the fix; nothing where
 * file modes mean nothing (Windows). Two statSync calls: this runs on every read, print's included.
 */
export function permissionWarnings(dir: string, path: string): string[] {
  const uid = process.getuid?.();
  if (uid === undefined || process.platform === 'win32') return [];
  try {
    return [permissionWarning(dir, 'folder', uid), permissionWarning(path, 'file', uid)].filter((w): w is string => w !== undefined);
  } catch {
    // A folder that cannot be examined is reported by the read itself.
    return [];
  }
}

/** The config file, read and checked: the read half of the store, and all the fast print needs. */
export class ConfigFile {
  readonly path: string;

  constructor(readonly dir: string) {
    this.path = join(dir, CONFIG_FILE_NAME);
  }

  /** Called after each successful read; the store warns about permissions here (once). */
  protected afterRead(): void {}

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
      `The token stored for profile "${profile}" in ${this.path} is not a token (a token is 1 to 4096 printable ASCII characters without spaces; it was edited by hand?), so it was not printed. Run \`yandex-token login${profileFlag(profile)}\` again, or fix the file.`,
    );
  }

  /** The whole file, checked. A missing file is an empty config; anything unreadable is a ConfigError. */
  read(): ConfigData {
    let text: string;
    try {
      text = this.readText();
      // After the read: a file that cannot be read at all gets the error, which names the fix, alone.
      this.afterRead();
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
    const settings = isObject(parsed) ? (parsed.settings ?? {}) : undefined;
    if (
      !isObject(profiles) ||
      !isObject(deviceIds) ||
      !isObject(settings) ||
      !Object.values(settings).every(isSettings) ||
      !Object.values(profiles).every(isRecord) ||
      !Object.values(deviceIds).every((id) => typeof id === 'string')
    ) {
      throw this.malformed('does not look like a yandex-token config file');
    }
    const data = { ...(parsed as object), profiles, deviceIds } as ConfigData;
    // A pending device login and an IAM token are disposable: a malformed one is dropped (an IAM token is
    // then got again) rather than making the file unusable or handing out what is not a token.
    const { pending, iam } = parsed as { pending?: unknown; iam?: unknown };
    if (pending !== undefined) data.pending = wellFormed(pending, isPending);
    if (iam !== undefined) data.iam = wellFormed(iam, isIamEntry);
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

  protected malformed(what: string): ConfigError {
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
  protected readText(path = this.path): string {
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
    return forProfile(profiles, profile);
  }

}

/** Profile names for lists: "default" first, then alphabetically. */
export function sortProfiles(names: Iterable<string>): string[] {
  return [...names].sort((a, b) => (a === 'default' ? -1 : b === 'default' ? 1 : a.localeCompare(b)));
}

/** The stored profiles' names, "default" first. */
export function profileNames(data: ConfigData): string[] {
  return sortProfiles(Object.keys(data.profiles));
}
