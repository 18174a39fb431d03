// `npm run build`'s second half (after tsc): the CLI as two CommonJS bundles that share their modules.
//
//   dist/print.cjs  src/main.ts and everything it imports statically, plus the two modules it imports
//                   for print (context.ts, commands/print.ts): what `print` and `--version` run.
//   dist/cli.cjs    what main.ts, credentials.ts and context.ts import lazily for anything else (LATER
//                   below: commander and the commands, the OAuth protocol, the proxy support) and what
//                   only those import.
//
// Each module is in exactly one of them: an import from cli.cjs of a module print.cjs holds is answered
// from print.cjs's module table, and print.cjs's lazy imports of LATER modules from cli.cjs's. So a class
// is the same class everywhere (instanceof holds across the two), and print compiles only its own part.
// CommonJS because Node 20 starts it several milliseconds faster than an ES module; esbuild cannot split
// CommonJS output itself, hence this plugin.
//
// Commander requires node:child_process at load (for stand-alone subcommand executables, which we do not
// use), and loading it costs more than commander itself: cli.cjs gets it only when something calls it.
import { build } from 'esbuild';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const src = resolve(root, 'src');
const LATER = ['cli.ts', 'oauth.ts', 'proxy.ts'];
const key = (path) => relative(src, path).split('\\').join('/');

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  external: ['conf', 'open', 'prompts', 'proper-lockfile', 'undici'],
};

/** Serves imports for which `take(path)` names a module table (`./print.cjs` or `./cli.cjs`) from it. */
function fromTable(take) {
  return {
    name: 'from-table',
    setup(b) {
      b.onResolve({ filter: /^\.\/(print|cli)\.cjs$/ }, (args) => ({ path: args.path, external: true }));
      b.onResolve({ filter: /^\.\.?\// }, async (args) => {
        if (args.pluginData === 'inner') return undefined;
        const resolved = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'inner' });
        const table = resolved.path && take(resolved.path, args.kind);
        return table ? { path: key(resolved.path), namespace: table } : undefined;
      });
      for (const table of ['./print.cjs', './cli.cjs']) {
        b.onLoad({ filter: /.*/, namespace: table }, (args) => ({
          contents: `module.exports = require(${JSON.stringify(table)}).modules[${JSON.stringify(args.path)}];`,
          resolveDir: src,
        }));
      }
    },
  };
}

/**
 * An entry whose `modules` table has a getter per module: a module is initialised (its top level run) when
 * first asked for, as a lazily imported module is within one bundle. `run` is main.ts's, for bin/.
 */
function entry(modules, withRun) {
  const lines = [`exports.modules = {`];
  for (const m of modules) lines.push(`  get ${JSON.stringify(m)}() { return require(${JSON.stringify(`./${m}`)}); },`);
  lines.push('};');
  if (withRun) lines.push(`exports.run = require('./main.ts').run;`);
  return { contents: lines.join('\n'), resolveDir: src, sourcefile: 'bundle-entry.js', loader: 'js' };
}

const laterFromCli = fromTable((path, kind) => kind === 'dynamic-import' && LATER.includes(key(path)) && './cli.cjs');

// Which modules print.cjs holds: what main.ts reaches when LATER modules come from cli.cjs.
const probe = await build({ ...common, entryPoints: ['src/main.ts'], write: false, metafile: true, outfile: 'dist/print.cjs', plugins: [laterFromCli] });
const core = Object.keys(probe.metafile.inputs)
  .filter((input) => input.startsWith('src/'))
  .map((input) => key(resolve(root, input)));

await build({ ...common, stdin: entry(core, true), outfile: 'dist/print.cjs', plugins: [laterFromCli] });

const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer) ? { path: 'child_process', namespace: 'lazy' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy' }, () => ({
      contents: "module.exports = new Proxy({}, { get: (_, name) => require('node:child_process')[name] });",
    }));
  },
};
await build({
  ...common,
  stdin: entry(LATER, false),
  outfile: 'dist/cli.cjs',
  plugins: [lazyChildProcess, fromTable((path) => core.includes(key(path)) && './print.cjs')],
});
