// `npm run bench`: every path of issue 19 against its floor, measured side by side on this machine in one
// run, each ratio with its 95 % interval:
//   1. start-up: print, print --json, --help, --version against bare `node -e 0` (and the print floor), and
//      `completion bash|zsh|fish` against scripts that write the same text; then peak RSS;
//   2. against servers in this process: status, a renewing print and refresh (also with a 100 ms endpoint,
//      like Yandex over TLS), and a whole login with the scripted browser, each against a floor script
//      that does the same with node:http; rclone's `authorize` on the same fake when rclone is installed;
//      peak RSS of login and of a renewing print against their floors;
//   3. a renewal's answer to the rename of config.json, and 200 prints at once on an expired token.
// Run it in a clean environment (`env -i PATH=… HOME=$(mktemp -d) npm run bench`; README, Performance).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startEmulator, DEMO_CLIENT } from '../src/emulator/index.ts';
import { BIN, ROOT, SCRIPTED_BROWSER, freePort } from './support/harness.ts';

const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 60);
const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 20);
const warmup = 5;
const home = mkdtempSync(join(tmpdir(), 'yandex-token-bench-'));
const configDir = join(home, 'config', 'yandex-token');
const configFile = join(configDir, 'config.json');
const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, XDG_CONFIG_HOME: join(home, 'config') };

/** A profile "default" holding a token obtained `ageDays` ago that expires in `expiresInDays`. */
const record = (ageDays: number, expiresInDays: number) => ({
  accessToken: 'y0_bench_token',
  refreshToken: '1:bench',
  expiresAt: new Date(Date.now() + expiresInDays * 86_400_000).toISOString(),
  clientId: DEMO_CLIENT.id,
  clientSecret: DEMO_CLIENT.secret,
  login: 'bench.user',
  obtainedAt: new Date(Date.now() - ageDays * 86_400_000).toISOString(),
});
function writeRecord(value: Record<string, unknown>): void {
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  writeFileSync(configFile, JSON.stringify({ profiles: { default: value }, deviceIds: {} }), { mode: 0o600 });
}
/** A script in the bench's folder. */
function script(name: string, text: string): string {
  const path = join(home, name);
  writeFileSync(path, text, { mode: 0o700 });
  return path;
}

// Reports the process's peak RSS on fd 3 as it exits; used in separate passes so it costs no time above.
const rssProbe = script('rss-probe.mjs', "import { writeSync } from 'node:fs';\nprocess.on('exit', () => { try { writeSync(3, String(process.resourceUsage().maxRSS)); } catch {} });\n");

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
// The median's 95% confidence interval without assuming a distribution: the order statistics
// n/2 ± 0.98·√n of the sorted values.
const medianInterval = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const half = 0.98 * Math.sqrt(sorted.length);
  const at = (i: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(i)))]!;
  return `${at(sorted.length / 2 - half).toFixed(2)}–${at(sorted.length / 2 + half - 1).toFixed(2)}`;
};
/** "1.23× (95% 1.20–1.26)": the median of the ratios and its interval. */
const ratio = (values: number[]) => `${quantile(values, 0.5).toFixed(2)}× (95% ${medianInterval(values)})`;

/** The items in a new random order, so that no case always follows the same one. */
function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

// ---------------------------------------------------------------------------------------------------
// 1. Start-up, synchronously (nothing in this process needs to answer).
writeRecord(record(0, 365));

// The floor of print: a dependency-free CommonJS script that reads the same file and writes the token the
// way print does (one write(2) on fd 1; process.stdout alone would cost it about 3 ms).
const floor = script(
  'floor.cjs',
  "const fs = require('node:fs');\nconst f = require('node:path').join(process.env.XDG_CONFIG_HOME, 'yandex-token', 'config.json');\nfs.writeSync(1, JSON.parse(fs.readFileSync(f, 'utf8')).profiles.default.accessToken + '\\n');\n",
);
const completions = JSON.parse(readFileSync(join(ROOT, 'dist', 'completion.json'), 'utf8')) as Record<string, string>;

interface Case {
  name: string;
  args: string[];
  /** The case its time is divided by in each round. */
  floor: string;
}
const cases: Case[] = [
  { name: 'node -e 0', args: ['-e', '0'], floor: 'node -e 0' },
  { name: 'print floor', args: [floor], floor: 'node -e 0' },
  { name: 'print', args: [BIN, 'print'], floor: 'node -e 0' },
  { name: 'print --json', args: [BIN, 'print', '--json'], floor: 'node -e 0' },
  { name: '--help', args: [BIN, '--help'], floor: 'node -e 0' },
  { name: '--version', args: [BIN, '--version'], floor: 'node -e 0' },
];
for (const shell of ['bash', 'zsh', 'fish']) {
  // The floor of `completion <shell>`: a script that writes the same text (embedded) the same way.
  const text = completions[shell]!;
  cases.push({ name: `${shell} floor`, args: [script(`completion-${shell}.cjs`, `require('node:fs').writeSync(1, ${JSON.stringify(text)});\n`)], floor: 'node -e 0' });
  cases.push({ name: `completion ${shell}`, args: [BIN, 'completion', shell], floor: `${shell} floor` });
}

function once(args: string[], probe = false): { ms: number; rssKiB?: number } {
  const start = performance.now();
  const result = spawnSync(process.execPath, probe ? ['--import', rssProbe, ...args] : args, { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return { ms, rssKiB: probe ? Number(result.output[3]?.toString()) : undefined };
}

for (let i = 0; i < warmup; i++) for (const c of cases) once(c.args);
const times = new Map(cases.map((c) => [c.name, [] as number[]]));
// Each case's time over its floor's in the same round: the machine's drift over the run cancels out.
const ratios = new Map(cases.map((c) => [c.name, [] as number[]]));
const rss = new Map(cases.map((c) => [c.name, [] as number[]]));
for (let i = 0; i < runs; i++) {
  const round = new Map(shuffled(cases).map((c) => [c.name, once(c.args).ms]));
  for (const c of cases) {
    times.get(c.name)!.push(round.get(c.name)!);
    ratios.get(c.name)!.push(round.get(c.name)! / round.get(c.floor)!);
  }
}
for (let i = 0; i < Math.min(runs, 15); i++) for (const c of shuffled(cases)) rss.get(c.name)!.push(once(c.args, true).rssKiB!);

console.log(`yandex-token, ${runs} rounds of every start-up case in random order after ${warmup} warm-up rounds (node ${process.version})`);
console.log("×: the median over rounds of the case's time over its floor's in the same round, with its 95% interval\n");
console.log('command            median ms  p10–p90 ms     × of           ×  (95% CI)      peak RSS MiB  × floor');
for (const c of cases) {
  const t = times.get(c.name)!;
  const r = quantile(rss.get(c.name)!, 0.5);
  console.log(
    `${c.name.padEnd(18)} ${quantile(t, 0.5).toFixed(1).padStart(9)}  ${`${quantile(t, 0.1).toFixed(1)}–${quantile(t, 0.9).toFixed(1)}`.padEnd(13)}  ${c.floor.padEnd(10)} ${quantile(ratios.get(c.name)!, 0.5).toFixed(2).padStart(5)}  (${medianInterval(ratios.get(c.name)!)})  ${(r / 1024).toFixed(1).padStart(12)}  ${(r / quantile(rss.get(c.floor)!, 0.5)).toFixed(2).padStart(7)}`,
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
    console.log('command            median ms  × node');
    cases.forEach((c, i) => console.log(`${c.name.padEnd(18)} ${(results[i]!.median * 1000).toFixed(1).padStart(9)}  ${(results[i]!.median / results[0]!.median).toFixed(2).padStart(6)}`));
  }
}

// ---------------------------------------------------------------------------------------------------
// 2. Paths that talk to a server, which answers from this process's event loop: the processes run
// asynchronously.

/** Runs a program to its end; its time, and with `probe` its peak RSS. */
function run(command: string, args: string[], runEnv: Record<string, string>, probe = false): Promise<{ ms: number; rssKiB?: number }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, probe ? ['--import', rssProbe, ...args] : args, { env: runEnv, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    const output: Buffer[][] = [[], [], [], []];
    child.stdio.forEach((stream, fd) => stream?.on('data', (chunk: Buffer) => output[fd]!.push(chunk)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = performance.now() - start;
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${Buffer.concat(output[2]!).toString()}`));
      resolve({ ms, rssKiB: probe ? Number(Buffer.concat(output[3]!).toString()) : undefined });
    });
  });
}

/** A token endpoint (and /info) that renews anything after `delayMs`, noting when each answer's last byte left. */
async function fakeTokenEndpoint(delayMs = 0): Promise<{ url: string; finished: number[]; requests: () => number; close(): Promise<void> }> {
  const finished: number[] = [];
  let count = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        if (req.url?.startsWith('/info')) {
          const info = JSON.stringify({ id: '1', login: 'bench.user', client_id: DEMO_CLIENT.id, psuid: 'x' });
          return void res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(info) }).end(info);
        }
        count++;
        const body = JSON.stringify({ access_token: `y0_bench_renewed_${count}`, refresh_token: `1:bench:${count}`, expires_in: 31_536_000, token_type: 'bearer' });
        res.on('finish', () => finished.push(performance.now()));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      }, delayMs),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    finished,
    requests: () => count,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const statusFloor = script(
  'status-floor.cjs',
  `const http = require('node:http');
const fs = require('node:fs');
const record = JSON.parse(fs.readFileSync(process.env.XDG_CONFIG_HOME + '/yandex-token/config.json', 'utf8')).profiles.default;
http.get(process.env.YANDEX_LOGIN_URL + '/info?format=json', { headers: { authorization: 'OAuth ' + record.accessToken } }, (res) => {
  let text = '';
  res.on('data', (chunk) => (text += chunk)).on('end', () => fs.writeSync(2, JSON.parse(text).login + ' valid\\n'));
});
`,
);
const renewFloor = script(
  'renew-floor.cjs',
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
// The floor of a login: the same exchanges with node:http (a listener on the port, PKCE, the browser started
// through the shell as BROWSER is, the code exchanged, /info asked, the file written), then a page for the
// browser.
const loginFloor = script(
  'login-floor.cjs',
  `const http = require('node:http');
const fs = require('node:fs');
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');
const env = process.env;
const verifier = crypto.randomBytes(32).toString('base64url');
const state = crypto.randomBytes(16).toString('base64url');
const redirect = 'http://127.0.0.1:' + env.PORT + '/callback';
const read = (res, done) => { let text = ''; res.on('data', (chunk) => (text += chunk)).on('end', () => done(JSON.parse(text))); };
const server = http.createServer((req, res) => {
  const query = new URL(req.url, redirect).searchParams;
  if (query.get('state') !== state || !query.get('code')) return void res.writeHead(400).end();
  const body = new URLSearchParams({ grant_type: 'authorization_code', code: query.get('code'), redirect_uri: redirect, client_id: env.CLIENT_ID, client_secret: env.CLIENT_SECRET, code_verifier: verifier }).toString();
  http.request(env.YANDEX_OAUTH_URL + '/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (answer) => read(answer, (token) => {
    http.get(env.YANDEX_LOGIN_URL + '/info?format=json', { headers: { authorization: 'OAuth ' + token.access_token } }, (reply) => read(reply, (info) => {
      const file = env.XDG_CONFIG_HOME + '/yandex-token/config.json';
      const data = JSON.parse(fs.readFileSync(file, 'utf8'));
      data.profiles[env.PROFILE] = { accessToken: token.access_token, refreshToken: token.refresh_token, expiresAt: new Date(Date.now() + token.expires_in * 1000).toISOString(), clientId: env.CLIENT_ID, clientSecret: env.CLIENT_SECRET, login: info.login, obtainedAt: new Date().toISOString() };
      fs.writeFileSync(file + '.tmp', JSON.stringify(data, null, '\\t'), { mode: 0o600 });
      fs.renameSync(file + '.tmp', file);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', connection: 'close' }).end('<!doctype html><title>Logged in</title><p>Logged in. You can close this tab.');
      server.close();
      fs.writeSync(2, 'Logged in as ' + info.login + '\\n');
    }));
  })).end(body);
});
server.listen(Number(env.PORT), '127.0.0.1', () => {
  const challenge = crypto.createHash('sha256').update(verifier).digest('base64url');
  const url = env.YANDEX_OAUTH_URL + '/authorize?' + new URLSearchParams({ response_type: 'code', client_id: env.CLIENT_ID, redirect_uri: redirect, state, code_challenge: challenge, code_challenge_method: 'S256' });
  spawn('/bin/sh', ['-c', env.BROWSER + ' "$1"', 'browser', url], { stdio: 'ignore', detached: true }).unref();
});
`,
);
// rclone opens its own page (127.0.0.1:53682/auth), which redirects to the authorize URL; the scripted
// browser does not follow that first redirect, so this one does, then clicks the same way.
const rcloneBrowser = script(
  'rclone-browser.mjs',
  `import { get } from 'node:http';
import { visit } from ${JSON.stringify(SCRIPTED_BROWSER)};
const url = process.argv[2];
const location = await new Promise((resolve, reject) => get(url, (res) => { res.resume(); resolve(new URL(res.headers.location, url).href); }).on('error', reject));
await visit(location);
`,
);
const rcloneBrowserCommand = script('rclone-browser.sh', `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(rcloneBrowser)} "$1"\n`);
chmodSync(rcloneBrowserCommand, 0o755);
const hasRclone = spawnSync('rclone', ['version'], { stdio: 'ignore' }).status === 0;

/** One side of a paired comparison: how to prepare a run, and the run. */
interface Side {
  name: string;
  prepare: () => Promise<void> | void;
  go: (probe: boolean) => Promise<{ ms: number; rssKiB?: number }>;
}

/** `rounds` rounds of every side in random order: each side's time over the first side's (the floor) in the same round. */
async function paired(sides: Side[], count: number): Promise<{ ms: Map<string, number[]>; ratios: Map<string, number[]> }> {
  const ms = new Map(sides.map((s) => [s.name, [] as number[]]));
  const ratios = new Map(sides.map((s) => [s.name, [] as number[]]));
  for (let i = 0; i < count + 2; i++) {
    const round = new Map<string, number>();
    for (const side of shuffled(sides)) {
      await side.prepare();
      round.set(side.name, (await side.go(false)).ms);
    }
    if (i < 2) continue; // warm-up
    for (const side of sides) {
      ms.get(side.name)!.push(round.get(side.name)!);
      ratios.get(side.name)!.push(round.get(side.name)! / round.get(sides[0]!.name)!);
    }
  }
  return { ms, ratios };
}

/** Median peak RSS of each side over `count` runs, in MiB. */
async function peakRss(sides: Side[], count: number): Promise<Map<string, number>> {
  const rssOf = new Map(sides.map((s) => [s.name, [] as number[]]));
  for (let i = 0; i < count; i++) {
    for (const side of shuffled(sides)) {
      await side.prepare();
      rssOf.get(side.name)!.push((await side.go(true)).rssKiB! / 1024);
    }
  }
  return new Map([...rssOf].map(([name, values]) => [name, quantile(values, 0.5)]));
}

function report(title: string, sides: Side[], result: { ms: Map<string, number[]>; ratios: Map<string, number[]> }, goal: string): void {
  const [floorSide, ...others] = sides;
  console.log(`${title}: ${floorSide!.name} ${quantile(result.ms.get(floorSide!.name)!, 0.5).toFixed(1)} ms`);
  for (const side of others) {
    console.log(`  ${side.name.padEnd(28)} ${quantile(result.ms.get(side.name)!, 0.5).toFixed(1).padStart(7)} ms  ${ratio(result.ratios.get(side.name)!)}${side === others[0] ? `  goal ${goal}` : ''}`);
  }
}

const endpoint = await fakeTokenEndpoint();
const slowEndpoint = await fakeTokenEndpoint(100);
const emulator = await startEmulator();
const endpointEnv = (url: string) => ({ ...env, YANDEX_OAUTH_URL: url, YANDEX_LOGIN_URL: url });
/** A Node program against `url`, on the record `value()` written before each run. */
const sideOf = (name: string, args: string[], url: string, value: () => Record<string, unknown>): Side => ({
  name,
  prepare: () => writeRecord(value()),
  go: (probe) => run(process.execPath, args, endpointEnv(url), probe),
});
try {
  console.log(`\nAgainst servers in this process, ${rounds} paired rounds (after 2 warm-up rounds), each side in random order; × is over the floor in the same round`);
  const fresh = () => record(0, 365);
  const due = () => record(100, 265);
  const status = [sideOf('status floor (node:http GET)', [statusFloor], endpoint.url, fresh), sideOf('status', [BIN, 'status'], endpoint.url, fresh)];
  report('status, one profile, checked online', status, await paired(status, rounds), '≤ 1.5×');
  const renewal = [
    sideOf('renewal floor', [renewFloor], endpoint.url, due),
    sideOf('print renewing a due token', [BIN, 'print'], endpoint.url, due),
    sideOf('refresh', [BIN, 'refresh'], endpoint.url, fresh),
  ];
  report('renewal (node:http refresh and rename floor)', renewal, await paired(renewal, rounds), '≤ 2.0×');
  const slow = [sideOf('renewal floor, 100 ms endpoint', [renewFloor], slowEndpoint.url, due), sideOf('print renewing, 100 ms endpoint', [BIN, 'print'], slowEndpoint.url, due)];
  report('renewal against an endpoint that answers after 100 ms', slow, await paired(slow, Math.ceil(rounds / 2)), '(for the record)');

  // A whole login against the emulator, the scripted browser clicking Allow; a new port each time.
  const browser = `${JSON.stringify(process.execPath)} ${JSON.stringify(SCRIPTED_BROWSER)}`;
  const loginEnv = { ...env, YANDEX_OAUTH_URL: emulator.url, YANDEX_LOGIN_URL: emulator.url, BROWSER: browser };
  const login: Side[] = [
    {
      name: 'login floor',
      prepare: () => writeRecord(fresh()),
      go: async (probe) => run(process.execPath, [loginFloor], { ...loginEnv, PORT: String(await freePort()), PROFILE: 'bench', CLIENT_ID: DEMO_CLIENT.id, CLIENT_SECRET: DEMO_CLIENT.secret }, probe),
    },
    {
      name: 'login',
      prepare: () => writeRecord(fresh()),
      go: async (probe) =>
        run(process.execPath, [BIN, 'login', '--client-id', DEMO_CLIENT.id, '--client-secret', DEMO_CLIENT.secret, '--port', String(await freePort()), '--profile', 'bench'], loginEnv, probe),
    },
  ];
  if (hasRclone) {
    login.push({
      name: 'rclone authorize',
      prepare: () => undefined,
      go: () =>
        run('rclone', ['authorize', 'yandex', DEMO_CLIENT.id, DEMO_CLIENT.secret], {
          ...env,
          BROWSER: rcloneBrowserCommand,
          RCLONE_YANDEX_AUTH_URL: `${emulator.url}/authorize`,
          RCLONE_YANDEX_TOKEN_URL: `${emulator.url}/token`,
        }),
    });
  }
  const logins = await paired(login, rounds);
  report('a whole login with the scripted browser (emulator)', login, logins, '≤ 1.3×');
  if (hasRclone) console.log(`  login / rclone authorize in the same round: ${ratio(logins.ms.get('login')!.map((ms, i) => ms / logins.ms.get('rclone authorize')![i]!))} (rclone: 127.0.0.1:53682, xdg-open, one more redirect)`);
  else console.log('  (rclone is not installed: `apt-get install rclone` adds `rclone authorize` on the same fake)');

  const memory = [login[0]!, login[1]!, renewal[0]!, renewal[1]!];
  const peak = await peakRss(memory, 7);
  console.log('peak RSS (median of 7 runs each, MiB)');
  console.log(`  login ${peak.get('login')!.toFixed(1)}, its floor ${peak.get('login floor')!.toFixed(1)}: ${(peak.get('login')! / peak.get('login floor')!).toFixed(2)}×  goal ≤ 1.3×`);
  console.log(`  print renewing ${peak.get('print renewing a due token')!.toFixed(1)}, its floor ${peak.get('renewal floor')!.toFixed(1)}: ${(peak.get('print renewing a due token')! / peak.get('renewal floor')!).toFixed(2)}×  goal ≤ 1.3×`);

  // -------------------------------------------------------------------------------------------------
  // 3. The answer's last byte (the server's 'finish') to the rename that puts config.json in place (inotify).
  const { watch } = await import('node:fs');
  const gaps: number[] = [];
  for (let i = 0; i < 20; i++) {
    writeRecord(fresh());
    let renamed = 0;
    const watcher = watch(configDir, (event, name) => {
      if (event === 'rename' && name === 'config.json' && endpoint.finished.length > 0) renamed ||= performance.now();
    });
    endpoint.finished.length = 0;
    await run(process.execPath, [BIN, 'refresh'], endpointEnv(endpoint.url));
    watcher.close();
    if (renamed && endpoint.finished[0] !== undefined) gaps.push(renamed - endpoint.finished[0]);
  }
  console.log(`\nrefresh: from the answer's last byte to the rename of config.json: median ${quantile(gaps, 0.5).toFixed(1)} ms, p90 ${quantile(gaps, 0.9).toFixed(1)} ms over ${gaps.length} runs (goal ≤ 15 ms)`);

  // 200 prints at once, on a fresh token and on an expired one (one renewal between them), side by side.
  const crowd = async (expired: boolean): Promise<number> => {
    writeRecord(expired ? record(366, -1) : fresh());
    const before = endpoint.requests();
    const start = performance.now();
    await Promise.all(Array.from({ length: 200 }, () => run(process.execPath, [BIN, 'print'], endpointEnv(endpoint.url))));
    const ms = performance.now() - start;
    if (expired && endpoint.requests() - before !== 1) throw new Error(`the crowd made ${endpoint.requests() - before} renewals`);
    return ms;
  };
  const crowdRatios: number[] = [];
  for (let i = 0; i < 7; i++) {
    const fresh200 = await crowd(false);
    crowdRatios.push((await crowd(true)) / fresh200);
  }
  console.log(`200 concurrent prints on an expired token / on a fresh one, ${crowdRatios.length} paired rounds: ${ratio(crowdRatios)}  goal ≤ 1.5×`);
} finally {
  await Promise.all([endpoint.close(), slowEndpoint.close(), emulator.close()]);
  rmSync(home, { recursive: true, force: true });
}
