// Loaded with NODE_OPTIONS=--import=<this file>: appends the URL of every module the CLI imports or
// requires to the file named by MODULE_LOG, so that tests can see what a command loaded.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

// import() and ESM imports: through the loader's resolve hook.
register(new URL('./module-log-hooks.mjs', import.meta.url));

// require(): the CLI's entry and bundles are CommonJS, as are some packages.
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (...args) {
  const filename = resolveFilename.apply(this, args);
  if (process.env.MODULE_LOG && filename.startsWith('/')) appendFileSync(process.env.MODULE_LOG, `file://${filename}\n`);
  return filename;
};
