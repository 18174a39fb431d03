// `npm run build`'s second half (after tsc): the CLI as two CommonJS bundles that share their modules.
//
//   dist/print.cjs  src/main.ts and what it imports statically: what `print` and `--version` run.
//   dist/cli.cjs    the modules print.cjs imports lazily for anything else (LATER below: commander and
//                   the commands, the OAuth protocol, the refresh, the proxy support, the prompts,
//                   the browser launcher, the checked write of the config file) and what only they import.
//
// Each module is in exactly one of them. cli.cjs takes what it imports from print.cjs's modules out of a
// table print.cjs exports, and print.cjs its lazy imports of LATER modules out of cli.cjs's table. So a
// class is the same class everywhere (instanceof holds across the two), print.cjs holds only what print
// and cli.cjs use (esbuild leaves out the rest), and a command other than print parses each line once.
// CommonJS because Node 20 starts it several milliseconds faster than an ES module; esbuild cannot split
// CommonJS output itself, hence these plugins.
//
// `--help` is answered by print.cjs from the pages commander renders at build time (step 5: dist/help.json).
//
// Commander requires node:child_process at load (for stand-alone subcommand executables, which we do not
// use), and loading that costs more than commander itself: cli.cjs loads it when something calls it.
import { build } from 'esbuild';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const src = resolve(root, 'src');
const LATER = ['cli.ts', 'oauth.ts', 'proxy.ts', 'ask.ts', 'browser.ts', 'refresh.ts', 'write.ts'];
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

/** A plugin that lets `decide(path, kind)` resolve the relative imports it has an answer for. */
function redirect(name, decide, setup = () => {}) {
  return {
    name,
    setup(b) {
      setup(b);
      b.onResolve({ filter: /^\.\.?\// }, async (args) => {
        if (args.pluginData === name) return undefined;
        const resolved = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: name });
        return resolved.path ? decide(resolved.path, args.kind) : undefined;
      });
    },
  };
}

/** Imports of the modules `inTable(path, kind)` accepts, served from the module table of `bundle`. */
function fromTable(bundle, inTable) {
  return redirect(
    `from ${bundle}`,
    (path, kind) => (inTable(path, kind) ? { path: key(path), namespace: bundle } : undefined),
    (b) => {
      b.onResolve({ filter: /^\.\/(print|cli)\.cjs$/ }, (args) => ({ path: args.path, external: true }));
      b.onLoad({ filter: /.*/, namespace: bundle }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(bundle)}).modules[${JSON.stringify(args.path)}];`,
        resolveDir: src,
      }));
    },
  );
}

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
// The bundles as shipped: minified (about 1 ms less for every print), with maps beside them that turn
// a stack trace back into src/ lines when DEBUG is set (bin/ enables them then).
const shipped = { minify: true, sourcemap: 'linked', sourcesContent: false };
const stdin = (sourcefile, lines) => ({ contents: lines.join('\n'), resolveDir: src, sourcefile, loader: 'js' });
const laterFromCli = fromTable('./cli.cjs', (path, kind) => kind === 'dynamic-import' && LATER.includes(key(path)));

// 1. Which modules print.cjs holds: what main.ts reaches when LATER modules come from cli.cjs.
const probe = await build({ ...common, entryPoints: ['src/main.ts'], write: false, metafile: true, outfile: 'dist/print.cjs', plugins: [laterFromCli] });
const core = Object.keys(probe.metafile.inputs)
  .filter((input) => input.startsWith('src/'))
  .map((input) => key(resolve(root, input)));

// 2. What cli.cjs takes from each of them, by name ('*': all of it), read off an ES-module build of it
// that leaves its imports of those modules as import statements.
const cliProbe = await build({
  ...common,
  format: 'esm',
  write: false,
  outfile: 'dist/cli.mjs',
  stdin: stdin('cli-entry.js', [...LATER.map((m, i) => `import * as m${i} from ${JSON.stringify(`./${m}`)};`), `export { ${LATER.map((_, i) => `m${i}`).join(', ')} };`]),
  plugins: [lazyChildProcess, redirect('core as imports', (path) => (core.includes(key(path)) ? { path: `core:${key(path)}`, external: true } : undefined))],
});
const text = cliProbe.outputFiles[0].text;
const needs = new Map();
const statements = [...text.matchAll(/^import\s*\{([^}]*)\}\s*from\s*"core:([^"]+)"|^import\s*\*\s*as\s*\w+\s*from\s*"core:([^"]+)"|\bimport\("core:([^"]+)"\)/gm)];
for (const [, names, module, whole, dynamic] of statements) {
  if (names === undefined) needs.set(whole ?? dynamic, '*');
  else if (needs.get(module) !== '*') {
    const set = needs.get(module) ?? new Set();
    for (const name of names.split(',').map((n) => n.trim().split(/\s+as\s+/)[0]).filter(Boolean)) set.add(name);
    needs.set(module, set);
  }
}
if (statements.length !== (text.match(/"core:/g) ?? []).length) {
  throw new Error('src/build.mjs: cli.cjs imports a module of print.cjs in a way this script does not read yet.');
}

// 3. print.cjs: main.ts's run for bin/, and exactly what cli.cjs takes, so esbuild leaves out the rest.
const lines = [`export { run } from './main.ts';`];
const table = [];
[...needs].forEach(([module, names], i) => {
  if (names === '*') {
    lines.push(`import * as n${i} from ${JSON.stringify(`./${module}`)};`);
    table.push(`  ${JSON.stringify(module)}: n${i},`);
  } else {
    lines.push(`import { ${[...names].map((n) => `${n} as n${i}_${n}`).join(', ')} } from ${JSON.stringify(`./${module}`)};`);
    table.push(`  ${JSON.stringify(module)}: { ${[...names].map((n) => `get ${n}() { return n${i}_${n}; }`).join(', ')} },`);
  }
});
lines.push('export const modules = {', ...table, '};');
// Its src/help-pages.ts (none) is replaced by a reader of the pages step 5 renders into dist/help.json,
// so that `--help` needs neither commander nor cli.cjs.
const helpPagesFromFile = {
  name: 'help pages from dist/help.json',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]help-pages\.ts$/ }, () => ({
      contents: `import { readFileSync } from 'node:fs';
import { join } from 'node:path';
export function helpPages() {
  try {
    return JSON.parse(readFileSync(join(__dirname, 'help.json'), 'utf8'));
  } catch {
    return {};
  }
}`,
      loader: 'js',
    }));
  },
};
await build({ ...common, ...shipped, stdin: stdin('print-entry.js', lines), outfile: 'dist/print.cjs', plugins: [helpPagesFromFile, laterFromCli] });

// 4. cli.cjs: the LATER modules, each initialised (its top level run) when first asked for.
await build({
  ...common,
  ...shipped,
  stdin: stdin('cli-entry.js', ['exports.modules = {', ...LATER.map((m) => `  get ${JSON.stringify(m)}() { return require(${JSON.stringify(`./${m}`)}); },`), '};']),
  outfile: 'dist/cli.cjs',
  plugins: [lazyChildProcess, fromTable('./print.cjs', (path) => core.includes(key(path)))],
});

// 5. The help pages, rendered by commander in the CLI just built.
const { modules } = createRequire(import.meta.url)(resolve(root, 'dist', 'cli.cjs'));
writeFileSync(resolve(root, 'dist', 'help.json'), `${JSON.stringify(await modules['cli.ts'].renderHelpPages(), null, 2)}\n`);
