#!/usr/bin/env node
// CommonJS on purpose, and named .cjs so that Node need not look for a package.json to know it: Node 20
// starts a CommonJS entry several milliseconds faster than an ES module, and `print` is called from
// scripts in loops. Both files are esbuild bundles of src/main.ts; print.cjs leaves out commander and
// every command but print (see src/main.ts).
const print = require('../dist/print.cjs');
const entry = print.answersAlone(process.argv.slice(2)) ? print : require('../dist/cli.cjs');
entry.run(process);
