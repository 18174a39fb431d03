// Knowing before a token dies: `status --expires-within` (exit 5 for a token that expires within the window
// and will not be renewed first), and the one stderr line a day that print and exec add for such a token
// within 14 days of its expiry (and the Node API's onWarning). The built CLI against the emulator, in temp homes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';
import type { Emulator } from '../src/emulator/index.ts';
import { expiryWarningDue, whyNotRenewed, type TokenRecord } from '../src/token/record.ts';
import { parseDuration } from '../src/time.ts';
import { getHeaders, getToken } from '../src/index.ts';
import { ROOT, fakeYandex, issuedRecord, makeHome, runCli, writeConfig, type Home } from './support/harness.ts';
import { runCommand } from './support/in-process.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A token the emulator accepts (for a year), stored as expiring in `expiresInMs`; renewable unless told. */
function stored(yandex: Emulator, expiresInMs: number, extra: Partial<TokenRecord> = {}): TokenRecord {
  return issuedRecord(yandex, { expiresInMs, issue: { deviceId: 'yt-expiry-device' }, record: { login: 'demo.user', ...extra } });
}

/** The same record with no refresh token: what a pasted or imported token looks like. */
function unrenewable(record: TokenRecord): TokenRecord {
  const { refreshToken: _, ...rest } = record;
  return rest;
}

function profiles(home: Home): Record<string, TokenRecord> {
  return (JSON.parse(readFileSync(home.configFile, 'utf8')) as { profiles: Record<string, TokenRecord> }).profiles;
}

test('durations: 30d, 12h, 90m, 45s and plain seconds; anything else is refused', () => {
  assert.equal(parseDuration('30d'), 30 * DAY);
  assert.equal(parseDuration('12h'), 12 * HOUR);
  assert.equal(parseDuration('90m'), 90 * 60_000);
  assert.equal(parseDuration('45s'), 45_000);
  assert.equal(parseDuration('3600'), HOUR);
  assert.equal(parseDuration('0'), 0);
  for (const text of ['', 'd', '-1d', '1.5d', '30 d', '30D', '2w', '1e3', '99999999999', '4000d']) assert.equal(parseDuration(text), undefined, text);
});

test('the rule: what will not be renewed before it expires, and when the daily warning is due', () => {
  const now = new Date();
  const base: TokenRecord = {
    accessToken: 'y0_a',
    refreshToken: 'r',
    clientId: 'c',
    clientSecret: 's',
    obtainedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + 10 * DAY).toISOString(),
  };
  assert.equal(whyNotRenewed(base), undefined, 'renewable: due at three quarters of its life, before it expires');
  assert.equal(whyNotRenewed(unrenewable(base)), 'no refresh token is stored');
  assert.equal(whyNotRenewed({ ...base, clientSecret: undefined }), 'no client secret is stored');
  assert.equal(whyNotRenewed({ ...base, demo: true }), 'demo tokens cannot be renewed');
  assert.equal(whyNotRenewed({ ...base, renewalRefused: true, renewalFailedAt: now.toISOString() }), 'Yandex refused to renew it');
  assert.equal(whyNotRenewed({ ...base, renewalFailedAt: now.toISOString() }), 'its last renewal failed');
  // obtainedAt after the expiry (a clock set back): the due date comes after the expiry.
  assert.equal(whyNotRenewed({ ...base, obtainedAt: new Date(now.getTime() + 20 * DAY).toISOString() }), 'it is not due for renewal before then');

  const bare = unrenewable(base);
  assert.equal(expiryWarningDue(bare, now), true);
  assert.equal(expiryWarningDue(base, now), false, 'renewable');
  assert.equal(expiryWarningDue({ ...bare, expiresAt: new Date(now.getTime() + 15 * DAY).toISOString() }, now), false, 'more than 14 days left');
  assert.equal(expiryWarningDue({ ...bare, expiresAt: new Date(now.getTime() - HOUR).toISOString() }, now), false, 'expired: print fails instead');
  assert.equal(expiryWarningDue({ ...bare, expiresAt: undefined }, now), false, 'no known expiry');
  assert.equal(expiryWarningDue({ ...bare, expiryWarnedAt: new Date(now.getTime() - 23 * HOUR).toISOString() }, now), false, 'said within the day');
  assert.equal(expiryWarningDue({ ...bare, expiryWarnedAt: new Date(now.getTime() - 25 * HOUR).toISOString() }, now), true, 'a day ago');
  assert.equal(expiryWarningDue({ ...bare, expiryWarnedAt: new Date(now.getTime() + 5 * DAY).toISOString() }, now), true, 'a note from the future');
  assert.equal(expiryWarningDue({ ...bare, expiryWarnedAt: 'garbage' }, now), true);
});

test('status --expires-within: 5 inside the window for a token that will not be renewed, 0 outside it and for one print renews', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const bare = unrenewable(stored(yandex, 10 * DAY));
  writeConfig(home, { default: bare, renewable: stored(yandex, 10 * DAY) });

  for (const window of ['11d', '264h', `${11 * 86_400}`]) {
    const inside = await runCommand(['status', '--profile', 'default', '--expires-within', window], home.env);
    assert.equal(inside.code, 5, `${window}: ${inside.stderr}`);
    assert.equal(inside.stdout, '');
    assert.match(inside.stderr, /^ {2}Warning {4}expires within --expires-within and will not be renewed first: log in again$/m);
    assert.match(
      inside.stderr.trim().split('\n').at(-1)!,
      /^The token expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in (9|10) days\) and will not be renewed \(no refresh token is stored\)\. Run `yandex-token login` again before then\.$/,
    );
  }
  for (const window of ['9d', '216h', `${9 * 86_400}`]) {
    const outside = await runCommand(['status', '--profile', 'default', '--expires-within', window], home.env);
    assert.equal(outside.code, 0, `${window}: ${outside.stderr}`);
    assert.doesNotMatch(outside.stderr, /Warning/);
  }
  // The first print after it is due renews it (at three quarters of its life), long before it expires.
  const renewable = await runCommand(['status', '--profile', 'renewable', '--expires-within', '30d'], home.env);
  assert.equal(renewable.code, 0, renewable.stderr);

  const json = await runCommand(['status', '--json', '--expires-within', '30d'], home.env);
  assert.equal(json.code, 5, json.stderr);
  const entries = JSON.parse(json.stdout).profiles;
  assert.deepEqual(
    entries.map((e: { profile: string; state: string; expiresSoon: boolean }) => [e.profile, e.state, e.expiresSoon]),
    [
      ['default', 'valid', true],
      ['renewable', 'valid', false],
    ],
  );
  assert.match(entries[0].message, /will not be renewed \(no refresh token is stored\)/);
  assert.equal(entries[1].message, null);
  // Without the flag, the report is as it was.
  const plain = await runCommand(['status', '--json'], home.env);
  assert.equal(plain.code, 0, plain.stderr);
  assert.ok(!('expiresSoon' in JSON.parse(plain.stdout).profiles[0]));
});

test('status --expires-within: a refused or failing renewal counts as none; an expired or rejected token is still 4; several profiles are named', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const failedAt = new Date(Date.now() - 2 * HOUR).toISOString();
  writeConfig(home, {
    refused: stored(yandex, 5 * DAY, { renewalRefused: true, renewalFailedAt: failedAt }),
    failing: stored(yandex, 5 * DAY, { renewalFailedAt: failedAt }),
  });
  const both = await runCommand(['status', '--expires-within', '7d'], home.env);
  assert.equal(both.code, 5, both.stderr);
  assert.match(both.stderr.trim().split('\n').at(-1)!, /^2 profiles expire within --expires-within and will not be renewed \(failing, refused\)\. Run `yandex-token login --profile <name>` for each before then\.$/);
  assert.equal((await runCommand(['status', '--expires-within', '4d'], home.env)).code, 0);

  writeConfig(home, { expired: stored(yandex, -HOUR), soon: unrenewable(stored(yandex, DAY)) });
  const expired = await runCommand(['status', '--json', '--expires-within', '2d'], home.env);
  assert.equal(expired.code, 4, 'a token that needs a login now comes before one that needs it soon');
  assert.deepEqual(
    JSON.parse(expired.stdout).profiles.map((e: { expiresSoon: boolean }) => e.expiresSoon),
    [true, true],
  );
});

test('status with YANDEX_TOKEN says its expiry is unknown, and --expires-within cannot fail on it', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const { access_token: token } = yandex.issueToken({});
  const env = { ...home.env, YANDEX_TOKEN: token };
  const human = await runCommand(['status', '--expires-within', '30d'], env);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stderr, /^ {2}Expires {4}unknown: Yandex does not say when a token from YANDEX_TOKEN expires, so --expires-within cannot judge it$/m);
  const plain = await runCommand(['status'], env);
  assert.match(plain.stderr, /^ {2}Expires {4}unknown: Yandex does not say when a token from YANDEX_TOKEN expires$/m);
  const json = await runCommand(['status', '--json', '--expires-within', '30d'], env);
  const [entry] = JSON.parse(json.stdout).profiles;
  assert.deepEqual([entry.source, entry.expiresAt, entry.expiresSoon], ['environment', null, false]);
});

test('print and exec warn once a day, on stderr only, about a token that expires within 14 days and will not be renewed', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const record = unrenewable(stored(yandex, 10 * DAY));
  writeConfig(home, { default: record, work: { ...record } });
  const warning = /^Warning: The token expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(in (9|10) days\) and will not be renewed \(no refresh token is stored\)\. Run `yandex-token login` again before then\.\n$/;

  const first = await runCli(['print'], home.env);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, `${record.accessToken}\n`, 'stdout as always');
  assert.match(first.stderr, warning);
  const noted = profiles(home).default!.expiryWarnedAt!;
  assert.ok(Math.abs(Date.parse(noted) - Date.now()) < 60_000, `noted in the record: ${noted}`);
  assert.equal(profiles(home).work!.expiryWarnedAt, undefined, 'per profile');

  // The rest of the day: nothing said, and print answers from its fast entry again.
  const hook = pathToFileURL(join(ROOT, 'test', 'support', 'module-log.mjs')).href;
  const log = join(home.dir, 'modules.log');
  const second = await runCli(['print'], { ...home.env, NODE_OPTIONS: `--import=${hook}`, MODULE_LOG: log });
  assert.deepEqual([second.code, second.stdout, second.stderr], [0, `${record.accessToken}\n`, '']);
  assert.doesNotMatch(readFileSync(log, 'utf8'), /\/dist\/cli\.cjs|\/node_modules\/conf\//, 'a fresh note costs print nothing');
  const exec = await runCli(['exec', '--', process.execPath, '-e', 'process.stdout.write(process.env.YANDEX_TOKEN)'], home.env);
  assert.deepEqual([exec.code, exec.stdout, exec.stderr], [0, record.accessToken, '']);

  // The other profile gets its own line, through exec, before the program runs.
  const other = await runCli(['exec', '--profile', 'work', '--', process.execPath, '-e', 'process.stderr.write("program\\n")'], home.env);
  assert.equal(other.code, 0, other.stderr);
  assert.match(other.stderr, /^Warning: The token \(profile "work"\) expires .* Run `yandex-token login --profile work` again before then\.\nprogram\n$/);

  // A day later, once more.
  const data = JSON.parse(readFileSync(home.configFile, 'utf8'));
  data.profiles.default.expiryWarnedAt = new Date(Date.now() - 25 * HOUR).toISOString();
  writeConfig(home, data.profiles);
  const nextDay = await runCli(['print'], home.env);
  assert.match(nextDay.stderr, warning);
  assert.equal((await runCli(['print'], home.env)).stderr, '');
});

test('a crowd of prints on a day\'s first warning: one of them says it', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const record = unrenewable(stored(yandex, 3 * DAY));
  writeConfig(home, { default: record });
  const results = await Promise.all(Array.from({ length: 6 }, () => runCli(['print'], home.env)));
  for (const result of results) assert.deepEqual([result.code, result.stdout], [0, `${record.accessToken}\n`], result.stderr);
  assert.equal(results.filter((r) => /^Warning: The token expires/.test(r.stderr)).length, 1, results.map((r) => r.stderr).join('---\n'));
  // Nothing else, but for the notice a print gives when the others hold the lock for over 2 s (a loaded machine).
  const waited = /^Warning: Waiting for another yandex-token to finish with .*\n/m;
  assert.deepEqual(results.map((r) => r.stderr.replace(waited, '')).filter((s) => s !== '' && !/^Warning: The token expires/.test(s)), []);
});

test('no daily warning for a token print renews, for one with more than 14 days left, nor for a demo token far from expiry', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  writeConfig(home, {
    renewable: stored(yandex, 10 * DAY, { obtainedAt: new Date(Date.now() - DAY).toISOString() }),
    later: unrenewable(stored(yandex, 15 * DAY)),
    demo: unrenewable(stored(yandex, 300 * DAY, { demo: true })),
    'demo-soon': unrenewable(stored(yandex, 2 * DAY, { demo: true })),
  });
  const before = readFileSync(home.configFile, 'utf8');
  for (const profile of ['renewable', 'later', 'demo']) {
    const result = await runCli(['print', '--profile', profile], home.env);
    assert.deepEqual([result.code, result.stderr], [0, ''], profile);
  }
  assert.equal(readFileSync(home.configFile, 'utf8'), before, 'nothing written');
  const demo = await runCli(['print', '--profile', 'demo-soon'], home.env);
  assert.match(demo.stderr, /^Warning: The demo token \(profile "demo-soon"\) expires .*, and demo tokens cannot be renewed\. Run `yandex-token login --demo --profile demo-soon` again before then\.\n$/);
});

test('the Node API: with onWarning, the daily warning goes there (noted, so print says nothing more that day); without, nothing is noted and print still says it', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const record = unrenewable(stored(yandex, 10 * DAY));
  writeConfig(home, { default: record, work: { ...record } });
  const before = readFileSync(home.configFile, 'utf8');

  assert.equal(await getToken({ env: home.env }), record.accessToken);
  assert.equal(readFileSync(home.configFile, 'utf8'), before, 'no onWarning: nothing noted');
  assert.match((await runCommand(['print'], home.env)).stderr, /^Warning: The token expires .* and will not be renewed/);

  const warnings: string[] = [];
  const onWarning = (message: string) => void warnings.push(message);
  await getToken({ env: home.env, profile: 'work', onWarning });
  await getHeaders({ env: home.env, profile: 'work', service: 'disk', onWarning });
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /^The token \(profile "work"\) expires .* and will not be renewed \(no refresh token is stored\)\. Run `yandex-token login --profile work` again before then\.$/);
  assert.ok(profiles(home).work!.expiryWarnedAt, 'noted');
  assert.equal((await runCommand(['print', '--profile', 'work'], home.env)).stderr, '', 'said once that day');
});
