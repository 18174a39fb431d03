#!/usr/bin/env node
// CommonJS on purpose, and named .cjs so that Node need not look for a package.json to know it: Node 20
// starts a CommonJS entry several milliseconds faster than an ES module, and `print` is called from
// scripts in loops. dist/print.cjs is what print and --version run; it loads dist/direct.cjs (a renewal,
// refresh, status) or dist/cli.cjs for the rest (see src/build.mjs). All are minified: with DEBUG set,
// stack traces are mapped back to src/.
if (process.env.DEBUG) process.setSourceMapsEnabled(true);
require('../dist/print.cjs').run(process);
