// `npm run build`: tsc, which checks the types and writes the declarations (dist/**/*.d.ts), in a process of
// its own while esbuild writes the rest:
//
//   dist/print.cjs  src/entry/print-fast.ts: what bin/ runs for every command line (see that file).
//   dist/direct.cjs src/entry/direct.ts: a print it parsed but cannot answer (a renewal), refresh, status.
//   dist/cli.cjs    src/entry/cli.ts: the full CLI, loaded by print.cjs for anything else.
//   dist/help.json  every help page, rendered by commander in the built CLI, for print.cjs to answer --help.
//   dist/completion.json  the completion scripts, likewise, for print.cjs to answer `completion <shell>`.
//   dist/index.js   src/index.ts: the Node API (`import { getToken } from 'yandex-token'`), an ES module,
//                   with what it loads lazily in dist/index/.
//
// Four independent builds: the code they share (reading the file, the token rules; the commands, conf and
// the lock) is in each that needs it, and no bundle loads another's modules. CommonJS for the CLI because Node 20
// starts it several milliseconds faster than an ES module. Minified, with maps beside them that turn a stack
// trace back into src/ lines when DEBUG is set (bin/ enables them then).
//
// `node src/build.mjs --tools FOLDER` (src/prepare.mjs, for a clone without its devDependencies) builds with
// the typescript and esbuild installed in FOLDER and its tsconfig.json, and writes the declarations without
// the type check (tsc --noCheck: the same files in about half the time; an install has no use for the check).
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const toolsAt = process.argv[2] === '--tools' ? resolve(process.argv[3]) : undefined;
const tools = createRequire(join(toolsAt ?? root, 'package.json'));
const tscArgs = toolsAt ? ['-p', join(toolsAt, 'tsconfig.json'), '--noCheck'] : ['-p', join(root, 'tsconfig.json')];
const tsc = spawn(process.execPath, [tools.resolve('typescript/bin/tsc'), ...tscArgs], { cwd: root, stdio: 'inherit' });
const typesWritten = new Promise((done) => tsc.on('close', (code) => done(code === 0)));
// A build that fails here stops tsc too.
process.on('exit', () => tsc.exitCode === null && tsc.kill());
const { build } = await import(pathToFileURL(tools.resolve('esbuild')).href);
// An `npm pack` that failed midway leaves package.json without its `prepare` line (src/prepare.mjs): back.
if (spawnSync(process.execPath, [resolve(root, 'src', 'prepare.mjs'), 'unpack'], { stdio: 'inherit' }).status !== 0) process.exit(1);
const packages = ['commander', 'conf', 'open', 'prompts', 'proper-lockfile', 'undici'];
const common = { absWorkingDir: root, bundle: true, platform: 'node', target: 'node20', logLevel: 'warning', minify: true, sourcemap: 'linked', sourcesContent: false };

// Built-in modules that cli.cjs's modules import at load but most runs never call, loaded when something
// first reads one of their exports: node:child_process (commander's, for stand-alone subcommand executables,
// which we do not use; it costs more than commander itself; and exec's) and node:crypto (~4 ms: PKCE, the
// emulator, conf's encryption). The stand-in has a getter for each export the module has at build time, so
// that esbuild's import interop (which copies a module's own properties) keeps them lazy.
const requireHere = createRequire(import.meta.url);
const lazyBuiltins = {
  name: 'lazy built-ins',
  setup(b) {
    b.onResolve({ filter: /^node:(child_process|crypto)$/ }, (args) => (args.namespace === 'required' || args.namespace === 'lazy' ? undefined : { path: args.path, namespace: 'lazy' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => ({
      contents: `let loaded;
const load = () => (loaded ??= require(${JSON.stringify(args.path)}));
for (const name of ${JSON.stringify(Object.keys(requireHere(args.path)))}) Object.defineProperty(exports, name, { get: () => load()[name], enumerable: true });`,
    }));
  },
};

// `await import('node:http')` (and of prompts and undici, CommonJS packages) in a CommonJS bundle goes
// through Node's ES-module loader, which costs its first caller a few milliseconds to set up (every request:
// src/yandex/http.ts): the build turns such an import of a built-in or a CommonJS package into require(),
// still made only when the import runs. (open is an ES module: it stays an import().)
const requireWhenImported = {
  name: 'require when imported',
  setup(b) {
    b.onResolve({ filter: /^(node:.*|prompts|undici)$/ }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, namespace: 'required' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'required' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});` }));
  },
};

// conf and proper-lockfile are bundled into cli.cjs, direct.cjs and the Node API: loaded from node_modules
// through import(), a renewal paid ~85 ms for conf (an ES module graph) and ~10 ms for the lock; bundled, a
// few. The lock's graceful-fs is plain node:fs there (~3 ms less to load): graceful-fs retries only open,
// readFile, writeFile, appendFile, copyFile and readdir when a process runs out of file descriptors, and the
// lock calls none of them (mkdir, stat, utimes, rmdir, realpath), so nothing is lost, in a long-lived process
// using the API either. conf imports ajv and ajv-formats for a schema, semver for migrations and debounce-fn
// for watching, all at load, though it calls them only with options store/write.ts never passes (schema,
// ajvOptions, rootSchema, migrations, watch): they are left out, for stubs that throw if conf ever calls
// them. A conf that did (another version in package-lock.json) fails every write: test/storage.test.ts
// writes through the CLI's two bundles, test/pack.test.ts through the packed API.
const slimConf = {
  name: 'slim conf',
  setup(b) {
    b.onResolve({ filter: /^(ajv\/dist\/2020\.js|ajv-formats|semver|debounce-fn)$/ }, (args) =>
      /[\\/]node_modules[\\/]conf[\\/]/.test(args.importer) ? { path: args.path, namespace: 'left-out' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
      contents: `const leftOut = () => { throw new Error(${JSON.stringify(`conf called ${args.path}, which src/build.mjs leaves out of the bundle: an option it needs was passed`)}); };\nmodule.exports = Object.assign(leftOut, { default: leftOut, Ajv2020: leftOut });`,
    }));
  },
};

await build({ ...common, format: 'cjs', entryPoints: ['src/entry/print-fast.ts'], outfile: 'dist/print.cjs', external: ['./cli.cjs', './direct.cjs', ...packages] });
// cli.cjs and direct.cjs: two independent bundles of the same modules (direct.cjs is cli.cjs without
// commander and the commands it does not run); each loaded only by print.cjs, never by the other.
const full = { ...common, format: 'cjs', external: packages.filter((name) => !['commander', 'conf', 'proper-lockfile'].includes(name)), alias: { 'graceful-fs': 'node:fs' }, plugins: [requireWhenImported, lazyBuiltins, slimConf] };
await build({ ...full, entryPoints: ['src/entry/cli.ts'], outfile: 'dist/cli.cjs' });
await build({ ...full, entryPoints: ['src/entry/direct.ts'], outfile: 'dist/direct.cjs' });
const { renderCompletionScripts, renderHelpPages } = createRequire(import.meta.url)(resolve(root, 'dist', 'cli.cjs'));
writeFileSync(resolve(root, 'dist', 'help.json'), `${JSON.stringify(await renderHelpPages(), null, 2)}\n`);
writeFileSync(resolve(root, 'dist', 'completion.json'), `${JSON.stringify(await renderCompletionScripts(), null, 2)}\n`);
// The Node API (an ES module, its packages outside it but for conf and the lock, bundled as the CLI bundles
// them: a getToken that renewed loaded ajv's graph from node_modules, ~85 ms). Split: what index.js imports
// lazily (the renewal, the write, conf and the lock, the login) is in chunks under dist/index/, loaded when
// first called, so that importing the API costs no more for them. An ES module has no require() for the
// bundled CommonJS (the lock) to load built-ins with: the banner makes one in each file.
//
// A bundled CommonJS package that is imported lazily becomes a chunk with a default export only; Node's
// own import() of it gives its named exports too (store.ts reads `lock`): an ES module in between says them.
const lockNamedExports = {
  name: 'lock named exports',
  setup(b) {
    b.onResolve({ filter: /^proper-lockfile$/ }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, namespace: 'named' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'named' }, () => ({
      contents: `import lockfile from 'proper-lockfile';\nexport const { lock, unlock, check, lockSync, unlockSync, checkSync } = lockfile;`,
      resolveDir: root,
    }));
  },
};
rmSync(resolve(root, 'dist', 'index'), { recursive: true, force: true });
await build({
  ...common,
  minify: false,
  sourcemap: false,
  format: 'esm',
  entryPoints: { index: 'src/index.ts' },
  outdir: 'dist',
  splitting: true,
  chunkNames: 'index/[name]-[hash]',
  external: full.external,
  alias: full.alias,
  plugins: [slimConf, lockNamedExports],
  banner: { js: "import { createRequire as __yandexTokenRequire } from 'node:module';\nconst require = __yandexTokenRequire(import.meta.url);" },
});
if (!(await typesWritten)) {
  // tsc's own messages say what failed. tsc wrote the declarations all the same: without this one, dist/ is
  // not up to date for src/prepare.mjs, which then builds (and fails) again rather than leave it.
  rmSync(resolve(root, 'dist', 'index.d.ts'), { force: true });
  process.exit(1);
}
