// The package as npm ships it: `npm pack` holds the bin, the built JavaScript with its declarations and the
// README (with the license), and nothing else, and no install script; a fresh project installs the tarball
// (offline, from npm's cache) without a warning, logs in with the installed CLI, and gets the token through
// `import { getToken } from 'yandex-token'`, types included. And a fresh project installs an unbuilt clone.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { browserEnv, credentials, fakeYandex, freePort, makeHome, ROOT, tempDir } from './support/harness.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], options: { cwd: string; env: Record<string, string | undefined>; timeoutMs?: number }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr: error && error.killed ? `${stderr}\n(killed after ${options.timeoutMs ?? 60_000} ms)` : stderr });
    });
  });
}

/** This process's environment without what `npm test` adds (npm_config_*, npm_package_*), for a nested npm. */
function npmEnv(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
}

/** What the tarball may hold: the bin, JavaScript and declarations under dist/, and npm's own files. */
const ALLOWED = [/^package\.json$/, /^README\.md$/, /^LICENSE$/, /^bin\/yandex-token\.cjs$/, /^dist\/(help|completion)\.json$/, /^dist\/(print|cli|direct)\.cjs\.map$/, /^dist\/[\w/-]+\.c?js$/, /^dist\/[\w/-]+\.d\.ts$/];
const REQUIRED = ['package.json', 'README.md', 'bin/yandex-token.cjs', 'dist/cli.cjs', 'dist/direct.cjs', 'dist/print.cjs', 'dist/help.json', 'dist/completion.json', 'dist/index.js', 'dist/index.d.ts', 'dist/api.d.ts', 'dist/errors.d.ts'];

interface PackReport {
  filename: string;
  files: { path: string; mode: number }[];
}

/**
 * `npm pack`, once for the file: its report and the tarball's path. With its scripts, as a person runs it:
 * `prepare` finds dist/ up to date (npm test has just built it) and leaves it alone while other test files
 * run the CLI from it; prepack/postpack keep `prepare` out (and change package.json meanwhile, so nothing
 * here copies it before the pack is done).
 */
let packing: Promise<{ report: PackReport; tarball: string }> | undefined;
let packDir: string | undefined;
function packOnce(): Promise<{ report: PackReport; tarball: string }> {
  packing ??= (async () => {
    packDir = mkdtempSync(join(tmpdir(), 'yandex-token-pack-'));
    const pack = await run('npm', ['pack', '--json', '--pack-destination', packDir], { cwd: ROOT, env: npmEnv() });
    assert.equal(pack.code, 0, pack.stderr);
    const [report] = JSON.parse(pack.stdout) as [PackReport];
    return { report, tarball: join(packDir, report.filename) };
  })();
  return packing;
}
/**
 * `file` type-checked as tsc would (strict, NodeNext, @types/node) in `project`, and with it every declaration
 * file of the installed packages but @types/node's and undici-types' own (tsc checks those too, for 4 of its 5 s
 * of CPU, and they are not this package's): the files checked and their errors as tsc prints them. In this
 * process, through TypeScript's API (required: an import() would have Node scan its 9 MB for exports): no
 * second Node start-up. With ES2022's library and no DOM, as a Node program is often built: the package's
 * types must not need the browser's (and TypeScript reads a third less).
 */
async function typeCheck(project: string, file: string): Promise<{ checked: string[]; errors: string }> {
  const ts = createRequire(import.meta.url)('typescript') as typeof import('typescript');
  const options: import('typescript').CompilerOptions = {
    noEmit: true,
    strict: true,
    lib: ['lib.es2022.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    typeRoots: [join(ROOT, 'node_modules', '@types')],
    types: ['node'],
  };
  const program = ts.createProgram([join(project, file)], options);
  const foreign = /\/node_modules\/(@types\/node|undici-types)\//;
  const checked = program.getSourceFiles().filter((source) => !program.isSourceFileDefaultLibrary(source) && !foreign.test(source.fileName));
  const diagnostics = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics(), ...checked.flatMap((source) => [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)])];
  const host = { getCanonicalFileName: (name: string) => name, getCurrentDirectory: () => project, getNewLine: () => '\n' };
  return { checked: checked.map((source) => source.fileName), errors: ts.formatDiagnostics(diagnostics, host) };
}

/** The clone as git holds it: the top level the project keeps, and no node_modules or dist/. */
function unbuiltClone(into: string): string {
  const clone = join(into, 'clone');
  mkdirSync(clone);
  for (const name of ['package.json', 'package-lock.json', 'tsconfig.json', 'README.md', 'bin', 'src']) cpSync(join(ROOT, name), join(clone, name), { recursive: true });
  return clone;
}

// Each test waits on npm and child processes: side by side.
describe('the package', { concurrency: true }, () => {
  after(() => {
    if (packDir) rmSync(packDir, { recursive: true, force: true });
  });

  test('npm pack ships the bin, dist (JavaScript, .d.ts, the bundles\' maps) and the README, and no tests, sources, other maps or secrets', { timeout: 90_000 }, async () => {
    const { report } = await packOnce();
    const files = report.files.map((f) => f.path).sort();
    for (const path of files) assert.ok(ALLOWED.some((re) => re.test(path)), `${path} should not be in the package`);
    for (const path of REQUIRED) assert.ok(files.includes(path), `${path} is missing from the package`);
    assert.ok(!files.some((p) => /(^|\/)(test|src)\//.test(p) || (p.endsWith('.map') && !/^dist\/(print|cli|direct)\.cjs\.map$/.test(p)) || /\.ts$/.test(p.replace(/\.d\.ts$/, ''))), files.join('\n'));
    assert.ok(!files.some((p) => /(^|\/)(\.npmrc|\.env|config\.json)$|\.(tgz|pem|key)$/.test(p)), files.join('\n'));
    const bin = report.files.find((f) => f.path === 'bin/yandex-token.cjs')!;
    assert.equal(bin.mode & 0o111, 0o111, 'the bin is executable');

    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.deepEqual(manifest.exports['.'], { types: './dist/index.d.ts', default: './dist/index.js' });
    assert.equal(manifest.bin['yandex-token'], 'bin/yandex-token.cjs');
    assert.equal(manifest.scripts.prepare, 'node src/prepare.mjs', 'postpack put `prepare` back');
    // The README carries the license text (npm shows it), as its last section.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    assert.match(readme.slice(readme.lastIndexOf('\n## ')), /^\n## License\n\nMIT License\n[\s\S]*Permission is hereby granted, free of charge/);
  });

  test('a fresh project installs an unbuilt clone (`npm install --omit=dev /path/to/clone`): prepare installs its dependencies there, builds with the build tools in a temporary folder, and leaves no devDependency', { timeout: 300_000 }, async (t) => {
    // Not the tarball: package.json as it is once the pack has put `prepare` back.
    await packOnce();
    const out = tempDir(t);
    const clone = unbuiltClone(out);
    const project = join(out, 'consumer');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
    // The build tools' temporary folder goes here, to be seen gone afterwards.
    const temporary = join(out, 'tmp');
    mkdirSync(temporary);
    const env = { ...npmEnv(), TMPDIR: temporary };
    let install = await run('npm', ['install', '--omit=dev', '--offline', '--no-audit', '--no-fund', clone], { cwd: project, env, timeoutMs: 240_000 });
    if (install.code !== 0 && /ENOTCACHED/.test(install.stderr)) {
      t.diagnostic('a package was not in npm\'s cache; installing with --prefer-offline');
      install = await run('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', clone], { cwd: project, env, timeoutMs: 240_000 });
    }
    assert.equal(install.code, 0, install.stdout + install.stderr);
    assert.doesNotMatch(install.stderr, /tsc: not found/);
    // The dependencies are there (npm links the clone and installs nothing in it), the devDependencies not.
    const manifest = JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8'));
    const installed = (name: string) => existsSync(join(clone, 'node_modules', name, 'package.json'));
    assert.deepEqual(Object.keys(manifest.dependencies).filter((name) => !installed(name)), [], 'every dependency is installed in the clone');
    assert.deepEqual(Object.keys(manifest.devDependencies).filter(installed), [], 'no devDependency is installed in the clone');
    assert.deepEqual(readdirSync(temporary).filter((name) => name.startsWith('yandex-token-build-')), [], 'the build tools\' folder is removed');
    const bin = join(project, 'node_modules', '.bin', 'yandex-token');
    const version = await run(bin, ['--version'], { cwd: project, env: npmEnv() });
    assert.equal(version.code, 0, version.stderr);
    assert.equal(version.stdout, `${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}\n`);
    const home = makeHome(t);
    const print = await run(bin, ['print'], { cwd: project, env: home.env });
    assert.equal(print.code, 4, print.stderr);
    assert.match(print.stderr, /yandex-token login/);
  });

  test('a temp project installs the tarball, logs in with its CLI, and imports getToken to get the token', { timeout: 180_000 }, async (t) => {
    const out = tempDir(t);
    const { tarball } = await packOnce();

    const project = join(out, 'consumer');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
    // The dependencies come from npm's cache, filled by `npm ci`; --prefer-offline only if one is missing there.
    // With scripts allowed: the tarball has none, so npm has nothing to warn about.
    const flags = ['--no-audit', '--no-fund', '--no-package-lock'];
    let install = await run('npm', ['install', '--offline', ...flags, tarball], { cwd: project, env: npmEnv(), timeoutMs: 60_000 });
    if (install.code !== 0 && /ENOTCACHED/.test(install.stderr)) {
      t.diagnostic('a dependency was not in npm\'s cache; installing with --prefer-offline');
      install = await run('npm', ['install', '--prefer-offline', ...flags, tarball], { cwd: project, env: npmEnv(), timeoutMs: 120_000 });
    }
    assert.equal(install.code, 0, install.stderr);
    assert.doesNotMatch(install.stderr, /install-scripts|allowScripts/, 'no warning about scripts');
    const shipped = JSON.parse(readFileSync(join(project, 'node_modules', 'yandex-token', 'package.json'), 'utf8'));
    assert.equal(shipped.scripts?.prepare, undefined, 'the tarball carries no prepare');
    assert.match(readFileSync(join(project, 'node_modules', 'yandex-token', 'README.md'), 'utf8'), /## License\n\nMIT License/);

    // Log in with the installed CLI, against the emulator.
    const yandex = await fakeYandex(t);
    const home = makeHome(t, yandex);
    const installedBin = join(project, 'node_modules', '.bin', 'yandex-token');
    const login = await run(installedBin, ['login', ...credentials(), '--port', String(await freePort()), '--profile', 'packed'], {
      cwd: project,
      env: browserEnv(home),
    });
    assert.equal(login.code, 0, login.stderr);
    const config = JSON.parse(readFileSync(home.configFile, 'utf8'));
    const stored = config.profiles.packed;
    // A copy due for renewal (obtained 100 days ago): getToken renews it through the API's own bundled conf
    // and lock, in the chunks dist/index.js loads for a renewal.
    config.profiles.due = { ...stored, obtainedAt: new Date(Date.now() - 100 * 86_400_000).toISOString() };
    writeFileSync(home.configFile, JSON.stringify(config));

    writeFileSync(
      join(project, 'index.js'),
      `import { getToken, getCredentials, NotLoggedInError } from 'yandex-token';
  const token = await getToken({ profile: 'packed' });
  const { login } = await getCredentials({ profile: 'packed' });
  const missing = await getToken({ profile: 'nobody' }).catch((error) => error instanceof NotLoggedInError);
  const renewed = await getToken({ profile: 'due', onWarning: (message) => console.error(message) });
  let deep;
  try { await import('yandex-token/dist/cli.js'); deep = 'importable'; } catch (error) { deep = error.code; }
  console.log(JSON.stringify({ token, login, missing, deep, renewed }));
  `,
    );
    const script = await run(process.execPath, ['index.js'], { cwd: project, env: home.env });
    assert.equal(script.code, 0, script.stderr);
    assert.equal(script.stderr, '');
    const { renewed, ...rest } = JSON.parse(script.stdout);
    assert.deepEqual(rest, { token: stored.accessToken, login: 'demo.user', missing: true, deep: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
    const profiles = JSON.parse(readFileSync(home.configFile, 'utf8')).profiles;
    // Renewed (a warning would be on stderr): the rotated refresh token and the new time are stored (the
    // emulator, as Yandex, keeps the access token while it has more than half its life left).
    assert.equal(renewed, profiles.due.accessToken);
    assert.notEqual(profiles.due.refreshToken, stored.refreshToken, 'the rotated refresh token is stored');
    assert.ok(Date.parse(profiles.due.obtainedAt) > Date.now() - 86_400_000, profiles.due.obtainedAt);
    assert.equal(statSync(home.configFile).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(home.configDir), ['config.json'], 'no lock or kept file left');

    // The declarations: a strict TypeScript consumer compiles against them (and they compile themselves).
    writeFileSync(
      join(project, 'check.ts'),
      `import { getToken, login, OAuthError, NotLoggedInError, type Credentials, type GetTokenOptions } from 'yandex-token';
  const options: GetTokenOptions = { profile: 'packed', onWarning: (message: string) => void message };
  const token: Promise<string> = getToken(options);
  const creds: Promise<Credentials> = login({ clientId: 'id', clientSecret: 'secret', mode: 'device', onDeviceCode: ({ userCode }) => void userCode });
  export function branch(error: unknown): string | undefined {
    if (error instanceof NotLoggedInError) return error.message;
    if (error instanceof OAuthError) return error.code;
    return undefined;
  }
  // @ts-expect-error clientSecret is required
  void login({ clientId: 'id' });
  void token;
  void creds;
  `,
    );
    const { checked, errors } = await typeCheck(project, 'check.ts');
    assert.equal(errors, '');
    const declarations = join(project, 'node_modules', 'yandex-token', 'dist');
    for (const name of ['index.d.ts', 'api.d.ts', 'errors.d.ts']) assert.ok(checked.includes(join(declarations, name)), `${name} was checked: ${checked.join(', ')}`);
  });
});
