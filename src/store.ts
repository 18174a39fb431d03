// The token file: where it is, its shape, owner-only permissions, and locked read-modify-write.
// Reading is plain node:fs (print's fast path); writing loads conf and the lock on demand.
import { accessSync, chmodSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, UserError, systemErrorCode } from './errors.js';

export const CONFIG_FILE_NAME = 'config.json';

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
  obtainedAt: string;
  deviceId?: string;
  deviceName?: string;
}

export interface ConfigData {
  profiles: Record<string, TokenRecord>;
  /** A stable device_id per profile, kept across logins so Yandex ID lists one device, not many. */
  deviceIds: Record<string, string>;
}

const LOCK_OPTIONS = {
  realpath: false,
  stale: 15_000,
  retries: { retries: 60, factor: 1.3, minTimeout: 20, maxTimeout: 1_000, randomize: true },
};

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRecord(value: unknown): value is TokenRecord {
  if (!isObject(value)) return false;
  const optionalStrings = ['refreshToken', 'tokenType', 'expiresAt', 'scope', 'clientSecret', 'login', 'deviceId', 'deviceName'];
  return (
    typeof value.accessToken === 'string' &&
    value.accessToken !== '' &&
    typeof value.clientId === 'string' &&
    typeof value.obtainedAt === 'string' &&
    optionalStrings.every((key) => value[key] === undefined || typeof value[key] === 'string')
  );
}

export class Store {
  readonly path: string;

  constructor(readonly dir: string) {
    this.path = join(dir, CONFIG_FILE_NAME);
  }

  /** The whole file, checked. A missing file is an empty config; anything unreadable is a ConfigError. */
  read(): ConfigData {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      const code = systemErrorCode(error);
      if (code === 'ENOENT') return { profiles: {}, deviceIds: {} };
      if (code === 'EACCES' || code === 'EPERM') {
        throw new ConfigError(
          `Cannot read ${this.path}: permission denied. It may belong to another user (after sudo); fix it with: sudo chown "$(id -un)" ${this.path} && chmod 600 ${this.path}`,
        );
      }
      if (code === 'EISDIR') throw new ConfigError(`${this.path} is a folder, not a file. Move it aside and log in again.`);
      throw new ConfigError(`Cannot read ${this.path} (${code ?? String(error)}). Check the file and its folder.`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ConfigError(
        `${this.path} is not valid JSON. Fix it, or move it aside and run \`yandex-token login\` again; it was left untouched.`,
      );
    }
    const profiles = isObject(parsed) ? (parsed.profiles ?? {}) : undefined;
    const deviceIds = isObject(parsed) ? (parsed.deviceIds ?? {}) : undefined;
    if (
      !isObject(profiles) ||
      !isObject(deviceIds) ||
      !Object.values(profiles).every(isRecord) ||
      !Object.values(deviceIds).every((id) => typeof id === 'string')
    ) {
      throw new ConfigError(
        `${this.path} does not look like a yandex-token config file. Fix it, or move it aside and run \`yandex-token login\` again; it was left untouched.`,
      );
    }
    return { ...(parsed as object), profiles, deviceIds } as ConfigData;
  }

  get(profile: string): TokenRecord | undefined {
    const { profiles } = this.read();
    return Object.hasOwn(profiles, profile) ? profiles[profile] : undefined;
  }

  /**
   * Read-modify-write under a lock next to the file, so concurrent processes never lose each other's
   * writes. `change` sees the current content and mutates it; the file is written only if it changed.
   */
  async update<T>(change: (data: ConfigData) => T | Promise<T>): Promise<T> {
    this.ensureDir();
    this.assertWritable();
    const lockfile = await import('proper-lockfile');
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(this.path, { ...LOCK_OPTIONS, lockfilePath: `${this.path}.lock` });
    } catch (error) {
      if (systemErrorCode(error) === 'ELOCKED') {
        throw new UserError(
          `Another yandex-token is still updating ${this.path}. Try again; if it persists, remove ${this.path}.lock.`,
        );
      }
      throw this.writeError(error);
    }
    try {
      const data = this.read();
      const before = JSON.stringify(data);
      const result = await change(data);
      if (JSON.stringify(data) !== before) await this.write(data);
      return result;
    } finally {
      await release().catch(() => undefined);
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

  private async write(data: ConfigData): Promise<void> {
    const { default: Conf } = await import('conf');
    try {
      const conf = new Conf<Record<string, unknown>>({
        projectName: 'yandex-token',
        projectSuffix: '',
        cwd: this.dir,
        configName: CONFIG_FILE_NAME.replace(/\.json$/, ''),
        configFileMode: 0o600,
        accessPropertiesByDotNotation: false,
        clearInvalidConfig: false,
      });
      conf.store = data as unknown as Record<string, unknown>;
      chmodSync(this.path, 0o600);
    } catch (error) {
      throw this.writeError(error);
    }
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
