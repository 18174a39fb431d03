// npm's scripts around the build, so that every way of installing works (issue 18):
//
//   node src/prepare.mjs          `prepare`: what `npm install` runs in a clone, and what `npm install <clone>`
//                                 and `npm install -g .` run in it. Builds dist/ unless it is up to date. On
//                                 an unbuilt clone without the build tools (typescript, esbuild, the @types:
//                                 devDependencies, which `--omit=dev` and those installs leave out) it builds
//                                 with a copy of them installed in a temporary folder (npm ci, at the
//                                 lockfile's versions), removed afterwards: the clone gets no devDependency.
//                                 When its dependencies are missing too (`npm install <clone>` links the
//                                 folder and installs nothing in it), it first installs them there, without
//                                 the devDependencies (npm ci --omit=dev).
//   node src/prepare.mjs pack     `prepack`: drops `prepare` from package.json while npm packs it, so that the
//   node src/prepare.mjs unpack   tarball (which carries dist/, built) has no install script to warn about;
//                                 `postpack` puts the line back, byte for byte. npm runs no postpack when the
//                                 pack fails, so every build (src/build.mjs) puts it back too.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
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

function run(command, args, { cwd = root, env = process.env } = {}) {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit', env });
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

/** typescript and esbuild as `folder` resolves them, or undefined when it has not both. */
function buildTools(folder) {
  const require = createRequire(join(folder, 'package.json'));
  try {
    return { tsc: require.resolve('typescript/bin/tsc'), esbuild: require.resolve('esbuild') };
  } catch {
    return undefined;
  }
}

/**
 * The environment for npm in the clone or the tools' folder: the caller's npm settings (cache, registry,
 * offline) but none that would make it install somewhere else, or leave out what it is asked for.
 */
function npmEnv() {
  const dropped = /^npm_config_(global|location|prefix|local_prefix|global_prefix|omit|include|production|only|dev|save.*|package_lock.*|dry_run|workspaces?|install_links|ignore_scripts)$/i;
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !dropped.test(key) && !/^npm_(command|lifecycle_.*)$/i.test(key)));
}

/** npm as the one running this script runs (its own copy), else the one on the PATH. */
function npm(args, cwd) {
  const command = process.env.npm_execpath && existsSync(process.env.npm_execpath) ? [process.execPath, process.env.npm_execpath] : ['npm'];
  run(command[0], [...command.slice(1), ...args, '--ignore-scripts', '--no-audit', '--no-fund'], { cwd, env: npmEnv() });
}

/** Every package in package.json's dependencies is there for the clone's code to load. */
function dependenciesInstalled(manifest) {
  const require = createRequire(join(root, 'package.json'));
  return Object.keys(manifest.dependencies ?? {}).every((name) => (require.resolve.paths(name) ?? []).some((folder) => existsSync(join(folder, name, 'package.json'))));
}

/**
 * The lockfile's entries for `names` and all they depend on (optional ones too: esbuild's binary), as a
 * lockfile of their own: `npm ci` then installs exactly the versions the clone is built with.
 */
function lockOf(lock, names, manifest) {
  const packages = { '': manifest };
  const find = (from, name) => {
    // Node's lookup in the lockfile's paths: the package's own node_modules, then each one above it.
    for (let at = from; ; at = at.slice(0, Math.max(0, at.lastIndexOf('/node_modules/')))) {
      const path = `${at ? `${at}/` : ''}node_modules/${name}`;
      if (lock.packages[path]) return path;
      if (!at) return undefined;
    }
  };
  const visit = (path) => {
    if (!path || packages[path]) return;
    const { dev, devOptional, peer, ...entry } = lock.packages[path];
    packages[path] = entry;
    for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) visit(find(path, name));
  };
  for (const name of names) visit(find('', name));
  return { name: manifest.name, lockfileVersion: 3, requires: true, packages };
}

/**
 * typescript, esbuild and the @types the clone's devDependencies name, installed in `folder` at the
 * lockfile's versions (at package.json's ranges without one), with a tsconfig.json there that builds the
 * clone with them: the @types found in that folder rather than in the clone.
 */
function installBuildTools(folder, manifest) {
  const names = Object.keys(manifest.devDependencies ?? {}).filter((name) => ['typescript', 'esbuild'].includes(name) || name.startsWith('@types/'));
  const lockPath = join(root, 'package-lock.json');
  const lock = existsSync(lockPath) ? JSON.parse(readFileSync(lockPath, 'utf8')) : undefined;
  const version = (name) => lock?.packages?.[`node_modules/${name}`]?.version ?? manifest.devDependencies[name];
  const tools = { name: 'yandex-token-build-tools', version: '0.0.0', private: true, dependencies: Object.fromEntries(names.map((name) => [name, version(name)])) };
  writeFileSync(join(folder, 'package.json'), JSON.stringify(tools));
  if (lock?.packages) writeFileSync(join(folder, 'package-lock.json'), JSON.stringify(lockOf(lock, names, tools)));
  npm(lock?.packages ? ['ci'] : ['install', '--no-package-lock'], folder);
  const types = join(folder, 'node_modules', '@types');
  // `@types/a__b` holds the types of `@a/b`.
  const typed = names.filter((name) => name.startsWith('@types/') && name !== '@types/node').map((name) => name.slice('@types/'.length));
  const entry = (name) => {
    const { types: file, typings } = JSON.parse(readFileSync(join(types, name, 'package.json'), 'utf8'));
    return join(types, name, file ?? typings ?? 'index.d.ts');
  };
  const paths = Object.fromEntries(typed.map((name) => [name.includes('__') ? `@${name.replace('__', '/')}` : name, [entry(name)]]));
  writeFileSync(join(folder, 'tsconfig.json'), JSON.stringify({ extends: join(root, 'tsconfig.json'), compilerOptions: { typeRoots: [types], paths } }));
}

function prepare() {
  if (upToDate()) return;
  const own = buildTools(root);
  if (own) {
    run(process.execPath, [join(root, 'src', 'build.mjs')]);
    return;
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  if (!dependenciesInstalled(manifest)) {
    process.stderr.write(`yandex-token: installing the dependencies in ${root} (without the devDependencies) to build it…\n`);
    npm(existsSync(join(root, 'package-lock.json')) ? ['ci', '--omit=dev'] : ['install', '--omit=dev', '--no-save'], root);
  }
  const folder = mkdtempSync(join(tmpdir(), 'yandex-token-build-'));
  // On exit rather than in a finally: fail() exits at once.
  process.on('exit', () => rmSync(folder, { recursive: true, force: true }));
  process.stderr.write(`yandex-token: installing the build tools (typescript, esbuild) in ${folder} to build ${root}…\n`);
  installBuildTools(folder, manifest);
  const tools = buildTools(folder);
  if (!tools) fail(`typescript and esbuild are still missing from ${join(folder, 'node_modules')}: run \`npm install\` in ${root}, then \`npm run build\`.`);
  run(process.execPath, [join(root, 'src', 'build.mjs'), '--tools', folder]);
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
