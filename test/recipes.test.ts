// The README's recipes, run as written (each code block marked `<!-- recipe: name -->`) against the emulator:
// only the APIs' base URLs are pointed at it. curl runs through a shim that logs its command line, so the
// test sees what `ps` would show.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Emulator } from '../src/emulator/index.ts';
import type { TokenRecord } from '../src/token/record.ts';
import { browserEnv, BIN, credentials, DEMO_CLIENT, fakeYandex, freePort, issuedRecord, makeHome, ROOT, runCli, type Home } from './support/harness.ts';
import { requireProgram } from './support/e2e.ts';

const CURL = '/usr/bin/curl';
const PYTHON = '/usr/bin/python3';
const JQ = '/usr/bin/jq';
const BASH = '/usr/bin/bash';
const HOUR = 3600 * 1000;

/** The README's recipes by name: the code of the fenced block after each marker. */
function recipes(): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const found = new Map<string, string>();
  for (const match of readme.matchAll(/<!-- recipe: ([\w-]+) -->\n```\w*\n([\s\S]*?)\n```/g)) found.set(match[1]!, `${match[2]!}\n`);
  return found;
}

function recipe(name: string, yandex: Emulator): string {
  const code = recipes().get(name);
  assert.ok(code, `the README has a recipe marked ${name}`);
  return code
    .replaceAll('https://cloud-api.yandex.net', yandex.url)
    .replaceAll('https://api-metrika.yandex.net', yandex.url)
    .replaceAll('https://api.direct.yandex.com', yandex.url)
    .replaceAll('https://resource-manager.api.cloud.yandex.net', yandex.url);
}

interface Setup {
  yandex: Emulator;
  home: Home;
  env: Record<string, string>;
  /** Where the scripts run and leave their files. */
  work: string;
  /** Every command line curl was started with, one per line. */
  curlCommandLines(): string;
}

/** The emulator, a home, `yandex-token` and a logging `curl` on PATH; with `login`, the CLI logged in. */
async function setup(t: TestContext, options: { login?: boolean } = {}): Promise<Setup> {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const bin = join(home.dir, 'bin');
  const work = join(home.dir, 'work');
  mkdirSync(bin);
  mkdirSync(work);
  const log = join(home.dir, 'curl-argv.log');
  const shims = {
    'yandex-token': `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`,
    curl: `#!/bin/sh\nprintf '%s\\n' "$*" >>${JSON.stringify(log)}\nexec ${CURL} "$@"\n`,
  };
  for (const [name, text] of Object.entries(shims)) {
    writeFileSync(join(bin, name), text);
    chmodSync(join(bin, name), 0o755);
  }
  const env = { ...home.env, PATH: `${bin}:${home.env.PATH}` };
  if (options.login) {
    const login = await runCli(['login', ...credentials(), '--port', String(await freePort())], browserEnv(home));
    assert.equal(login.code, 0, login.stderr);
  }
  return { yandex, home, env, work, curlCommandLines: () => (existsSync(log) ? readFileSync(log, 'utf8') : '') };
}

function run(file: string, args: string[], cwd: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

function storedToken(home: Home, profile = 'default'): string {
  return JSON.parse(readFileSync(home.configFile, 'utf8')).profiles[profile].accessToken;
}

test('curl: Disk and Metrica with OAuth, Direct with Bearer', async (t) => {
  if (!requireProgram(t, CURL, 'apt-get install curl')) return;
  const { yandex, home, env, work, curlCommandLines } = await setup(t, { login: true });
  const result = await run(BASH, ['--norc', '-euo', 'pipefail', '-c', recipe('curl', yandex)], work, env);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  assert.match(result.stdout, /"total_space":10737418240/);
  assert.match(result.stdout, /"counters":\[\]/);
  assert.match(result.stdout, /\{"result":\{"Campaigns":\[\]\}\}/);
  assert.deepEqual([yandex.counts['api:disk'], yandex.counts['api:metrica'], yandex.counts['api:direct']], [1, 1, 1]);
  // What the next recipe is about: this way the token is on curl's command line.
  assert.ok(curlCommandLines().includes(`Authorization: OAuth ${storedToken(home)}`));
});

test('the emulator\'s API stand-ins take only their own scheme, and only a live token', async (t) => {
  const yandex = await fakeYandex(t);
  const { access_token: token } = yandex.issueToken({ expiresIn: 3600 });
  const call = async (path: string, authorization: string) => {
    const response = await fetch(`${yandex.url}${path}`, {
      method: path.startsWith('/json') ? 'POST' : 'GET',
      headers: { authorization },
      body: path.startsWith('/json') ? '{"method":"get","params":{}}' : undefined,
    });
    return [response.status, await response.json()] as const;
  };
  assert.equal((await call('/v1/disk/', `OAuth ${token}`))[0], 200);
  assert.deepEqual(await call('/v1/disk/', `Bearer ${token}`), [401, { message: 'Не авторизован.', description: 'Unauthorized', error: 'UnauthorizedError' }]);
  assert.equal((await call('/management/v1/counters', `OAuth ${token}`))[0], 200);
  assert.equal((await call('/management/v1/counters', 'OAuth y0_never_issued'))[0], 401);
  assert.deepEqual(await call('/json/v5/campaigns', `Bearer ${token}`), [200, { result: { Campaigns: [] } }]);
  const [status, body] = await call('/json/v5/campaigns', `OAuth ${token}`);
  assert.equal(status, 200);
  assert.equal(body.error.error_code, 53);
  yandex.revokeAll();
  assert.equal((await call('/v1/disk/', `OAuth ${token}`))[0], 401);
});

test('keeping the token out of ps: curl gets the header on stdin', async (t) => {
  if (!requireProgram(t, CURL, 'apt-get install curl')) return;
  const { yandex, home, env, work, curlCommandLines } = await setup(t, { login: true });
  const result = await run(BASH, ['--norc', '-euo', 'pipefail', '-c', recipe('ps', yandex)], work, env);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /"total_space":10737418240/);
  assert.match(result.stdout, /\{"result":\{"Campaigns":\[\]\}\}/);
  assert.equal(yandex.counts['api:direct'], 1);
  const lines = curlCommandLines();
  assert.equal(lines.split('\n').filter(Boolean).length, 2);
  assert.ok(!lines.includes(storedToken(home)), `the token is on a command line:\n${lines}`);
});

test('a Node script with getToken', async (t) => {
  const { yandex, env, work } = await setup(t, { login: true });
  // The script's project depends on this package, as `npm install yandex-token` would make it.
  mkdirSync(join(work, 'node_modules'));
  symlinkSync(ROOT, join(work, 'node_modules', 'yandex-token'), 'dir');
  writeFileSync(join(work, 'disk.mjs'), recipe('node', yandex));
  const result = await run(process.execPath, ['disk.mjs'], work, env);
  assert.deepEqual(result, { code: 0, stdout: '0 of 10737418240 bytes used\n', stderr: '' });
  const missing = await run(process.execPath, ['disk.mjs', 'nobody'], work, env);
  assert.equal(missing.code, 4);
  assert.equal(missing.stderr, 'Not logged in (profile "nobody"). Run `yandex-token login --profile nobody` first.\n');
});

test('a Python script calling the CLI', async (t) => {
  if (!requireProgram(t, PYTHON, 'apt-get install python3')) return;
  const { yandex, env, work } = await setup(t, { login: true });
  writeFileSync(join(work, 'disk.py'), recipe('python', yandex));
  const result = await run(PYTHON, ['disk.py'], work, env);
  assert.deepEqual(result, { code: 0, stdout: '0 of 10737418240 bytes used\n', stderr: '' });
  const missing = await run(PYTHON, ['disk.py', 'nobody'], work, env);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'Not logged in (profile "nobody"). Run `yandex-token login --profile nobody` first.\n');
});

test('a CI job with YANDEX_TOKEN: its script runs with no config at all', async (t) => {
  if (!requireProgram(t, CURL, 'apt-get install curl')) return;
  const { yandex, home, env, work } = await setup(t);
  // The job's last step, `run: |`, as the CI's shell would run it.
  const yaml = recipe('ci', yandex);
  const block = yaml.slice(yaml.lastIndexOf('run: |') + 'run: |'.length + 1);
  const script = block.split('\n').map((line) => line.replace(/^ {10}/, '')).join('\n');
  const { access_token: token } = yandex.issueToken({ expiresIn: 3600 });
  const job = await run(BASH, ['--norc', '-eo', 'pipefail', '-c', script], work, { ...env, YANDEX_TOKEN: token });
  assert.equal(job.code, 0, job.stderr);
  assert.match(job.stderr, /Token from the environment \(YANDEX_TOKEN\): valid/);
  assert.match(readFileSync(join(work, 'disk.json'), 'utf8'), /"total_space"/);
  assert.ok(!existsSync(home.configFile), 'nothing was read or written');

  yandex.revokeAll();
  const revoked = await run(BASH, ['--norc', '-eo', 'pipefail', '-c', script], work, { ...env, YANDEX_TOKEN: token });
  assert.equal(revoked.code, 4, 'the job stops at status');
  assert.match(revoked.stderr, /Yandex rejected the token in YANDEX_TOKEN/);
});

test('an agency loops over its clients\' profiles; a due one is renewed, an expired and a revoked one reported', async (t) => {
  for (const [path, install] of [
    [CURL, 'apt-get install curl'],
    [JQ, 'apt-get install jq'],
  ]) {
    if (!requireProgram(t, path!, install!)) return;
  }
  const { yandex, home, env, work } = await setup(t);
  const DAY = 24 * HOUR;
  const record = (expiresInMs: number, ageMs = 0): TokenRecord => issuedRecord(yandex, { expiresInMs, ageMs, issue: { expiresIn: 3600, deviceId: 'yt-agency-device' } });
  const revoked = record(HOUR);
  mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
  writeFileSync(
    home.configFile,
    JSON.stringify({
      profiles: { 'client-a': record(HOUR), 'client-b': record(200 * DAY, 100 * DAY), 'client-c': revoked, 'client-d': record(-HOUR, 366 * DAY) },
      deviceIds: {},
    }),
    { mode: 0o600 },
  );
  const revoke = await fetch(`${yandex.url}/revoke_token`, {
    method: 'POST',
    body: new URLSearchParams({ access_token: revoked.accessToken, client_id: DEMO_CLIENT.id, client_secret: DEMO_CLIENT.secret }),
  });
  assert.equal(revoke.status, 200);

  const result = await run(BASH, ['--norc', '-euo', 'pipefail', '-c', recipe('agency', yandex)], work, env);
  assert.equal(result.code, 0, result.stderr);
  for (const client of ['client-a', 'client-b']) {
    assert.match(readFileSync(join(work, `counters-${client}.json`), 'utf8'), /"counters":\[\]/, client);
  }
  assert.ok(!existsSync(join(work, 'counters-client-c.json')));
  assert.ok(!existsSync(join(work, 'counters-client-d.json')));
  assert.equal(yandex.counts['token:refresh_token'], 1, 'client-b, due for renewal, was renewed by print');
  assert.match(result.stderr, /^client-c: Yandex rejected the token \(profile "client-c"\).*Run `yandex-token login --profile client-c` again\.$/m);
  assert.match(result.stderr, /^client-d: The token \(profile "client-d"\) has expired\. Run `yandex-token login --profile client-d` again\.$/m);
});

test('the Yandex Cloud recipe: an IAM token as Bearer, from print --iam and from exec --iam, got once', async (t) => {
  if (!requireProgram(t, CURL, 'apt-get install curl')) return;
  const { yandex, env, work, curlCommandLines } = await setup(t, { login: true });
  // The emulator also plays Cloud's IAM API, as `yandex-token emulator` says to point YANDEX_IAM_URL at it.
  const result = await run(BASH, ['--norc', '-euo', 'pipefail', '-c', recipe('cloud', yandex)], work, { ...env, YANDEX_IAM_URL: yandex.url });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, '');
  // curl writes each body without a newline of its own.
  const lists = result.stdout.trim().replace(/}\s*{/g, '}\n{').split('\n').map((line) => JSON.parse(line) as { clouds: { name: string }[] });
  assert.deepEqual(lists.map((list) => list.clouds[0]?.name), ['emulator-cloud', 'emulator-cloud']);
  assert.equal(yandex.counts['api:cloud'], 2);
  assert.equal(yandex.counts.iam, 1, 'the second run reused the cached IAM token');
  // The first curl has it on its command line (as the curl recipe has the OAuth token); the exec one does not.
  assert.equal(curlCommandLines().trim().split('\n').filter((line) => / t1\./.test(line)).length, 1);
});
