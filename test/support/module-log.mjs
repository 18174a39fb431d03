// Loaded with NODE_OPTIONS=--import=<this file>: appends the URL of every module the CLI imports to the
// file named by MODULE_LOG, so that tests can see what a command loaded.
import { register } from 'node:module';

register(new URL('./module-log-hooks.mjs', import.meta.url));
