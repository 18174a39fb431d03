// Replacing config.json through conf so that nothing is ever lost: the old file stays, byte for byte,
// unless the complete new content is on disk. Loaded only for a write (print's fast path only reads).
//
// conf writes through `atomically`, whose writeFileSync makes one write(2) and never looks at how much of
// it was written: on a nearly full disk the temporary file is cut short and still renamed over the old one
// (atomically 2.1.1; see the README's notes on dependencies). So the old file is kept under a second name
// first (a hard link: no space, no copy), what conf left is read back and compared with what was meant,
// and on any difference or error the old file is renamed back.
import { chmodSync, existsSync, linkSync, readFileSync, readdirSync, renameSync, statSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ConfigError, UserError, systemErrorCode } from '../errors.js';

/** Where the old file is kept during a write, beside it: `config.json.previous`. */
function previousPath(target: string): string {
  return `${target}.previous`;
}

/** atomically's temporary files: `<file>.tmp-` then 10 digits of a timestamp and 6 hex digits. */
function isTempOf(target: string, name: string): boolean {
  const base = basename(target);
  return name.startsWith(`${base}.tmp-`) && /^\d{10}[0-9a-f]{6}$/.test(name.slice(`${base}.tmp-`.length));
}

/**
 * Removes what a write that was killed midway left beside the file (its temporary file, the kept old
 * file), and what a failed write left now. Runs under the file's lock, so no other run is writing them.
 */
function removeLeftovers(target: string, withPrevious: boolean): void {
  const dir = dirname(target);
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (isTempOf(target, name) || (withPrevious && name === basename(previousPath(target)))) {
      try {
        unlinkSync(join(dir, name));
      } catch {
        // Gone already (atomically removes its own temporary file too, a moment later).
      }
    }
  }
}

/**
 * Keeps the old file under previousPath(): a hard link, or, where the file system has none, a copy
 * (written in full or not at all, so a disk too full for the copy fails here, before anything changed).
 * Returns whether there was an old file.
 */
function keepOld(target: string, previous: string): boolean {
  try {
    linkSync(target, previous);
    return true;
  } catch (error) {
    const code = systemErrorCode(error);
    if (code === 'ENOENT') return false;
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EXDEV', 'EACCES'].includes(code ?? '')) throw error;
  }
  let old: Buffer;
  try {
    old = readFileSync(target);
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return false;
    throw error;
  }
  try {
    writeFileSync(previous, old, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    try {
      unlinkSync(previous);
    } catch {
      // Never created.
    }
    throw error;
  }
  return true;
}

/** Puts the old file back (or removes a file that did not exist before the write). */
function restore(target: string, previous: string, hadOld: boolean): void {
  if (hadOld) {
    // Still the same file (conf failed before its rename): rename(2) of a hard link onto its twin does
    // nothing, so the kept name is removed instead.
    const now = statSync(target, { throwIfNoEntry: false });
    const kept = statSync(previous);
    if (now && now.ino === kept.ino && now.dev === kept.dev) unlinkSync(previous);
    else renameSync(previous, target);
    return;
  }
  try {
    unlinkSync(target);
  } catch (error) {
    if (systemErrorCode(error) !== 'ENOENT') throw error;
  }
}

/** Free bytes for this user in the folder, when the system says. */
export function freeBytes(dir: string): number | undefined {
  try {
    const stats = statfsSync(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}

/** What went wrong, as the end of "Cannot write <file>: …". */
function cause(error: unknown, free: number | undefined, expected: number, found: number | undefined): string {
  const code = systemErrorCode(error);
  if (code === 'ENOSPC') return 'the disk is full';
  if (code === 'EDQUOT') return 'your disk quota is used up';
  if (code === 'EIO') return 'the disk reported an input/output error';
  if (code === 'EFBIG') return 'the file system does not allow a file that large';
  if (code) return `the write failed (${code})`;
  if (error !== undefined) return `the write failed (${error instanceof Error ? error.message : String(error)})`;
  // No error, yet the file is not what was written: a short write that nobody checked.
  if (free !== undefined && free < expected) return 'the disk is full';
  return found === undefined ? 'the new file vanished' : `only ${found} of its ${expected} bytes reached the disk`;
}

/** Replaces the file with this text (and the same content as an object, for conf); see prepareReplace. */
export type Replace = (text: string, data: object) => void;

/**
 * Gets ready to replace the file at `target` (config.json, or the file its symlink points to) with conf:
 * leftovers of a killed write are removed and conf is set up (it reads the file) now, under the store's
 * lock and before the request whose answer will be stored, so that storing it is as short as it can be.
 *
 * The returned function writes `text` and makes sure it landed whole: afterwards the file is either
 * exactly `text` (mode 0600) or exactly what it was before, and then it throws a ConfigError naming
 * `shownPath` and the cause. `unwritable` turns a permission error into the store's sentence.
 */
export function prepareReplace(
  Conf: typeof import('conf').default,
  target: string,
  shownPath: string,
  unwritable: (error: unknown) => UserError,
): Replace {
  const previous = previousPath(target);
  // A kept old file is removed only beside a config.json: without one (moved aside after a failure, as the
  // error said), the kept file may be the last good copy the error pointed to.
  removeLeftovers(target, existsSync(target));
  let text = '';
  let conf: InstanceType<typeof Conf<Record<string, unknown>>> | undefined;
  let setUp: unknown;
  try {
    conf = new Conf<Record<string, unknown>>({
      projectName: 'yandex-token',
      projectSuffix: '',
      cwd: dirname(target),
      // The whole name, whatever it ends with (a symlink may point to any file name).
      configName: basename(target),
      fileExtension: '',
      configFileMode: 0o600,
      accessPropertiesByDotNotation: false,
      clearInvalidConfig: false,
      // The file was read (and checked) by Store.read just before; tolerate the same byte-order mark here.
      deserialize: (content: string) => JSON.parse(content.replace(/^\uFEFF/, '')) as Record<string, unknown>,
      // Exactly the text checked for size and compared with the file afterwards.
      serialize: () => {
        // Only the write below may write; conf's constructor must not (it would write an empty file).
        if (text === '') throw new Error('conf tried to write before the content was given');
        return text;
      },
    });
  } catch (caught) {
    // Reported by the write, if one is asked for: a run that changes nothing never learns of it.
    setUp = caught ?? new Error('conf failed');
  }
  return (newText, data) => {
    text = newText;
    const expected = Buffer.from(text, 'utf8');
    let hadOld: boolean;
    try {
      hadOld = keepOld(target, previous);
    } catch (error) {
      throw failure(shownPath, error, undefined, expected.length, undefined, unwritable);
    }
    let error: unknown = setUp;
    if (conf) {
      try {
        conf.store = data as Record<string, unknown>;
        chmodSync(target, 0o600);
      } catch (caught) {
        error = caught ?? new Error('conf failed');
      }
    }
    let found: Buffer | undefined;
    if (error === undefined) {
      try {
        found = readFileSync(target);
      } catch (caught) {
        error = caught;
      }
      if (found?.equals(expected)) {
        try {
          if (hadOld) unlinkSync(previous);
        } catch {
          // Removed by the next write.
        }
        return;
      }
    }
    const free = freeBytes(dirname(target));
    try {
      restore(target, previous, hadOld);
    } catch (restoreError) {
      throw new ConfigError(
        `Cannot write ${shownPath}: ${cause(error, free, expected.length, found?.length)}, and putting the old file back failed too (${systemErrorCode(restoreError) ?? String(restoreError)}); the old content is in ${previous}. Move it back over ${shownPath} once there is room.`,
      );
    }
    removeLeftovers(target, false);
    throw failure(shownPath, error, free, expected.length, found?.length, unwritable);
  };
}

function failure(
  shownPath: string,
  error: unknown,
  free: number | undefined,
  expected: number,
  found: number | undefined,
  unwritable: (error: unknown) => UserError,
): UserError {
  const code = systemErrorCode(error);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') return unwritable(error);
  if (error instanceof UserError) return error;
  return new ConfigError(
    `Cannot write ${shownPath}: ${cause(error, free, expected, found)}. It was left as it was; ${
      code === 'ENOSPC' || code === 'EDQUOT' || (code === undefined && free !== undefined && free < expected) ? 'free some space and' : 'check the disk, then'
    } run the command again.`,
  );
}
