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
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, freemem, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { run } from 'node:test';
import { spec, tap } from 'node:test/reporters';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * Seconds a file's tests took within `npm test` on a 2-core machine (its share of a busy machine: the CPU of
 * its processes, and its waits), as `node --import tsx test/run.ts --costs` tells them at the end; a file not
 * listed counts 1. Only the balance between the processes depends on them.
 */
const COST: Record<string, number> = {
  'pack.test.ts': 27,
  'hostile.test.ts': 27,
  'direct.test.ts': 23,
  'e2e-browser.test.ts': 19,
  'signals.test.ts': 15,
  'unreachable.test.ts': 14,
  'headless.test.ts': 12,
  'e2e-terminal.test.ts': 10,
  'lifecycle.test.ts': 10,
  'completion.test.ts': 7,
  'exec.test.ts': 6,
  'login.test.ts': 6,
  'recipes.test.ts': 5,
  'api.test.ts': 5,
  'renewal.test.ts': 4,
  'emulator-cli.test.ts': 4,
  'expiry.test.ts': 2,
  'emulator.test.ts': 2,
  'proxy.test.ts': 2,
  'iam.test.ts': 2,
  'main.test.ts': 2,
  'callback-pages.test.ts': 2,
};

/** Processes side by side: three a core (most tests wait on a child process or a server part of the time). */
const SHARDS = Math.max(2, availableParallelism() * 3);

const costs = process.argv.includes('--costs');
const named = process.argv.slice(2).filter((arg) => arg !== '--costs');
const files = (named.length > 0 ? named.map((file) => resolve(file)) : readdirSync(here).filter((name) => name.endsWith('.test.ts')).map((name) => join(here, name))).sort(
  (a, b) => (COST[basename(b)] ?? 1) - (COST[basename(a)] ?? 1) || a.localeCompare(b),
);
// A hook at a file's top level would belong to its whole process, and run around the other files' tests too.
const hooked = files.filter((file) => /^(before|after|beforeEach|afterEach)\(/m.test(readFileSync(file, 'utf8')));
if (hooked.length > 0) {
  process.stderr.write(`${hooked.join(', ')}: a hook at the top level of a test file; put it in a describe(), since npm test runs several files in one process.\n`);
  process.exit(1);
}

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
    // What a run that was killed left (or a CLI run that stored its renewal after the run was stopped).
    for (const name of readdirSync('/dev/shm').filter((name) => name.startsWith('yandex-token-tests-'))) {
      const path = join('/dev/shm', name);
      if (statSync(path).mtimeMs < Date.now() - 3_600_000) rmSync(path, { recursive: true, force: true });
    }
    const shm = statfsSync('/dev/shm');
    // A tmpfs may promise more than the memory there is: both must have the room.
    if (shm.type !== 0x01021994 || Math.min(shm.bavail * shm.bsize, freemem()) < 2 ** 30) return undefined;
    const folder = mkdtempSync('/dev/shm/yandex-token-tests-');
    // As /tmp: anyone may make a folder in it (the tests that run the CLI as another user), only the owner remove it.
    chmodSync(folder, 0o1777);
    const probe = join(folder, 'probe');
    writeFileSync(probe, '#!/bin/sh\n', { mode: 0o755 });
    const runs = spawnSync(probe).status === 0;
    rmSync(runs ? probe : folder, { recursive: true, force: true });
    if (runs) return folder;
  } catch {
    // No /dev/shm: /tmp it is.
  }
  return undefined;
}

// Each process's entry: a module that imports its files in order (node:test runs a file's tests as it
// registers them) between two of its own. The first points TMPDIR at the folder in memory, if there is one
// (only then: tsx, loaded before, keeps its cache of compiled files where it was; in a new TMPDIR it would
// start empty every time), and fails the process if it ends before the last file's tests did: a file that
// calls process.exit() must not pass for the files after it. The last says, once every test ran, that they did.
const memory = inMemory();
const folder = mkdtempSync(join(memory ?? tmpdir(), 'yandex-token-tests-'));
const first = join(folder, 'first.mjs');
writeFileSync(
  first,
  `${memory ? `process.env.TMPDIR = ${JSON.stringify(memory)};\n` : ''}globalThis.yandexTokenTestsDone = false;
process.on('exit', () => {
  if (!globalThis.yandexTokenTestsDone) {
    process.stderr.write('This process ended before all its test files had run (a process.exit()?).\\n');
    process.exitCode = 1;
  }
});
`,
);
const last = join(folder, 'last.mjs');
writeFileSync(last, `import { after } from 'node:test';\nafter(() => {\n  globalThis.yandexTokenTestsDone = true;\n});\n`);
const entries = shards.map((shard, i) => {
  const entry = join(folder, `${i + 1}-of-${shards.length}.mjs`);
  writeFileSync(entry, [first, ...shard.files, last].map((file) => `import ${JSON.stringify(pathToFileURL(file).href)};\n`).join(''));
  return entry;
});

// A process takes about 40 s here; one that runs past 5 minutes fails, with what it had done.
const stopping = new AbortController();
const stream = run({ files: entries, concurrency: shards.length, timeout: 5 * 60_000, signal: stopping.signal });
const failed = new Set<string>();
stream.on('test:fail', ({ name, nesting, todo }) => {
  // Node's own runner lets a failing todo test pass; so does this one.
  if (todo !== undefined && todo !== false) return;
  process.exitCode = 1;
  if (nesting === 0 && entries.includes(name)) failed.add(name);
});
stream.compose(process.stdout.isTTY ? new spec() : tap).pipe(process.stdout);
// --costs: the seconds each file's tests took, for COST above.
const took = new Map<string, number>();
const count = ({ file, nesting, details }: { file?: string; nesting: number; details: { duration_ms: number } }) => {
  if (costs && nesting === 0 && file) took.set(basename(file), (took.get(basename(file)) ?? 0) + details.duration_ms / 1000);
};
stream.on('test:pass', count);
stream.on('test:fail', count);
// The entries are gone with the folder: a process that failed as a whole is named by its files.
stream.on('end', () => {
  for (const entry of failed) process.stderr.write(`${entry} ran ${shards[entries.indexOf(entry)]!.files.map((file) => basename(file)).join(', ')}.\n`);
  if (costs) process.stderr.write([...took].sort((a, b) => b[1] - a[1]).map(([name, seconds]) => `  '${name}': ${Math.max(1, Math.round(seconds))},\n`).join(''));
});
process.on('exit', () => {
  // Retried whole for a second: a process the tests started (a CLI run when a signal stopped its test, a
  // detached browser) may still write there, and rmSync's own retries repeat only the last rmdir.
  for (let attempt = 1; ; attempt++) {
    try {
      return rmSync(memory ?? folder, { recursive: true, force: true });
    } catch (error) {
      if (attempt === 10) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
});
// A signal stops the test processes, then this one once they are gone and the CLI runs they started have had
// the 2 s a signalled renewal takes to store Yandex's answer (the folder is removed last); a second one at once.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.on(signal, () => {
    if (stopping.signal.aborted) process.exit(code);
    stopping.abort();
    stream.once('end', () => setTimeout(() => process.exit(code), 2_500));
  });
}
