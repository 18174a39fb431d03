// Signals at random moments during renewals and logins: Ctrl-C, SIGTERM and SIGHUP sent to `refresh` and to a `print`
// whose token is due, at any instant from start-up to exit, a fixed number of times. Whatever the instant:
// no lock is left, the file is whole, the exit code and the last sentence say what was stored, and the
// rotated refresh token is never lost (each run starts from what the previous one left, so a lost refresh
// token would fail the next renewal).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, test, type TestContext } from 'node:test';
import type { TokenRecord } from '../src/token/record.ts';
import { DEMO_CLIENT, fakeYandex, issuedRecord, makeHome, startCli, writeConfig } from './support/harness.ts';
import { runCommand } from './support/in-process.ts';

const RUNS = 200;
const SIGNALS = [
  ['SIGINT', 2, /^Cancelled\./],
  ['SIGTERM', 143, /^Terminated\./],
  ['SIGHUP', 129, /^Hung up \(the terminal was closed\)\./],
] as const;

/** A small deterministic generator, so a failure can be repeated: the seed is in the test's name. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 20261130;

/** One chain of renewals on one home and emulator, each run stopped by a random signal; counts what happened. */
async function renewalChain(t: TestContext, seed: number, runs: number, seen: Record<'stored' | 'nothing' | 'killed' | 'completed', number>): Promise<void> {
  const next = random(seed);
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const due = (record: TokenRecord): TokenRecord => ({ ...record, obtainedAt: new Date(Date.now() - 100 * 86_400_000).toISOString() });
  const year = 365 * 86_400_000;
  writeConfig(home, { default: due(issuedRecord(yandex, { expiresInMs: year, issue: { deviceId: 'yt-signal-device' }, record: { deviceId: 'yt-signal-device' } })) });

  for (let run = 0; run < runs; run++) {
    const before = readFileSync(home.configFile, 'utf8');
    const stored = (JSON.parse(before) as { profiles: { default: TokenRecord } }).profiles.default;
    // Each run finds the token due, so that print renews it too.
    writeConfig(home, { default: due(stored) });
    const start = readFileSync(home.configFile, 'utf8');
    const renewalsBefore = yandex.counts['token:refresh_token'] ?? 0;
    yandex.slow(Math.floor(next() * 60));
    const [name, code, sentence] = SIGNALS[Math.floor(next() * SIGNALS.length)]!;
    const args = next() < 0.5 ? ['refresh'] : ['print'];
    const running = startCli(args, home.env, { timeoutMs: 30_000 });
    const delay = Math.floor(next() * 400);
    await new Promise((resolve) => setTimeout(resolve, delay));
    running.child.kill(name);
    const result = await running.done;
    const label = `seed ${seed} run ${run}: ${args[0]} with ${name} after ${delay} ms; exit ${result.code ?? result.signal}; stderr:\n${result.stderr}`;

    assert.ok(!existsSync(`${home.configFile}.lock`), `no lock left (${label})`);
    const after = readFileSync(home.configFile, 'utf8');
    const record = (JSON.parse(after) as { profiles: { default: TokenRecord } }).profiles.default;
    const renewed = (yandex.counts['token:refresh_token'] ?? 0) > renewalsBefore;
    const last = result.stderr.trim().split('\n').at(-1) ?? '';
    assert.doesNotMatch(result.stderr, /Unexpected error|^\s+at /m, label);

    if (result.code === 0) {
      seen.completed++;
      // Done before the signal was handled: the renewal is stored.
      assert.ok(renewed, label);
      assert.notEqual(record.refreshToken, stored.refreshToken, label);
      if (args[0] === 'print') assert.equal(result.stdout, `${record.accessToken}\n`, label);
    } else if (result.code === null) {
      // Killed by the signal itself, before the handlers were installed (the first milliseconds).
      seen.killed++;
      assert.equal(result.signal, name, label);
      assert.ok(!renewed, `no request was sent before the handlers existed (${label})`);
      assert.equal(after, start, label);
    } else {
      assert.equal(result.code, code, label);
      assert.match(last, sentence, label);
      if (/The renewed token was stored first/.test(last)) {
        seen.stored++;
        assert.ok(renewed, label);
        assert.notEqual(record.refreshToken, stored.refreshToken, label);
      } else {
        seen.nothing++;
        assert.match(last, /Nothing was stored\.$/, label);
        assert.equal(after, start, `the file is as it was (${label})`);
        assert.ok(!renewed, `Yandex did not rotate a refresh token that was then dropped (${label})`);
      }
      assert.equal(result.stdout, '', label);
    }
  }
  // The chain held: the refresh token the file holds now still renews.
  yandex.slow(0);
  const final = await startCli(['refresh'], home.env).done;
  assert.equal(final.code, 0, final.stderr);
}

/** Chains side by side: a run mostly waits (for its random instant, the interval, the process), so more
 * chains finish the same number of runs sooner. */
const RENEWAL_CHAINS = 8;
const DEVICE_CHAINS = 6;

/** One chain of device logins on one home and emulator, each `--poll` stopped by a random signal. */
async function deviceChain(t: TestContext, seed: number, runs: number, seen: Record<'stored' | 'nothing' | 'killed', number>): Promise<void> {
  const next = random(seed);
  const yandex = await fakeYandex(t, { deviceIntervalSeconds: 1 });
  const home = makeHome(t, yandex);
  for (let run = 0; run < runs; run++) {
    // Starting the login and logging out around the --poll are not what is tested: in-process, no process start.
    const started = await runCommand(['login', '--device', '--no-wait', '--json', '--client-id', DEMO_CLIENT.id, '--client-secret', DEMO_CLIENT.secret], home.env);
    assert.equal(started.code, 0, started.stderr);
    assert.ok(yandex.decideDevice((JSON.parse(started.stdout) as { user_code: string }).user_code, true));
    const before = readFileSync(home.configFile, 'utf8');
    const [name, code, sentence] = SIGNALS[Math.floor(next() * SIGNALS.length)]!;
    yandex.slow(Math.floor(next() * 60));
    const running = startCli(['login', '--device', '--poll'], home.env, { timeoutMs: 30_000 });
    const delay = Math.floor(next() * 2500);
    await new Promise((resolve) => setTimeout(resolve, delay));
    running.child.kill(name);
    const result = await running.done;
    const label = `seed ${seed} run ${run}: ${name} after ${delay} ms; exit ${result.code ?? result.signal}; stderr:\n${result.stderr}`;
    assert.ok(!existsSync(`${home.configFile}.lock`), `no lock left (${label})`);
    const after = JSON.parse(readFileSync(home.configFile, 'utf8')) as { pending?: Record<string, unknown> };
    if (result.code === 0) {
      seen.stored++;
      assert.match(result.stderr, /Logged in as /, label);
      assert.deepEqual(after.pending ?? {}, {}, label);
    } else if (result.code === null) {
      seen.killed++;
      assert.equal(result.signal, name, label);
      assert.equal(readFileSync(home.configFile, 'utf8'), before, label);
    } else {
      seen.nothing++;
      assert.equal(result.code, code, label);
      assert.match(result.stderr.trim().split('\n').at(-1)!, sentence, label);
      assert.match(result.stderr, /Nothing was stored\.\n$/, label);
      assert.equal(readFileSync(home.configFile, 'utf8'), before, `the file is as it was (${label})`);
    }
    // Whatever happened, the next round starts from a clean profile.
    await runCommand(['logout'], home.env);
  }
}

// The three tests are independent (a home and an emulator each) and mostly wait: side by side.
describe('random signals', { concurrency: true }, () => {
  test(`${RUNS} renewals in ${RENEWAL_CHAINS} chains side by side, each stopped by a random signal at a random instant (seeds ${SEED + 10}+): nothing lost, no lock left, the exit code tells the truth`, async (t) => {
    const seen = { stored: 0, nothing: 0, killed: 0, completed: 0 };
    await Promise.all(Array.from({ length: RENEWAL_CHAINS }, (_, i) => renewalChain(t, SEED + 10 + i, RUNS / RENEWAL_CHAINS, seen)));
    t.diagnostic(`outcomes: ${JSON.stringify(seen)}`);
  });

  test('Ctrl-C twice while Yandex answers a renewal: the second does not cut the answer off; it is stored, then exit 2', async (t) => {
    const yandex = await fakeYandex(t);
    const home = makeHome(t, yandex);
    const issued = issuedRecord(yandex, { expiresInMs: 365 * 86_400_000, issue: { deviceId: 'yt-signal-device' } });
    writeConfig(home, { default: issued });
    yandex.slow(800);
    const running = startCli(['refresh'], home.env);
    const deadline = Date.now() + 15_000;
    while (!yandex.requests.some((r) => r.path === '/token')) {
      assert.ok(Date.now() < deadline, 'the refresh request arrives');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    running.child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 100));
    running.child.kill('SIGINT');
    const result = await running.done;
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /Waiting up to 2 s for Yandex's answer, to store it first…\n/);
    assert.match(result.stderr, /Cancelled\. The renewed token was stored first: Yandex had already answered\.\n$/);
    const stored = (JSON.parse(readFileSync(home.configFile, 'utf8')) as { profiles: { default: TokenRecord } }).profiles.default;
    assert.notEqual(stored.refreshToken, issued.refreshToken, 'the rotated refresh token was kept');
    yandex.slow(0);
    assert.equal((await startCli(['refresh'], home.env).done).code, 0, 'and it still renews');
  });

  test(`30 device logins finished by --poll in ${DEVICE_CHAINS} chains side by side, each stopped by a random signal (seeds ${SEED + 20}+): no lock left, and the exit code says whether the login was stored`, async (t) => {
    const seen = { stored: 0, nothing: 0, killed: 0 };
    await Promise.all(Array.from({ length: DEVICE_CHAINS }, (_, i) => deviceChain(t, SEED + 20 + i, 30 / DEVICE_CHAINS, seen)));
    t.diagnostic(`outcomes: ${JSON.stringify(seen)}`);
  });
});
