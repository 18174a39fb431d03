// `npm run bench`: start-up time and peak memory of print, print --json, --help and --version against
// bare `node -e 0`, measured alternately in one run on this machine; and the wall time of a full login
// against the emulator with the scripted browser. Prints medians, spread, ratios and peak RSS.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startEmulator, DEMO_CLIENT } from '../src/emulator/index.ts';
import { BIN, SCRIPTED_BROWSER, freePort } from './support/harness.ts';

const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 60);
const warmup = 5;
const home = mkdtempSync(join(tmpdir(), 'yandex-token-bench-'));
const configDir = join(home, 'config', 'yandex-token');
mkdirSync(configDir, { recursive: true, mode: 0o700 });
const now = new Date();
writeFileSync(
  join(configDir, 'config.json'),
  JSON.stringify({
    profiles: {
      default: {
        accessToken: 'y0_bench_token',
        refreshToken: '1:bench',
        expiresAt: new Date(now.getTime() + 365 * 86_400_000).toISOString(),
        clientId: DEMO_CLIENT.id,
        clientSecret: DEMO_CLIENT.secret,
        login: 'bench.user',
        obtainedAt: now.toISOString(),
      },
    },
    deviceIds: {},
  }),
  { mode: 0o600 },
);
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, XDG_CONFIG_HOME: join(home, 'config') };

// Reports the process's peak RSS on fd 3 as it exits; used in a separate pass so it costs no time above.
const rssProbe = join(home, 'rss-probe.mjs');
writeFileSync(rssProbe, "import { writeSync } from 'node:fs';\nprocess.on('exit', () => { try { writeSync(3, String(process.resourceUsage().maxRSS)); } catch {} });\n");

// The floor: a dependency-free CommonJS script that reads the same file and writes the token the way
// print does (one write(2) on fd 1; process.stdout alone would cost it about 3 ms).
const floor = join(home, 'floor.cjs');
writeFileSync(
  floor,
  "const fs = require('node:fs');\nconst f = require('node:path').join(process.env.XDG_CONFIG_HOME, 'yandex-token', 'config.json');\nfs.writeSync(1, JSON.parse(fs.readFileSync(f, 'utf8')).profiles.default.accessToken + '\\n');\n",
);

// The floor for `completion bash`: a script that writes the same text (embedded) the same way.
const completionFloor = join(home, 'completion-floor.cjs');
const bashScript = (JSON.parse(readFileSync(join(BIN, '..', '..', 'dist', 'completion.json'), 'utf8')) as Record<string, string>).bash!;
writeFileSync(completionFloor, `require('node:fs').writeSync(1, ${JSON.stringify(bashScript)});\n`);

const cases: { name: string; args: string[] }[] = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'floor', args: [floor] },
  { name: 'print', args: [BIN, 'print'] },
  { name: 'print --json', args: [BIN, 'print', '--json'] },
  { name: '--help', args: [BIN, '--help'] },
  { name: '--version', args: [BIN, '--version'] },
  { name: 'completion floor', args: [completionFloor] },
  { name: 'completion bash', args: [BIN, 'completion', 'bash'] },
];

function once(args: string[], probe = false): { ms: number; rssKiB?: number } {
  const start = performance.now();
  const result = spawnSync(process.execPath, probe ? ['--import', rssProbe, ...args] : args, {
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  const rss = probe ? Number(result.output[3]?.toString()) : undefined;
  return { ms, rssKiB: rss };
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

/** The cases in a new random order each round, so that no case always follows the same one. */
function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

for (let i = 0; i < warmup; i++) for (const c of cases) once(c.args);
const times = new Map(cases.map((c) => [c.name, [] as number[]]));
// Each case's time over bare Node's in the same round: the machine's drift over the run cancels out.
const ratios = new Map(cases.map((c) => [c.name, [] as number[]]));
const rss = new Map(cases.map((c) => [c.name, [] as number[]]));
for (let i = 0; i < runs; i++) {
  const round = new Map(shuffled(cases).map((c) => [c.name, once(c.args).ms]));
  for (const c of cases) {
    times.get(c.name)!.push(round.get(c.name)!);
    ratios.get(c.name)!.push(round.get(c.name)! / round.get('node -e 0')!);
  }
}
for (let i = 0; i < Math.min(runs, 15); i++) for (const c of shuffled(cases)) rss.get(c.name)!.push(once(c.args, true).rssKiB!);

const baseRss = quantile(rss.get('node -e 0')!, 0.5);
console.log(`yandex-token start-up, ${runs} rounds of every case in random order after ${warmup} warm-up rounds (node ${process.version})`);
console.log('× node: the median over rounds of the case\'s time over bare Node\'s in the same round\n');
console.log('command          median ms  p10–p90 ms     × node  (95% CI)      peak RSS MiB  × node');
// The median's 95% confidence interval without assuming a distribution: the order statistics
// n/2 ± 0.98·√n of the sorted per-round ratios.
const medianInterval = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const half = 0.98 * Math.sqrt(sorted.length);
  const at = (i: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(i)))]!;
  return `${at(sorted.length / 2 - half).toFixed(2)}–${at(sorted.length / 2 + half - 1).toFixed(2)}`;
};
for (const c of cases) {
  const t = times.get(c.name)!;
  const median = quantile(t, 0.5);
  const r = quantile(rss.get(c.name)!, 0.5);
  console.log(
    `${c.name.padEnd(16)} ${median.toFixed(1).padStart(9)}  ${`${quantile(t, 0.1).toFixed(1)}–${quantile(t, 0.9).toFixed(1)}`.padEnd(13)}  ${quantile(ratios.get(c.name)!, 0.5).toFixed(2).padStart(5)}  (${medianInterval(ratios.get(c.name)!)})  ${(r / 1024).toFixed(1).padStart(12)}  ${(r / baseRss).toFixed(2).padStart(6)}`,
  );
}

// A second opinion from hyperfine, when it is installed: the same cases, each in one block of rounds
// (hyperfine does not interleave them, so the machine's drift is not cancelled; compare with care).
if (spawnSync('hyperfine', ['--version'], { stdio: 'ignore' }).status === 0) {
  const report = join(home, 'hyperfine.json');
  const commands = cases.map((c) => [process.execPath, ...c.args].map((word) => JSON.stringify(word)).join(' '));
  const result = spawnSync('hyperfine', ['-N', '--warmup', String(warmup), '--runs', String(runs), '--export-json', report, ...commands], { env, stdio: 'ignore' });
  if (result.status === 0) {
    const { results } = JSON.parse(readFileSync(report, 'utf8')) as { results: { median: number }[] };
    console.log(`\nhyperfine -N, ${runs} runs each in one block per command`);
    console.log('command          median ms  × node');
    cases.forEach((c, i) => {
      console.log(`${c.name.padEnd(16)} ${(results[i]!.median * 1000).toFixed(1).padStart(9)}  ${(results[i]!.median / results[0]!.median).toFixed(2).padStart(6)}`);
    });
  }
}

// A full login: emulator in this process, the CLI and the scripted browser as separate processes.
const emulator = await startEmulator();
const loginTimes: number[] = [];
try {
  for (let i = 0; i < 5; i++) {
    const port = await freePort();
    const start = performance.now();
    // Asynchronously: the emulator answers from this process's event loop.
    await promisify(execFile)(
      process.execPath,
      [BIN, 'login', '--client-id', DEMO_CLIENT.id, '--client-secret', DEMO_CLIENT.secret, '--port', String(port), '--profile', `bench${i}`],
      {
        env: {
          ...env,
          YANDEX_OAUTH_URL: emulator.url,
          YANDEX_LOGIN_URL: emulator.url,
          BROWSER: `${JSON.stringify(process.execPath)} ${JSON.stringify(SCRIPTED_BROWSER)}`,
        },
        timeout: 30_000,
      },
    );
    loginTimes.push(performance.now() - start);
  }
} finally {
  await emulator.close();
  rmSync(home, { recursive: true, force: true });
}
console.log(`\nfull login against the emulator with the scripted browser: median ${quantile(loginTimes, 0.5).toFixed(0)} ms over ${loginTimes.length} runs`);


// ---------------------------------------------------------------------------------------------------
// Renewals: how long Yandex's answer waits before it is safe on disk, and a crowd of prints on one renewal.

/** A token endpoint that renews anything, noting when each answer's last byte left (process.hrtime). */
async function fakeTokenEndpoint(): Promise<{ url: string; finished: number[]; requests: () => number; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const finished: number[] = [];
  let count = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/info')) {
        const info = JSON.stringify({ id: '1', login: 'bench.user', client_id: DEMO_CLIENT.id, psuid: 'x' });
        return void res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(info) }).end(info);
      }
      count++;
      const body = JSON.stringify({ access_token: `y0_bench_renewed_${count}`, refresh_token: `1:bench:${count}`, expires_in: 31_536_000, token_type: 'bearer' });
      res.on('finish', () => finished.push(performance.now()));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    finished,
    requests: () => count,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function writeRecord(dir: string, record: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ profiles: { default: record }, deviceIds: {} }), { mode: 0o600 });
}

const renewalHome = mkdtempSync(join(tmpdir(), 'yandex-token-bench-renewal-'));
const renewalDir = join(renewalHome, 'config', 'yandex-token');
const endpoint = await fakeTokenEndpoint();
const renewalEnv = { ...env, HOME: renewalHome, XDG_CONFIG_HOME: join(renewalHome, 'config'), YANDEX_OAUTH_URL: endpoint.url, YANDEX_LOGIN_URL: endpoint.url };
const record = (ageDays: number, expiresInDays: number) => ({
  accessToken: 'y0_bench_token',
  refreshToken: '1:bench',
  expiresAt: new Date(Date.now() + expiresInDays * 86_400_000).toISOString(),
  clientId: DEMO_CLIENT.id,
  clientSecret: DEMO_CLIENT.secret,
  obtainedAt: new Date(Date.now() - ageDays * 86_400_000).toISOString(),
});
try {
  // The answer's last byte (the server's 'finish') to the rename that puts config.json in place (inotify).
  const { watch } = await import('node:fs');
  const gaps: number[] = [];
  for (let i = 0; i < 20; i++) {
    writeRecord(renewalDir, record(0, 365));
    let renamed = 0;
    const watcher = watch(renewalDir, (event, name) => {
      if (event === 'rename' && name === 'config.json' && endpoint.finished.length > 0) renamed ||= performance.now();
    });
    endpoint.finished.length = 0;
    await promisify(execFile)(process.execPath, [BIN, 'refresh'], { env: renewalEnv, timeout: 30_000 });
    watcher.close();
    if (renamed && endpoint.finished[0] !== undefined) gaps.push(renamed - endpoint.finished[0]);
  }
  console.log(`\nrefresh: from the answer's last byte to the rename of config.json: median ${quantile(gaps, 0.5).toFixed(1)} ms, p90 ${quantile(gaps, 0.9).toFixed(1)} ms over ${gaps.length} runs (goal ≤ 15 ms)`);

  // 200 prints at once, on a fresh token and on an expired one (one renewal between them), side by side.
  const crowd = async (expired: boolean): Promise<number> => {
    writeRecord(renewalDir, expired ? record(366, -1) : record(0, 365));
    const before = endpoint.requests();
    const start = performance.now();
    await Promise.all(Array.from({ length: 200 }, () => promisify(execFile)(process.execPath, [BIN, 'print'], { env: renewalEnv, timeout: 120_000 })));
    const ms = performance.now() - start;
    if (expired && endpoint.requests() - before !== 1) throw new Error(`the crowd made ${endpoint.requests() - before} renewals`);
    return ms;
  };
  const crowdRatios: number[] = [];
  for (let i = 0; i < 5; i++) {
    const fresh = await crowd(false);
    crowdRatios.push((await crowd(true)) / fresh);
  }
  console.log(`200 concurrent prints on an expired token / on a fresh one: median ${quantile(crowdRatios, 0.5).toFixed(2)}× over ${crowdRatios.length} paired rounds (goal ≤ 1.5×)`);

  // Issue 19's paths against floor scripts doing the same with node:http, side by side in 20 paired rounds:
  // status (one online check of a fresh token) and print renewing a due token (the request, then the file).
  const statusFloor = join(renewalHome, 'status-floor.cjs');
  writeFileSync(
    statusFloor,
    `const http = require('node:http');
const fs = require('node:fs');
const record = JSON.parse(fs.readFileSync(process.env.XDG_CONFIG_HOME + '/yandex-token/config.json', 'utf8')).profiles.default;
http.get(process.env.YANDEX_LOGIN_URL + '/info?format=json', { headers: { authorization: 'OAuth ' + record.accessToken } }, (res) => {
  let text = '';
  res.on('data', (chunk) => (text += chunk)).on('end', () => fs.writeSync(2, JSON.parse(text).login + ' valid\\n'));
});
`,
  );
  const renewFloor = join(renewalHome, 'renew-floor.cjs');
  writeFileSync(
    renewFloor,
    `const http = require('node:http');
const fs = require('node:fs');
const file = process.env.XDG_CONFIG_HOME + '/yandex-token/config.json';
const data = JSON.parse(fs.readFileSync(file, 'utf8'));
const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: data.profiles.default.refreshToken }).toString();
const req = http.request(process.env.YANDEX_OAUTH_URL + '/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
  let text = '';
  res.on('data', (chunk) => (text += chunk)).on('end', () => {
    const answer = JSON.parse(text);
    Object.assign(data.profiles.default, { accessToken: answer.access_token, refreshToken: answer.refresh_token, obtainedAt: new Date().toISOString() });
    fs.writeFileSync(file + '.tmp', JSON.stringify(data, null, '\\t'), { mode: 0o600 });
    fs.renameSync(file + '.tmp', file);
    fs.writeSync(1, answer.access_token + '\\n');
  });
});
req.end(body);
`,
  );
  const timed = async (args: string[], record: Record<string, unknown>) => {
    writeRecord(renewalDir, record);
    const start = performance.now();
    await promisify(execFile)(process.execPath, args, { env: renewalEnv, timeout: 30_000 });
    return performance.now() - start;
  };
  const paths: [string, string[], string[], () => Record<string, unknown>][] = [
    ['status (one profile, online)', [BIN, 'status'], [statusFloor], () => record(0, 365)],
    ['print renewing a due token', [BIN, 'print'], [renewFloor], () => record(100, 265)],
    ['refresh', [BIN, 'refresh'], [renewFloor], () => record(0, 365)],
  ];
  for (const [name, cli, floor, rec] of paths) {
    const ratios: number[] = [];
    for (let i = 0; i < 20; i++) {
      const floorMs = await timed(floor, rec());
      ratios.push((await timed(cli, rec())) / floorMs);
    }
    console.log(`${name} / its node:http floor: median ${quantile(ratios, 0.5).toFixed(2)}× over ${ratios.length} paired rounds`);
  }
} finally {
  await endpoint.close();
  rmSync(renewalHome, { recursive: true, force: true });
}
