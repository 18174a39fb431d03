// What the browser sees from the loopback listener: every page escaped, locked down by its headers
// (Content-Security-Policy default-src 'none', Cache-Control no-store, …) and silent about the code and
// the token; and the hint that login prints when the browser keeps it waiting.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { credentials, fakeYandex, freePort, makeHome, startCli } from './support/harness.ts';
import { runCommand, testClock } from './support/in-process.ts';

const SCRIPT = '<script>alert(document.cookie)</script>';

function authorizeUrlFrom(stderr: string): URL {
  return new URL(/(http:\/\/\S+\/authorize\?\S+)/.exec(stderr)![1]!);
}

/** A loopback login (the built CLI) waiting for its callback on a port of its own, and the authorize URL it printed. */
async function startLogin(t: TestContext, extra: string[] = []) {
  const yandex = await fakeYandex(t);
  const home = makeHome(t, yandex);
  const port = await freePort();
  const running = startCli(['login', ...credentials(), '--port', String(port), '--no-browser', ...extra], home.env);
  const url = authorizeUrlFrom(await running.waitForStderr(/Waiting up to/));
  return { yandex, home, port, running, url };
}

/** The headers every callback page must carry. */
function assertLockedDown(response: Response, what: string): void {
  const csp = response.headers.get('content-security-policy') ?? '';
  assert.match(csp, /(^|; )default-src 'none'(;|$)/, `${what}: CSP default-src 'none'`);
  assert.match(csp, /frame-ancestors 'none'/, `${what}: not frameable`);
  assert.doesNotMatch(csp, /script-src/, `${what}: no script source allowed`);
  assert.equal(response.headers.get('cache-control'), 'no-store', `${what}: not cached`);
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff', what);
  assert.equal(response.headers.get('referrer-policy'), 'no-referrer', what);
  assert.match(response.headers.get('content-type') ?? '', /^text\/html; charset=utf-8$/, what);
}

function assertNoMarkupFrom(html: string, what: string): void {
  assert.ok(!html.includes('<script'), `${what}: no <script> in the page`);
  assert.ok(!/<img|onerror|javascript:/i.test(html), `${what}: no injected markup`);
}

test('forged requests with <script> get a fixed 400 page that echoes nothing; the real error page escapes it', async (t) => {
  const { port, running, url } = await startLogin(t);
  const state = url.searchParams.get('state')!;
  const callback = (params: Record<string, string>, path = '/callback') => {
    const target = new URL(`http://127.0.0.1:${port}${path}`);
    for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
    return fetch(target);
  };

  const forgeries: [Record<string, string>, string?][] = [
    [{ error: '<img src=x onerror=alert(1)>', error_description: SCRIPT, state: 'forged' }],
    [{ code: SCRIPT, state: `${state}x` }],
    [{ error: SCRIPT }],
    [{ error: SCRIPT, state }, `/${encodeURIComponent(SCRIPT)}`],
  ];
  for (const [params, path] of forgeries) {
    const response = await callback(params, path);
    const html = await response.text();
    const what = `${path ?? '/callback'} ${JSON.stringify(params)}`;
    assert.ok([400, 404].includes(response.status), `${what}: ${response.status}`);
    assertLockedDown(response, what);
    assertNoMarkupFrom(html, what);
    assert.ok(!html.includes('alert'), `${what}: nothing from the request is echoed`);
    assert.ok(!html.includes(state), `${what}: the state is not shown`);
  }

  // The real redirect with our state and a hostile description: shown escaped, the wait ends.
  const real = await callback({ error: 'invalid_request', error_description: SCRIPT, state });
  const html = await real.text();
  assert.equal(real.status, 400);
  assertLockedDown(real, 'the error page');
  assertNoMarkupFrom(html, 'the error page');
  assert.ok(!html.includes('alert'), 'the description is not echoed: the terminal says it');
  assert.match(html, /Yandex returned an error instead of a code; the terminal says which\./);
  assert.ok(!html.includes(state), 'the state is not shown');
  const result = await running.done;
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /Yandex returned invalid_request \(<script>alert\(document\.cookie\)<\/script>\) instead of a code\./);
});

test('the success page says who logged in, and neither the code nor the token', async (t) => {
  const { yandex, home, running, url } = await startLogin(t);

  // The browser's part by hand, so that the callback page's headers can be read.
  const consent = await (await fetch(`${yandex.url}/authorize${url.search}`)).text();
  const action = /<form method="post" action="([^"]+)"/.exec(consent)![1]!.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
  const request = /name="request" value="([^"]+)"/.exec(consent)![1]!;
  const decided = await fetch(new URL(action, yandex.url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, decision: 'allow' }),
    redirect: 'manual',
  });
  const location = new URL(decided.headers.get('location')!);
  const code = location.searchParams.get('code')!;
  const page = await fetch(location);
  const html = await page.text();
  const result = await running.done;
  assert.equal(result.code, 0, result.stderr);

  assert.equal(page.status, 200);
  assertLockedDown(page, 'the success page');
  assert.match(html, /Logged in/);
  assert.match(html, /demo\.user/);
  assert.ok(html.includes('<meta name="viewport" content="width=device-width, initial-scale=1">'), 'readable on a phone');
  const stored = JSON.parse(readFileSync(home.configFile, 'utf8')).profiles.default;
  for (const secret of [code, stored.accessToken, stored.refreshToken, url.searchParams.get('state')!]) {
    assert.ok(!html.includes(secret), 'no code, token or state in the page');
  }
  assert.doesNotMatch(result.stderr, /Still waiting/, 'a quick login gets no hint');
});

test('after a while without the browser, one line suggests --device or --no-localhost and says why', async (t) => {
  const yandex = await fakeYandex(t);
  // The hint comes after 30 s of waiting: on a test clock, moved on 30 s once the login waits.
  const home = makeHome(t, yandex);
  const port = await freePort();
  const clock = testClock({ manual: true });
  let hinted: (stderr: string) => void;
  const hintSeen = new Promise<string>((resolve) => (hinted = resolve));
  let moved = false;
  const running = runCommand(['login', ...credentials(), '--port', String(port), '--no-browser'], home.env, {
    clock,
    onStderr: (text) => {
      if (!moved && text.includes('Waiting up to')) setImmediate(() => clock.advance(30_000));
      moved ||= text.includes('Waiting up to');
      if (/Still waiting\..*\n/.test(text)) hinted(text);
    },
  });
  const stderr = await hintSeen;
  const hint = stderr.split('\n').filter((line) => line.startsWith('Still waiting.'));
  assert.equal(hint.length, 1);
  assert.match(
    hint[0]!,
    new RegExp(
      `^Still waiting\\. If the browser shows an error or nothing happens, press Ctrl-C and try \`yandex-token login --device\` or \`--no-localhost\`: apps created "for API access" only redirect to ${yandex.url.replace(/\./g, '\\.')}/verification_code, and a browser on another machine cannot reach http://127\\.0\\.0\\.1:${port}/callback\\.$`,
    ),
  );
  // Finish the login: the hint was one line, once, and stdout stays empty.
  const { visit } = await import('./support/scripted-browser.mjs');
  const url = authorizeUrlFrom(stderr);
  await visit(`${yandex.url}/authorize${url.search}`);
  const result = await running;
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr.split('\n').filter((line) => line.includes('Still waiting')).length, 1);
});

test('an error redirect without our state is told on stderr at once, escaped, once per error; the wait goes on', async (t) => {
  const { port, running, url } = await startLogin(t);
  const state = url.searchParams.get('state')!;
  const callback = (params: Record<string, string>) => fetch(`http://127.0.0.1:${port}/callback?${new URLSearchParams(params)}`);
  const notices = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('A redirect to '));

  // What Yandex may send if it does not echo state on an error: refused as the answer, but said at once.
  const stray = await callback({ error: 'access_denied', error_description: 'The user denied access' });
  const page = await stray.text();
  assert.equal(stray.status, 400);
  assertLockedDown(stray, 'the stray error page');
  assert.match(page, /The terminal shows what it reported; press Ctrl-C there to stop waiting\./);
  assert.ok(!page.includes('access_denied') && !page.includes('denied access'), 'the page echoes nothing from the request');
  const told = await running.waitForStderr(/A redirect to .* reported access_denied/);
  assert.deepEqual(notices(told), [
    `A redirect to http://127.0.0.1:${port}/callback reported access_denied, but without this login's state, so it cannot end the login (any web page could send one); the wait goes on. If Yandex sent it in answer to this login, press Ctrl-C to end the wait.`,
  ]);

  // The same again is not repeated; escape sequences are taken out; a page hammering the port with
  // ever new errors gets three lines at most; a wrong state counts as none.
  for (let i = 0; i < 5; i++) assert.equal((await callback({ error: 'access_denied', error_description: 'The user denied access' })).status, 400);
  assert.equal((await callback({ error: 'bad\x1b[31mred\x07', state: `${state}x` })).status, 400);
  await running.waitForStderr(/reported something that is not an OAuth error code,/);
  for (let i = 0; i < 20; i++) assert.equal((await callback({ error: `flood${i}` })).status, 400);

  // The wait went on: the real answer, with our state, still ends the login.
  const real = await callback({ error: 'access_denied', state });
  assert.equal(real.status, 400);
  const result = await running.done;
  assert.equal(result.code, 1);
  assert.match(result.stderr.trim().split('\n').at(-1)!, /^Access was declined in the browser\./);
  assert.equal(notices(result.stderr).length, 3, result.stderr);
  assert.equal(notices(result.stderr).filter((line) => line.includes('access_denied')).length, 1);
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(result.stderr, /[\x00-\x08\x0b-\x1f\x7f]/, 'no control characters reach the terminal');
});

test('Accept-Language: ru gets the pages in Russian (ours and the emulator\'s); anything else gets English', async (t) => {
  const { pageLanguage } = await import('../src/page-text.ts');
  assert.equal(pageLanguage('ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7'), 'ru');
  assert.equal(pageLanguage('en-US,en;q=0.9,ru;q=0.8'), 'en');
  assert.equal(pageLanguage('de-DE,ru;q=0.5'), 'ru');
  assert.equal(pageLanguage('ru;q=0,de'), 'en');
  assert.equal(pageLanguage(undefined), 'en');

  const { yandex, port, running, url } = await startLogin(t, ['--timeout', '5']);
  const ru = { 'accept-language': 'ru-RU,ru;q=0.9,en;q=0.8' };
  // Our listener's page for a request without the login's state.
  const stray = await fetch(`http://127.0.0.1:${port}/callback?code=x&state=forged`, { headers: ru });
  assert.equal(stray.headers.get('content-language'), 'ru');
  assert.match(stray.headers.get('vary') ?? '', /Accept-Language/i);
  const strayHtml = await stray.text();
  assert.match(strayHtml, /<html lang="ru">/);
  assert.match(strayHtml, /Это не тот вход/);
  const english = await (await fetch(`http://127.0.0.1:${port}/callback?code=x&state=forged`, { headers: { 'accept-language': 'de' } })).text();
  assert.match(english, /Not the expected login/);

  // The emulator's consent and device pages.
  const consent = await (await fetch(`${yandex.url}/authorize${url.search}`, { headers: ru })).text();
  assert.match(consent, /запрашивает доступ/);
  assert.match(consent, /id="allow">Разрешить</);
  assert.match(consent, /Эмулятор Яндекс OAuth — не Яндекс/);
  const device = await (await fetch(`${yandex.url}/device`, { headers: ru })).text();
  assert.match(device, /Введите код, который показало приложение/);
  assert.match(await (await fetch(`${yandex.url}/device`)).text(), /Enter the code shown by the app/);
  running.child.kill('SIGINT');
  assert.equal((await running.done).code, 2);
});
