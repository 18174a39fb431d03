// `npm run build`'s second half (after `tsc`, which checks the types and writes the declarations):
//
//   dist/print.cjs  src/entry/print-fast.ts: what bin/ runs for every command line (see that file).
//   dist/cli.cjs    src/entry/cli.ts: the full CLI, loaded by print.cjs for anything it does not answer.
//   dist/help.json  every help page, rendered by commander in the built CLI, for print.cjs to answer --help.
//   dist/completion.json  the completion scripts, likewise, for print.cjs to answer `completion <shell>`.
//   dist/index.js   src/index.ts: the Node API (`import { getToken } from 'yandex-token'`), an ES module.
//
// Two independent builds: a few kB of shared code (reading the file, the token rules) are in both
// bundles, and only runs that load cli.cjs anyway pay for them. CommonJS for the CLI because Node 20
// starts it several milliseconds faster than an ES module. Minified, with maps beside them that turn a stack
// trace back into src/ lines when DEBUG is set (bin/ enables them then).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
// An `npm pack` that failed midway leaves package.json without its `prepare` line (src/prepare.mjs): back.
if (spawnSync(process.execPath, [resolve(root, 'src', 'prepare.mjs'), 'unpack'], { stdio: 'inherit' }).status !== 0) process.exit(1);
const packages = ['commander', 'conf', 'open', 'prompts', 'proper-lockfile', 'undici'];
const common = { absWorkingDir: root, bundle: true, platform: 'node', target: 'node20', logLevel: 'warning', minify: true, sourcemap: 'linked', sourcesContent: false };

// Commander requires node:child_process at load (for stand-alone subcommand executables, which we do not
// use), and loading that costs more than commander itself: it is loaded when something calls it.
const lazyChildProcess = {
  name: 'lazy child_process',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, name) => require('node:child_process')[name] });",
    }));
  },
};

await build({ ...common, format: 'cjs', entryPoints: ['src/entry/print-fast.ts'], outfile: 'dist/print.cjs', external: ['./cli.cjs', ...packages] });
await build({
  ...common,
  format: 'cjs',
  entryPoints: ['src/entry/cli.ts'],
  outfile: 'dist/cli.cjs',
  external: packages.filter((name) => name !== 'commander'),
  plugins: [lazyChildProcess],
});
const { renderCompletionScripts, renderHelpPages } = createRequire(import.meta.url)(resolve(root, 'dist', 'cli.cjs'));
writeFileSync(resolve(root, 'dist', 'help.json'), `${JSON.stringify(await renderHelpPages(), null, 2)}\n`);
writeFileSync(resolve(root, 'dist', 'completion.json'), `${JSON.stringify(await renderCompletionScripts(), null, 2)}\n`);
await build({ ...common, minify: false, sourcemap: false, format: 'esm', entryPoints: ['src/index.ts'], outfile: 'dist/index.js', packages: 'external' });
