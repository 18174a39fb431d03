// The full CLI's process entry (built as dist/cli.cjs, loaded by the fast entry for every command line it
// and the direct bundle do not answer): the command line runs through cli/main.ts (commander) on the real
// process (entry/process.ts).
import { main } from '../cli/main.js';
import { runOnProcess, type CliProcess } from './process.js';

export type { CliProcess } from './process.js';

export function run(proc: CliProcess): Promise<void> {
  return runOnProcess(proc, main);
}
// What the build renders the help pages and completion scripts with (src/build.mjs).
export { renderCompletionScripts, renderHelpPages } from '../cli/program.js';
// The emulator's scripted person, for drivers outside this process (test/support/scripted-browser.mjs plays a
// browser with it) as `login --demo` plays one inside.
export { browseConsent } from '../emulator/person.js';
