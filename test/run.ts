// `npm test`'s runner: the test files (all of test/*.test.ts, or those named) in a few processes, several
// files to a process, instead of one process each as `node --test` runs them. A file's process costs about
// half a second of CPU before its first test (Node, tsx's loader thread, src/ and its packages loaded and
// compiled again), which for 37 files was a fifth of the suite's CPU; in a few processes each module is
// loaded and compiled once per process. Each file still runs alone with `node --import tsx --test FILE`.
//
// The files are dealt to SHARDS processes, the costliest first, each to the process with the least work so
// far; a process runs its files one after another (the tests that mostly wait run side by side within their
// file), and the processes run side by side through node:test's own runner, with its reporters and its exit.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { run } from 'node:test';
import { spec, tap } from 'node:test/reporters';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * Seconds a file's tests took within `npm test` on a 2-core machine (its share of a busy machine: the CPU of
 * its processes, and its waits); a file not listed counts 1. Only the balance between the processes
 * depends on them.
 */
const COST: Record<string, number> = {
  'pack.test.ts': 27,
  'hostile.test.ts': 27,
  'direct.test.ts': 22,
  'e2e-browser.test.ts': 19,
  'signals.test.ts': 15,
  'unreachable.test.ts': 14,
  'headless.test.ts': 10,
  'e2e-terminal.test.ts': 10,
  'lifecycle.test.ts': 9,
  'login.test.ts': 6,
  'recipes.test.ts': 6,
  'completion.test.ts': 5,
  'exec.test.ts': 4,
  'api.test.ts': 4,
  'renewal.test.ts': 3,
  'emulator-cli.test.ts': 3,
  'proxy.test.ts': 3,
  'iam.test.ts': 3,
  'callback-pages.test.ts': 2,
  'emulator.test.ts': 2,
  'expiry.test.ts': 2,
};

/** Processes side by side: three a core (most tests wait on a child process or a server part of the time). */
const SHARDS = Math.max(2, availableParallelism() * 3);

const files = (process.argv.length > 2 ? process.argv.slice(2).map((file) => resolve(file)) : readdirSync(here).filter((name) => name.endsWith('.test.ts')).map((name) => join(here, name))).sort(
  (a, b) => (COST[basename(b)] ?? 1) - (COST[basename(a)] ?? 1) || a.localeCompare(b),
);
const shards = Array.from({ length: Math.min(SHARDS, files.length) }, () => ({ cost: 0, files: [] as string[] }));
for (const file of files) {
  const lightest = shards.reduce((least, shard) => (shard.cost < least.cost ? shard : least));
  lightest.cost += COST[basename(file)] ?? 1;
  lightest.files.push(file);
}

/**
 * A folder in /dev/shm for the tests' temporary folders (homes and their config files, clones, browser
 * profiles), unless TMPDIR says where they go: when /dev/shm is a tmpfs with a gigabyte free that lets programs
 * run from it. Nothing reaches the disk, and the CLI's fsync of every write it makes has no disk to wait for:
 * about a tenth of the suite's time on a 2-core machine with an ext4 /tmp.
 */
function inMemory(): string | undefined {
  if (process.env.TMPDIR) return undefined;
  try {
    const shm = statfsSync('/dev/shm');
    if (shm.type !== 0x01021994 || shm.bavail * shm.bsize < 2 ** 30) return undefined;
    const folder = mkdtempSync('/dev/shm/yandex-token-tests-');
    // As /tmp: anyone may make a folder in it (the tests that run the CLI as another user), only the owner remove it.
    chmodSync(folder, 0o1777);
    const probe = join(folder, 'probe');
    writeFileSync(probe, '#!/bin/sh\n', { mode: 0o755 });
    if (spawnSync(probe).status === 0) return folder;
    rmSync(folder, { recursive: true, force: true });
  } catch {
    // No /dev/shm: /tmp it is.
  }
  return undefined;
}

// Each process's entry: a module that imports its files in order (node:test runs a file's tests as it
// registers them), after one that points TMPDIR at the folder in memory, if there is one. Only then: tsx,
// loaded before, keeps its cache of compiled files where it was (in TMPDIR, it would start empty every time).
const memory = inMemory();
const folder = mkdtempSync(join(memory ?? tmpdir(), 'yandex-token-tests-'));
process.on('exit', () => rmSync(memory ?? folder, { recursive: true, force: true }));
// Ctrl-C (the test processes get it too) still removes the folder, whose files hold memory.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) process.once(signal, () => process.exit(code));
const setTmp = join(folder, 'tmpdir.mjs');
writeFileSync(setTmp, memory ? `process.env.TMPDIR = ${JSON.stringify(memory)};\n` : '');
const entries = shards.map((shard, i) => {
  const entry = join(folder, `${i + 1}-of-${shards.length}.mjs`);
  writeFileSync(entry, [setTmp, ...shard.files].map((file) => `import ${JSON.stringify(pathToFileURL(file).href)};\n`).join(''));
  return entry;
});

// A process that runs past 10 minutes fails (`node --test --test-timeout` bounds a whole file's process too).
const stream = run({ files: entries, concurrency: shards.length, timeout: 10 * 60_000 });
stream.on('test:fail', () => {
  process.exitCode = 1;
});
stream.compose(process.stdout.isTTY ? new spec() : tap).pipe(process.stdout);
