// The help pages commander renders, keyed by command ('' for the program itself), for main.ts to answer
// `--help` without loading commander. None here, so that from source every page is commander's own: in
// dist/print.cjs, src/build.mjs puts in place of this module one that reads the pages it rendered from
// the built CLI (dist/help.json), only when help is asked for.
export function helpPages(): Readonly<Record<string, string>> {
  return {};
}
