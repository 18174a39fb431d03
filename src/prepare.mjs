// npm's scripts around the build, so that every way of installing works (issue 18):
//
//   node src/prepare.mjs          `prepare`: what `npm install` runs in a clone, and what `npm install <clone>`
//                                 and `npm install -g .` run in it. Builds dist/ unless it is up to date; on
//                                 an unbuilt clone without the build tools (typescript, esbuild: devDependencies,
//                                 which those installs leave out) it first installs them there with npm ci.
//   node src/prepare.mjs pack     `prepack`: drops `prepare` from package.json while npm packs it, so that the
//   node src/prepare.mjs unpack   tarball (which carries dist/, built) has no install script to warn about;
//                                 `postpack` puts the line back, byte for byte. npm runs no postpack when the
//                                 pack fails, so every build (src/build.mjs) puts it back too.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const manifestPath = join(root, 'package.json');
const PREPARE_LINE = '    "prepare": "node src/prepare.mjs",\n';
const AFTER_LINE = /^ {4}"build": .*\n/m;

function fail(message) {
  process.stderr.write(`yandex-token: ${message}\n`);
  process.exit(1);
}

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  if (result.status !== 0) fail(`\`${[command, ...args].join(' ')}\` failed (exit ${result.status ?? result.signal}).`);
}

/** The newest modification time under `path` (a file or a folder). */
function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/** dist/ holds every output, none older than the sources: nothing to build. */
function upToDate() {
  const outputs = ['print.cjs', 'cli.cjs', 'direct.cjs', 'help.json', 'index.js', 'index.d.ts'].map((name) => join(root, 'dist', name));
  if (!outputs.every((path) => existsSync(path))) return false;
  const built = Math.min(...outputs.map((path) => statSync(path).mtimeMs));
  const sources = ['src', 'tsconfig.json'].map((name) => join(root, name)).filter((path) => existsSync(path));
  return Math.max(...sources.map(newest)) <= built;
}

function buildTools() {
  const require = createRequire(join(root, 'package.json'));
  try {
    return { tsc: require.resolve('typescript/bin/tsc'), esbuild: require.resolve('esbuild') };
  } catch {
    return undefined;
  }
}

/**
 * The environment for npm ci in the clone: the caller's npm settings (cache, registry, offline) but none
 * that would make it install somewhere else or leave the build tools out.
 */
function ciEnv() {
  const dropped = /^npm_config_(global|location|prefix|omit|include|production|only|dev|save.*|package_lock.*|dry_run|workspaces?|install_links|ignore_scripts)$/i;
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !dropped.test(key) && !/^npm_(command|lifecycle_.*)$/i.test(key)));
}

function prepare() {
  if (upToDate()) return;
  if (!buildTools()) {
    process.stderr.write(`yandex-token: installing the build tools (typescript, esbuild) in ${root} to build it…\n`);
    const npm = process.env.npm_execpath && existsSync(process.env.npm_execpath) ? [process.execPath, process.env.npm_execpath] : ['npm'];
    const lock = existsSync(join(root, 'package-lock.json'));
    const args = lock ? ['ci', '--include=dev', '--ignore-scripts', '--no-audit', '--no-fund'] : ['install', '--include=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--no-save'];
    run(npm[0], [...npm.slice(1), ...args], ciEnv());
    if (!buildTools()) fail(`typescript and esbuild are still missing from ${join(root, 'node_modules')}: run \`npm install\` there, then \`npm run build\`.`);
  }
  const { tsc } = buildTools();
  run(process.execPath, [tsc, '-p', 'tsconfig.json']);
  run(process.execPath, [join(root, 'src', 'build.mjs')]);
}

/** package.json replaced whole (a temporary file renamed over it): a reader never sees half of it. */
function writeManifest(text) {
  const temporary = `${manifestPath}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, manifestPath);
}

function pack() {
  const text = readFileSync(manifestPath, 'utf8');
  if (!text.includes(PREPARE_LINE)) fail(`package.json has no line ${JSON.stringify(PREPARE_LINE.trim())} to leave out of the tarball.`);
  writeManifest(text.replace(PREPARE_LINE, ''));
}

function unpack() {
  const text = readFileSync(manifestPath, 'utf8');
  if (text.includes(PREPARE_LINE)) return;
  const after = AFTER_LINE.exec(text);
  if (!after) fail('package.json has no "build" script line to put "prepare" back after.');
  const at = after.index + after[0].length;
  writeManifest(text.slice(0, at) + PREPARE_LINE + text.slice(at));
}

const step = process.argv[2];
if (step === 'pack') pack();
else if (step === 'unpack') unpack();
else if (step === undefined) prepare();
else fail(`unknown step ${step}: expected nothing, pack or unpack.`);
