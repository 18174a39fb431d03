// bin/yandex-token.cjs without the fast entry: every command line straight to the full CLI (dist/cli.cjs,
// commander), as print.cjs hands over what it does not answer. test/direct.test.ts compares the two.
if (process.env.DEBUG) process.setSourceMapsEnabled(true);
require('../../dist/cli.cjs').run(process);
