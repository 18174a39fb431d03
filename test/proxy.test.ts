// Requests to Yandex through HTTPS_PROXY / HTTP_PROXY / NO_PROXY: a real forward proxy (Debian's tinyproxy)
// started on loopback by each test, a closed port, and a broken "proxy" that answers with HTML. The
// emulator is http://127.0.0.1:…, so HTTP_PROXY is the variable that applies, and NO_PROXY is always set
// explicitly so that no default could bypass loopback unnoticed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test, type TestContext } from 'node:test';
import type { Emulator } from '../src/emulator/index.ts';
import { proxyRoute } from '../src/proxy.ts';
import { readSettings } from '../src/settings.ts';
import type { TokenRecord } from '../src/token/record.ts';
import { ROOT, credentials, fakeYandex, freePort, issuedRecord, makeHome, writeConfig, runCli, tempDir, type RunResult } from './support/harness.ts';
import { runCommand } from './support/in-process.ts';
import { requireProgram } from './support/e2e.ts';

const TINYPROXY = '/usr/bin/tinyproxy';
const INSTALL = 'install it with `apt-get install tinyproxy-bin`';
const HOUR = 3_600_000;

interface Tinyproxy {
  url: string;
  /** CONNECT requests tinyproxy received for this host:port so far. */
  tunnels(target: string): number;
  log(): string;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** tinyproxy in the foreground (-d) on a free loopback port with a generated config; stopped after the test. */
async function startTinyproxy(t: TestContext, options: { basicAuth?: [string, string] } = {}): Promise<Tinyproxy> {
  const dir = tempDir(t);
  const port = await freePort();
  const config = join(dir, 'tinyproxy.conf');
  const lines = [`Port ${port}`, 'Listen 127.0.0.1', 'Timeout 30', 'LogLevel Connect', 'MaxClients 50', 'Allow 127.0.0.1'];
  if (options.basicAuth) lines.push(`BasicAuth ${options.basicAuth.join(' ')}`);
  writeFileSync(config, `${lines.join('\n')}\n`);
  const child = spawn(TINYPROXY, ['-d', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (log += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  t.after(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`tinyproxy did not start:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels: (target) => log.split('\n').filter((line) => line.includes(`CONNECT ${target} `)).length,
    log: () => log,
  };
}

/**
 * A loopback server that plays a broken proxy: "html" accepts the CONNECT and then answers whatever comes
 * through the tunnel with a 200 HTML page (a proxy's login or block page), "error" with a 502 one;
 * "refuse" answers the CONNECT itself with 403 and an HTML page.
 */
async function startBrokenProxy(t: TestContext, mode: 'html' | 'error' | 'refuse'): Promise<string> {
  const page = '<!doctype html><html><body><h1>Proxy login required</h1><script>alert(1)</script></body></html>';
  const answer = (status: string) =>
    `HTTP/1.1 ${status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(page)}\r\nconnection: close\r\n\r\n${page}`;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    let tunnelled = false;
    socket.setEncoding('latin1').on('data', (chunk: string) => {
      head += chunk;
      if (!head.includes('\r\n\r\n')) return;
      if (head.startsWith('CONNECT ') && !tunnelled) {
        if (mode === 'refuse') return void socket.end(answer('403 Forbidden'));
        tunnelled = true;
        head = head.slice(head.indexOf('\r\n\r\n') + 4);
        socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
        if (!head.includes('\r\n\r\n')) return;
      }
      socket.end(answer(mode === 'error' ? '502 Bad Gateway' : '200 OK'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

/** A record as login stores it, for a token the emulator issued; expired, so print and refresh must call /token. */
function expiredRecord(yandex: Emulator): TokenRecord {
  const device = { deviceId: 'yt-test-device-0001', deviceName: 'test box' };
  return issuedRecord(yandex, { expiresInMs: -HOUR, ageMs: 2 * HOUR, issue: { expiresIn: 3600, ...device }, record: { tokenType: 'bearer', login: 'demo.user', ...device } });
}

function hostOf(yandex: Emulator): string {
  return new URL(yandex.url).host;
}

/** Exit 1, stdout empty, and the last line of stderr is the sentence. */
function assertFailure(result: RunResult, pattern: RegExp): string {
  assert.equal(result.code, 1, result.stderr);
  assert.equal(result.stdout, '');
  const last = result.stderr.trim().split('\n').at(-1) ?? '';
  assert.match(last, pattern);
  assert.doesNotMatch(result.stderr, /^\s+at |Unexpected error/m);
  return last;
}

test('every request to Yandex goes through the proxy: device code, polls, info, refresh, revoke (tinyproxy)', async (t) => {
  if (!requireProgram(t, TINYPROXY, INSTALL)) return;
  const proxy = await startTinyproxy(t);
  const yandex = await fakeYandex(t, { deviceIntervalSeconds: 1 });
  const target = hostOf(yandex);
  // The lower-case form for one run, the upper-case for the others; a NO_PROXY that does not match.
  const home = makeHome(t, yandex, { NO_PROXY: 'example.invalid,.example.com' });
  const lower = { ...home.env, http_proxy: proxy.url };
  const upper = { ...home.env, HTTP_PROXY: proxy.url };

  const tunnelled = async (args: string[], env: Record<string, string>, code = 0): Promise<RunResult> => {
    const before = proxy.tunnels(target);
    const result = await runCommand(args, env);
    assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`);
    assert.ok(proxy.tunnels(target) > before, `${args.join(' ')} went through the proxy; its log:\n${proxy.log()}`);
    return result;
  };

  const started = await tunnelled(['login', '--device', '--no-wait', '--json', ...credentials()], lower);
  const { user_code: userCode } = JSON.parse(started.stdout) as { user_code: string };
  assert.ok(yandex.decideDevice(userCode, true));
  await tunnelled(['login', '--device', '--poll', '--timeout', '20'], upper);
  await tunnelled(['refresh'], upper);
  await tunnelled(['status'], lower);
  await tunnelled(['logout'], upper);

  for (const path of ['/device/code', '/token', '/info', '/revoke_token']) {
    assert.ok(yandex.requests.some((r) => r.path === path), `the emulator saw ${path}`);
  }
  assert.ok(yandex.requests.some((r) => r.path === '/token' && r.form.grant_type === 'refresh_token'));
});

test('NO_PROXY (either case) sends requests direct: the proxy sees nothing, Yandex answers', async (t) => {
  if (!requireProgram(t, TINYPROXY, INSTALL)) return;
  const proxy = await startTinyproxy(t);
  const yandex = await fakeYandex(t);
  const target = hostOf(yandex);
  const home = makeHome(t, yandex);
  writeConfig(home, { default: expiredRecord(yandex) });

  const direct = [
    { HTTP_PROXY: proxy.url, NO_PROXY: 'example.invalid, 127.0.0.1' },
    { http_proxy: proxy.url, no_proxy: `.example.com,${target}` },
    { HTTP_PROXY: proxy.url, NO_PROXY: '*' },
  ];
  for (const variables of direct) {
    const result = await runCommand(['refresh'], { ...home.env, ...variables });
    assert.equal(result.code, 0, `${JSON.stringify(variables)}: ${result.stderr}`);
  }
  assert.equal(proxy.tunnels(target), 0, `nothing went through the proxy:\n${proxy.log()}`);
  assert.equal(yandex.requests.filter((r) => r.path === '/token').length, direct.length);

  // A port that does not match is no bypass.
  const otherPort = await runCommand(['refresh'], { ...home.env, HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1:1' });
  assert.equal(otherPort.code, 0, otherPort.stderr);
  assert.equal(proxy.tunnels(target), 1);
});

test('a proxy that refuses the connection: one sentence naming it, without its password; nothing stored', async (t) => {
  const yandex = await fakeYandex(t);
  const closed = await freePort();
  const home = makeHome(t, yandex, { HTTP_PROXY: `http://proxyuser:s3cret-pass@127.0.0.1:${closed}`, NO_PROXY: 'example.invalid' });
  const result = await runCommand(['login', '--device', '--no-wait', '--json', ...credentials()], home.env);
  const last = assertFailure(
    result,
    new RegExp(`^Could not reach the proxy http://127\\.0\\.0\\.1:${closed} \\(HTTP_PROXY\\) while asking for a device code: it refused the connection\\. .*NO_PROXY`),
  );
  assert.ok(!result.stderr.includes('s3cret') && !result.stderr.includes('proxyuser'), last);
  assert.equal(yandex.requests.length, 0);

  const stored = expiredRecord(yandex);
  writeConfig(home, { default: stored });
  const print = await runCommand(['print'], home.env);
  // Expired and not renewed: unusable (exit 4), with the proxy named as the reason.
  assert.equal(print.code, 4, print.stderr);
  assert.match(print.stderr, new RegExp(`the proxy http://127\\.0\\.0\\.1:${closed} \\(HTTP_PROXY\\)`));
  assert.ok(!print.stderr.includes('s3cret'));
  const { renewalFailedAt, ...kept } = (JSON.parse(readFileSync(home.configFile, 'utf8')) as { profiles: Record<string, TokenRecord> }).profiles.default!;
  assert.deepEqual(kept, stored, 'the stored login is untouched');
  assert.ok(renewalFailedAt, 'the failed renewal is noted');
});

test('a proxy that wants a password: 407 (tinyproxy: 401) is named with the fix; the right password in the URL works (tinyproxy)', async (t) => {
  if (!requireProgram(t, TINYPROXY, INSTALL)) return;
  const proxy = await startTinyproxy(t, { basicAuth: ['robot', 'right-pass'] });
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex, { NO_PROXY: 'example.invalid' });
  const proxyWith = (auth: string) => proxy.url.replace('http://', `http://${auth}`);

  for (const auth of ['', 'robot:wrong-pass@']) {
    const result = await runCommand(['login', '--device', '--no-wait', ...credentials()], { ...home.env, HTTP_PROXY: proxyWith(auth) });
    assertFailure(
      result,
      new RegExp(`^The proxy ${proxy.url.replace(/\./g, '\\.')} \\(HTTP_PROXY\\) wants a user name and password \\(HTTP 40[17]\\) while asking for a device code: put them in HTTP_PROXY as http://user:password@host:port`),
    );
    assert.ok(!result.stderr.includes('wrong-pass'));
  }
  assert.equal(yandex.requests.length, 0);

  const ok = await runCommand(['login', '--device', '--no-wait', '--json', ...credentials()], { ...home.env, HTTP_PROXY: proxyWith('robot:right-pass@') });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(proxy.tunnels(hostOf(yandex)), 3);
  assert.ok(!ok.stderr.includes('right-pass'));
});

test('a proxy that answers with an HTML page, or refuses the tunnel with one: one sentence naming the proxy', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex, { NO_PROXY: 'example.invalid' });
  // Not expired: `refresh` then fails with the proxy's sentence alone (exit 1).
  writeConfig(home, { default: { ...expiredRecord(yandex), expiresAt: new Date(Date.now() + HOUR).toISOString() } });
  const before = readFileSync(home.configFile, 'utf8');

  const html = await startBrokenProxy(t, 'html');
  const portal = await runCommand(['refresh'], { ...home.env, HTTP_PROXY: html });
  assertFailure(
    portal,
    new RegExp(`^${yandex.url.replace(/\./g, '\\.')} answered through the proxy ${html.replace(/\./g, '\\.')} \\(HTTP_PROXY\\) with HTTP 200 and text/html instead of JSON while refreshing the token, so the proxy .*NO_PROXY`),
  );
  assert.ok(!portal.stderr.includes('<script>'));

  const failing = await startBrokenProxy(t, 'error');
  assertFailure(
    await runCommand(['refresh'], { ...home.env, HTTP_PROXY: failing }),
    new RegExp(`^${yandex.url.replace(/\./g, '\\.')} answered through the proxy ${failing.replace(/\./g, '\\.')} \\(HTTP_PROXY\\) with HTTP 502 \\(a server error\\) while refreshing the token: the proxy or Yandex is having trouble`),
  );

  const refuse = await startBrokenProxy(t, 'refuse');
  const refused = await runCommand(['refresh'], { ...home.env, http_proxy: refuse });
  assertFailure(
    refused,
    new RegExp(`^The proxy ${refuse.replace(/\./g, '\\.')} \\(http_proxy\\) refused to connect to ${yandex.url.replace(/\./g, '\\.')} \\(HTTP 403\\) while refreshing the token`),
  );
  assert.equal(yandex.requests.length, 0, 'nothing reached Yandex');
  assert.equal(readFileSync(home.configFile, 'utf8'), before, 'the stored login is untouched');
});

test('a proxy variable that is not an address is named without its value; print of a fresh token never loads undici', async (t) => {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex, { NO_PROXY: 'example.invalid' });
  const result = await runCli(['login', '--device', '--no-wait', ...credentials()], { ...home.env, HTTP_PROXY: 'http://user:s3cret@[not-a-host' });
  assertFailure(result, /^HTTP_PROXY is not a proxy address this tool can use: give it as http:\/\/host:port/);
  assert.ok(!result.stderr.includes('s3cret'));

  const fresh = expiredRecord(yandex);
  fresh.expiresAt = new Date(Date.now() + HOUR).toISOString();
  writeConfig(home, { default: fresh, old: expiredRecord(yandex), older: expiredRecord(yandex) });
  const hook = pathToFileURL(join(ROOT, 'test', 'support', 'module-log.mjs')).href;
  const loaded = async (args: string[], env: Record<string, string>) => {
    const log = join(home.dir, `modules-${args.join('-')}.log`);
    const run = await runCli(args, { ...env, NODE_OPTIONS: `--import=${hook}`, MODULE_LOG: log });
    assert.equal(run.code, 0, run.stderr);
    return readFileSync(log, 'utf8');
  };
  const proxied = { ...home.env, HTTP_PROXY: 'http://127.0.0.1:9' };
  const fast = await loaded(['print'], proxied);
  assert.match(fast, /\/dist\/print\.cjs/, 'the hook saw the CLI load');
  assert.doesNotMatch(fast, /\/node_modules\/undici\//);
  assert.doesNotMatch(fast, /\/dist\/proxy\.js/);

  const proxy = requireProgram(t, TINYPROXY, INSTALL) ? await startTinyproxy(t) : undefined;
  if (!proxy) return;
  const refreshing = await loaded(['print', '--profile', 'old'], { ...home.env, HTTP_PROXY: proxy.url });
  assert.match(refreshing, /\/node_modules\/undici\//);
  const direct = await loaded(['print', '--profile', 'older'], home.env);
  assert.doesNotMatch(direct, /\/node_modules\/undici\//, 'no proxy variable: no undici');
});

test('routing as messages name it: HTTPS_PROXY for https (else HTTP_PROXY), lower case first, NO_PROXY forms, no credentials', () => {
  const route = (env: Record<string, string>, url: string) => proxyRoute(readSettings(env).proxy, url);
  const yandex = 'https://oauth.yandex.ru/token';
  assert.equal(readSettings({}).proxy, undefined);
  assert.equal(readSettings({ NO_PROXY: '*', HTTPS_PROXY: ' ' }).proxy, undefined, 'NO_PROXY alone or an empty proxy is no proxy');
  assert.deepEqual(route({ HTTPS_PROXY: 'http://u:p@proxy:3128/' }, yandex), { proxy: 'http://proxy:3128', variable: 'HTTPS_PROXY', host: 'oauth.yandex.ru' });
  assert.deepEqual(route({ HTTP_PROXY: 'proxy.corp:8080' }, yandex), { proxy: 'http://proxy.corp:8080', variable: 'HTTP_PROXY', host: 'oauth.yandex.ru' });
  assert.equal(route({ HTTPS_PROXY: 'http://proxy:3128' }, 'http://127.0.0.1:8766/token'), undefined, 'http:// endpoints use HTTP_PROXY only');
  assert.equal(route({ https_proxy: 'http://a:1', HTTPS_PROXY: 'http://b:2' }, yandex)?.proxy, 'http://a:1');
  assert.equal(route({ HTTPS_PROXY: 'http://p:1', no_proxy: 'x.org', NO_PROXY: 'yandex.ru' }, yandex)?.variable, 'HTTPS_PROXY', 'lower-case no_proxy wins');
  for (const noProxy of ['yandex.ru', '.yandex.ru', '*.yandex.ru', 'oauth.yandex.ru:443', 'other.org oauth.yandex.ru', '*', 'OAUTH.YANDEX.RU']) {
    assert.equal(route({ HTTPS_PROXY: 'http://p:1', NO_PROXY: noProxy }, yandex), undefined, noProxy);
  }
  for (const noProxy of ['ndex.ru', 'oauth.yandex.ru:8443', 'login.yandex.ru', 'yandex.ru.evil']) {
    assert.notEqual(route({ HTTPS_PROXY: 'http://p:1', NO_PROXY: noProxy }, yandex), undefined, noProxy);
  }
  assert.equal(route({ HTTPS_PROXY: 'ftp://u:secret@p:1' }, yandex)?.proxy, 'HTTPS_PROXY', 'an unusable value is named, not shown');
});
