// The emulator against its own contract (../shared/yandex-oauth.md): every endpoint and every error,
// in-process against startEmulator, spoken to with plain fetch as a client would.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import type { Emulator, EmulatorClient, EmulatorOptions } from '../src/emulator/index.ts';
import { DEMO_CLIENT, fakeYandex } from './support/harness.ts';

const OTHER: EmulatorClient = { id: 'other-client', secret: 'other-secret', name: 'Other app' };
const VERIFIER = 'a-verifier-that-is-long-enough-for-rfc-7636-000000';
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');
const CALLBACK = 'http://127.0.0.1:8765/callback';

function start(t: TestContext, options: EmulatorOptions = {}): Promise<Emulator> {
  return fakeYandex(t, { clients: [DEMO_CLIENT, OTHER], ...options });
}

interface Answer {
  status: number;
  type: string;
  text: string;
  json?: Record<string, unknown>;
  location?: string;
}

async function answer(response: Response): Promise<Answer> {
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, type: response.headers.get('content-type') ?? '', text, json, location: response.headers.get('location') ?? undefined };
}

function get(emu: Emulator, path: string, params: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Answer> {
  const query = new URLSearchParams(params).toString();
  return fetch(`${emu.url}${path}${query ? `?${query}` : ''}`, { headers, redirect: 'manual' }).then(answer);
}

function post(emu: Emulator, path: string, body: Record<string, string> | string, headers: Record<string, string> = {}): Promise<Answer> {
  return fetch(`${emu.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: typeof body === 'string' ? body : new URLSearchParams(body),
    redirect: 'manual',
  }).then(answer);
}

function basic(id: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` };
}

const secretOf = { [DEMO_CLIENT.id]: DEMO_CLIENT.secret, [OTHER.id]: OTHER.secret } as Record<string, string>;

/** Opens the consent page for these parameters and clicks; returns where the emulator redirected. */
async function consent(emu: Emulator, params: Record<string, string>, decision: 'allow' | 'deny' = 'allow'): Promise<URL> {
  const page = await get(emu, '/authorize', { response_type: 'code', client_id: DEMO_CLIENT.id, redirect_uri: CALLBACK, ...params });
  assert.equal(page.status, 200, page.text);
  const request = /name="request" value="([^"]+)"/.exec(page.text)![1]!;
  const decided = await post(emu, '/authorize/decision', { request, decision });
  assert.equal(decided.status, 302);
  return new URL(decided.location!);
}

async function code(emu: Emulator, params: Record<string, string> = {}): Promise<string> {
  return (await consent(emu, { code_challenge: CHALLENGE, code_challenge_method: 'S256', ...params })).searchParams.get('code')!;
}

function exchange(emu: Emulator, theCode: string, extra: Record<string, string> = {}): Promise<Answer> {
  return post(emu, '/token', {
    grant_type: 'authorization_code',
    code: theCode,
    client_id: DEMO_CLIENT.id,
    client_secret: DEMO_CLIENT.secret,
    code_verifier: VERIFIER,
    ...extra,
  });
}

async function tokens(emu: Emulator, params: Record<string, string> = {}): Promise<{ access_token: string; refresh_token: string }> {
  const result = await exchange(emu, await code(emu, params));
  assert.equal(result.status, 200, result.text);
  return result.json as { access_token: string; refresh_token: string };
}

function refresh(emu: Emulator, refreshToken: string, client = DEMO_CLIENT): Promise<Answer> {
  return post(emu, '/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.id, client_secret: secretOf[client.id]! });
}

function info(emu: Emulator, accessToken: string, scheme = 'OAuth'): Promise<Answer> {
  return get(emu, '/info', { format: 'json' }, { authorization: `${scheme} ${accessToken}` });
}

function oauthError(result: Answer, error: string, status = 400): void {
  assert.equal(result.status, status, result.text);
  assert.match(result.type, /^application\/json/);
  assert.equal(result.json?.error, error, result.text);
  assert.equal(typeof result.json?.error_description, 'string', 'error_description is present');
}

describe('GET /authorize', () => {
  it('shows a consent page with the app name, the account, the scopes and Allow/Deny', async (t) => {
    const emu = await start(t, { account: { login: 'alice', id: '42' } });
    const page = await get(emu, '/authorize', { response_type: 'code', client_id: DEMO_CLIENT.id, redirect_uri: CALLBACK, scope: 'cloud_api:disk.read', optional_scope: 'login:email', device_id: 'device-123', device_name: 'CI box' });
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    for (const text of [DEMO_CLIENT.name, 'alice', 'cloud_api:disk.read login:email', 'CI box', 'id="allow"', 'id="deny"', 'not Yandex']) {
      assert.ok(page.text.includes(text), `the page shows ${text}`);
    }
  });

  it('Allow redirects to redirect_uri with a 16-character alphanumeric code, the state unchanged, and cid; its query is kept', async (t) => {
    const emu = await start(t);
    const state = 'st/ate with spaces&=';
    const back = await consent(emu, { state, redirect_uri: `${CALLBACK}?keep=1` });
    assert.equal(`${back.origin}${back.pathname}`, CALLBACK);
    assert.match(back.searchParams.get('code')!, /^[A-Za-z0-9]{16}$/);
    assert.equal(back.searchParams.get('state'), state);
    assert.ok(back.searchParams.get('cid'));
    assert.equal(back.searchParams.get('keep'), '1');
  });

  it('Deny redirects with error=access_denied and the state', async (t) => {
    const emu = await start(t);
    const back = await consent(emu, { state: 's1' }, 'deny');
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.get('state'), 's1');
    assert.equal(back.searchParams.get('code'), null);
  });

  it('an unknown or missing client_id is an error page, not a redirect', async (t) => {
    const emu = await start(t);
    for (const params of [{ client_id: 'nope' }, {}] as Record<string, string>[]) {
      const page = await get(emu, '/authorize', { response_type: 'code', redirect_uri: CALLBACK, ...params });
      assert.equal(page.status, 400);
      assert.match(page.text, /Unknown client with such client_id/);
      assert.equal(page.location, undefined);
    }
  });

  it('a redirect_uri that is not loopback http is an error page, not a redirect', async (t) => {
    const emu = await start(t);
    for (const uri of ['https://example.com/cb', 'http://example.com:8765/callback', 'http://127.0.0.1.nip.io:8765/cb', 'not a url']) {
      const page = await get(emu, '/authorize', { response_type: 'code', client_id: DEMO_CLIENT.id, redirect_uri: uri });
      assert.equal(page.status, 400, uri);
      assert.match(page.text, /redirect_uri does not match the Callback URL defined for the client/);
      assert.equal(page.location, undefined);
    }
    for (const uri of ['http://localhost:1/x', 'http://[::1]:2/', CALLBACK]) {
      assert.equal((await get(emu, '/authorize', { response_type: 'code', client_id: DEMO_CLIENT.id, redirect_uri: uri })).status, 200, uri);
    }
  });

  it('strict redirects accept only the registered URIs (scheme, host, port, path; query may differ) and verification_code', async (t) => {
    const registered = 'http://127.0.0.1:8765/callback';
    const emu = await start(t, { strictRedirect: true, clients: [{ ...DEMO_CLIENT, redirectUris: [registered, 'http://localhost:9000'] }] });
    const status = async (uri?: string) =>
      (await get(emu, '/authorize', { response_type: 'code', client_id: DEMO_CLIENT.id, ...(uri ? { redirect_uri: uri } : {}) })).status;
    assert.equal(await status(registered), 200);
    assert.equal(await status(`${registered}?from=cli`), 200, 'the query may differ');
    assert.equal(await status('http://127.0.0.1:8766/callback'), 400, 'another port');
    assert.equal(await status('http://localhost:8765/callback'), 400, 'localhost is not 127.0.0.1');
    assert.equal(await status('http://127.0.0.1:8765/other'), 400, 'another path');
    assert.equal(await status('https://127.0.0.1:8765/callback'), 400, 'another scheme');
    assert.equal(await status('http://localhost:9000'), 200);
    assert.equal(await status('http://localhost:9000/'), 400, 'an empty path and / differ (the strict reading)');
    assert.equal(await status(`${emu.url}/verification_code`), 200);

    // Without redirect_uri, the first registered one is used.
    const page = await get(emu, '/authorize', { response_type: 'code', client_id: DEMO_CLIENT.id });
    const request = /name="request" value="([^"]+)"/.exec(page.text)![1]!;
    const decided = await post(emu, '/authorize/decision', { request, decision: 'allow' });
    assert.ok(decided.location!.startsWith(`${registered}?code=`));
  });

  it('without redirect_uri and without registered URIs, the code goes to verification_code, which shows it', async (t) => {
    const emu = await start(t);
    const page = await get(emu, '/authorize', { response_type: 'code', client_id: DEMO_CLIENT.id });
    const request = /name="request" value="([^"]+)"/.exec(page.text)![1]!;
    const decided = await post(emu, '/authorize/decision', { request, decision: 'allow' });
    const target = new URL(decided.location!);
    assert.equal(`${target.origin}${target.pathname}`, `${emu.url}/verification_code`);
    const shown = await get(emu, `/verification_code${target.search}`);
    assert.equal(shown.status, 200);
    assert.ok(shown.text.includes(`<code id="code">${target.searchParams.get('code')}</code>`));
    const refused = await get(emu, '/verification_code', { error: 'access_denied' });
    assert.equal(refused.status, 400);
    assert.match(refused.text, /access_denied/);
  });

  it('bad parameters are error pages: response_type, code_challenge_method, device_id, state over 1024', async (t) => {
    const emu = await start(t);
    const base = { response_type: 'code', client_id: DEMO_CLIENT.id, redirect_uri: CALLBACK };
    const cases: [Record<string, string>, RegExp][] = [
      [{ response_type: 'id_token' }, /unsupported response_type/],
      [{ code_challenge: 'x', code_challenge_method: 'S512' }, /invalid code_challenge_method/],
      [{ device_id: 'short' }, /invalid device_id/],
      [{ device_id: 'x'.repeat(51) }, /invalid device_id/],
      [{ device_id: 'tab\there' }, /invalid device_id/],
      [{ state: 's'.repeat(1025) }, /state is longer than 1024/],
    ];
    for (const [params, pattern] of cases) {
      const page = await get(emu, '/authorize', { ...base, ...params });
      assert.equal(page.status, 400, JSON.stringify(params));
      assert.match(page.text, pattern);
    }
    assert.equal((await get(emu, '/authorize', { ...base, state: 's'.repeat(1024), device_id: 'x'.repeat(50) })).status, 200);
  });

  it('comma-separated or unregistered scopes redirect back with invalid_scope', async (t) => {
    const emu = await start(t, { clients: [{ ...DEMO_CLIENT, scopes: ['cloud_api:disk.read', 'login:email'] }] });
    const bounce = async (params: Record<string, string>) => {
      const page = await get(emu, '/authorize', { response_type: 'code', client_id: DEMO_CLIENT.id, redirect_uri: CALLBACK, state: 's', ...params });
      assert.equal(page.status, 302, JSON.stringify(params));
      return new URL(page.location!);
    };
    for (const params of [{ scope: 'cloud_api:disk.read,login:email' }, { scope: 'metrika:read' }, { optional_scope: 'direct:api' }] as Record<string, string>[]) {
      const back = await bounce(params);
      assert.equal(back.searchParams.get('error'), 'invalid_scope');
      assert.equal(back.searchParams.get('state'), 's');
    }
    assert.equal((await get(emu, '/authorize', { response_type: 'code', client_id: DEMO_CLIENT.id, redirect_uri: CALLBACK, scope: 'cloud_api:disk.read login:email' })).status, 200);
  });

  it('a blocked app is redirected back with unauthorized_client', async (t) => {
    const emu = await start(t, { clients: [{ ...DEMO_CLIENT, blocked: true }] });
    const page = await get(emu, '/authorize', { response_type: 'code', client_id: DEMO_CLIENT.id, redirect_uri: CALLBACK, state: 's' });
    assert.equal(page.status, 302);
    assert.equal(new URL(page.location!).searchParams.get('error'), 'unauthorized_client');
  });

  it('a stale or unknown consent request is an error page', async (t) => {
    const emu = await start(t);
    const page = await post(emu, '/authorize/decision', { request: 'nope', decision: 'allow' });
    assert.equal(page.status, 400);
    assert.match(page.text, /expired/);
  });

  it('response_type=token puts a debug token in the fragment, without a refresh token', async (t) => {
    const emu = await start(t);
    const back = await consent(emu, { response_type: 'token', state: 's' });
    const fragment = new URLSearchParams(back.hash.slice(1));
    assert.match(fragment.get('access_token')!, /^y0_emu_/);
    assert.equal(fragment.get('token_type'), 'bearer');
    assert.equal(fragment.get('expires_in'), '31536000');
    assert.equal(fragment.get('state'), 's');
    assert.equal(fragment.get('refresh_token'), null);
    assert.equal(back.search, '');
    assert.equal((await info(emu, fragment.get('access_token')!)).status, 200);
    const denied = await consent(emu, { response_type: 'token', state: 's' }, 'deny');
    assert.equal(new URLSearchParams(denied.hash.slice(1)).get('error'), 'access_denied');
  });
});

describe('POST /token grant_type=authorization_code', () => {
  it('answers the documented JSON: access_token, expires_in, refresh_token, token_type bearer, and no scope', async (t) => {
    const emu = await start(t);
    const result = await exchange(emu, await code(emu, { scope: 'cloud_api:disk.read' }));
    assert.equal(result.status, 200);
    assert.match(result.type, /^application\/json/);
    assert.deepEqual(Object.keys(result.json!).sort(), ['access_token', 'expires_in', 'refresh_token', 'token_type']);
    assert.match(result.json!.access_token as string, /^y0_emu_/);
    assert.equal(result.json!.expires_in, 31_536_000);
    assert.equal(result.json!.token_type, 'bearer');
  });

  it('codeFormat 7-digit: the older codes, and their shape checked instead', async (t) => {
    const emu = await start(t, { codeFormat: '7-digit' });
    const old = await code(emu);
    assert.match(old, /^\d{7}$/);
    assert.equal((await exchange(emu, old)).status, 200);
    oauthError(await exchange(emu, 'AAAAAAAAAAAAAAAA'), 'bad_verification_code');
    oauthError(await exchange(emu, '0000000'), 'invalid_grant');
  });

  it('redirect_uri, as Yandex: may be left out; when sent, must be the one the code was issued for', async (t) => {
    const emu = await start(t);
    assert.equal((await exchange(emu, await code(emu))).status, 200, 'left out');
    assert.equal((await exchange(emu, await code(emu), { redirect_uri: CALLBACK })).status, 200, 'identical');
    const other = await exchange(emu, await code(emu), { redirect_uri: `${CALLBACK}/` });
    oauthError(other, 'invalid_grant');
    assert.match(other.json!.error_description as string, /redirect_uri/);
  });

  it('redirect_uri, with requireRedirectUri (RFC 6749 §4.1.3): required when the authorize request had one', async (t) => {
    const emu = await start(t, { requireRedirectUri: true });
    oauthError(await exchange(emu, await code(emu)), 'invalid_grant');
    assert.equal((await exchange(emu, await code(emu), { redirect_uri: CALLBACK })).status, 200);
    oauthError(await exchange(emu, await code(emu), { redirect_uri: 'http://localhost:8765/callback' }), 'invalid_grant');
  });

  it('honours the token lifetime option', async (t) => {
    const emu = await start(t, { tokenLifetimeSeconds: 60 });
    assert.equal((await exchange(emu, await code(emu))).json!.expires_in, 60);
  });

  it('takes the client from the Basic header, which wins over the body', async (t) => {
    const emu = await start(t);
    const viaHeader = await post(emu, '/token', { grant_type: 'authorization_code', code: await code(emu), code_verifier: VERIFIER }, basic(DEMO_CLIENT.id, DEMO_CLIENT.secret));
    assert.equal(viaHeader.status, 200, viaHeader.text);
    const headerWins = await post(
      emu,
      '/token',
      { grant_type: 'authorization_code', code: await code(emu), code_verifier: VERIFIER, client_id: DEMO_CLIENT.id, client_secret: 'wrong' },
      basic(DEMO_CLIENT.id, DEMO_CLIENT.secret),
    );
    assert.equal(headerWins.status, 200, headerWins.text);
    const headerWrong = await post(
      emu,
      '/token',
      { grant_type: 'authorization_code', code: await code(emu), code_verifier: VERIFIER, client_id: DEMO_CLIENT.id, client_secret: DEMO_CLIENT.secret },
      basic(DEMO_CLIENT.id, 'wrong'),
    );
    oauthError(headerWrong, 'invalid_client');
  });

  it('a header that is not Basic, or not base64(id:secret), is 401 with only an error field', async (t) => {
    const emu = await start(t);
    const notBasic = await post(emu, '/token', { grant_type: 'authorization_code', code: '1234567' }, { authorization: 'Bearer abc' });
    assert.equal(notBasic.status, 401);
    assert.deepEqual(notBasic.json, { error: 'Basic auth required' });
    for (const value of ['Basic', 'Basic !!!', `Basic ${Buffer.from('no-colon').toString('base64')}`]) {
      const malformed = await post(emu, '/token', { grant_type: 'authorization_code', code: '1234567' }, { authorization: value });
      assert.equal(malformed.status, 401, value);
      assert.deepEqual(malformed.json, { error: 'Malformed Authorization header' });
    }
  });

  it('an unknown client, a wrong secret, or no secret without PKCE is invalid_client', async (t) => {
    const emu = await start(t);
    oauthError(await exchange(emu, await code(emu), { client_id: 'nope' }), 'invalid_client');
    oauthError(await exchange(emu, await code(emu), { client_secret: 'wrong' }), 'invalid_client');
    const noPkce = (await consent(emu, {})).searchParams.get('code')!;
    oauthError(await post(emu, '/token', { grant_type: 'authorization_code', code: noPkce, client_id: DEMO_CLIENT.id }), 'invalid_client');
  });

  it('with PKCE the secret may be left out (as Yandex\'s own SDK does)', async (t) => {
    const emu = await start(t);
    const result = await post(emu, '/token', { grant_type: 'authorization_code', code: await code(emu), client_id: DEMO_CLIENT.id, code_verifier: VERIFIER });
    assert.equal(result.status, 200, result.text);
  });

  it('PKCE: a wrong or missing code_verifier is invalid_grant; plain works', async (t) => {
    const emu = await start(t);
    oauthError(await exchange(emu, await code(emu), { code_verifier: `${VERIFIER}x` }), 'invalid_grant');
    const missing = await post(emu, '/token', { grant_type: 'authorization_code', code: await code(emu), client_id: DEMO_CLIENT.id, client_secret: DEMO_CLIENT.secret });
    oauthError(missing, 'invalid_grant');
    const plain = await code(emu, { code_challenge: VERIFIER, code_challenge_method: 'plain' });
    assert.equal((await exchange(emu, plain)).status, 200);
  });

  it('missing or duplicated parameters are invalid_request; an unknown grant_type is unsupported_grant_type', async (t) => {
    const emu = await start(t);
    oauthError(await post(emu, '/token', { code: '1234567', client_id: DEMO_CLIENT.id, client_secret: DEMO_CLIENT.secret }), 'invalid_request');
    oauthError(await post(emu, '/token', { grant_type: 'authorization_code', client_id: DEMO_CLIENT.id, client_secret: DEMO_CLIENT.secret }), 'invalid_request');
    const twice = `grant_type=authorization_code&code=1234567&code=7654321&client_id=${DEMO_CLIENT.id}&client_secret=${DEMO_CLIENT.secret}`;
    oauthError(await post(emu, '/token', twice), 'invalid_request');
    const inQuery = await fetch(`${emu.url}/token?grant_type=authorization_code&code=1234567`, { method: 'POST' }).then(answer);
    oauthError(inQuery, 'invalid_request');
    for (const grant of ['password', 'urn:ietf:params:oauth:grant-type:device_code']) {
      oauthError(await post(emu, '/token', { grant_type: grant, client_id: DEMO_CLIENT.id, client_secret: DEMO_CLIENT.secret }), 'unsupported_grant_type');
    }
  });

  it('a code not of the issued shape is bad_verification_code; an unknown, reused, expired or foreign one is invalid_grant', async (t) => {
    const emu = await start(t);
    oauthError(await exchange(emu, 'abc'), 'bad_verification_code');
    oauthError(await exchange(emu, '1234567'), 'bad_verification_code');
    oauthError(await exchange(emu, 'AAAAAAAAAAAAAAA-'), 'bad_verification_code');
    oauthError(await exchange(emu, 'AAAAAAAAAAAAAAAA'), 'invalid_grant');

    const once = await code(emu);
    assert.equal((await exchange(emu, once)).status, 200);
    const reused = await exchange(emu, once);
    oauthError(reused, 'invalid_grant');
    assert.equal(reused.json!.error_description, 'Code has expired');

    const stale = await code(emu);
    emu.expireCodes();
    oauthError(await exchange(emu, stale), 'invalid_grant');

    const foreign = await code(emu);
    oauthError(await exchange(emu, foreign, { client_id: OTHER.id, client_secret: OTHER.secret }), 'invalid_grant');
  });

  it('a blocked app is unauthorized_client', async (t) => {
    const emu = await start(t, { clients: [{ ...DEMO_CLIENT, blocked: true }] });
    oauthError(await exchange(emu, '1234567'), 'unauthorized_client');
  });

  it('device_id in the token request binds the token only when the authorize request had none', async (t) => {
    const emu = await start(t);
    const revoke = (accessToken: string) =>
      post(emu, '/revoke_token', { access_token: accessToken, client_id: DEMO_CLIENT.id, client_secret: DEMO_CLIENT.secret });
    const bound = await exchange(emu, await code(emu), { device_id: 'device-from-token', device_name: 'late' });
    assert.equal((await revoke(bound.json!.access_token as string)).status, 200, 'device-bound: revocable');
    const plain = await exchange(emu, await code(emu));
    oauthError(await revoke(plain.json!.access_token as string), 'unsupported_token_type');
    oauthError(await exchange(emu, await code(emu), { device_id: 'bad' }), 'invalid_request');
  });
});

describe('POST /token grant_type=refresh_token', () => {
  it('rotates the refresh token; the access token stays while it has most of its life; the old refresh token dies', async (t) => {
    const emu = await start(t);
    const first = await tokens(emu);
    const renewed = await refresh(emu, first.refresh_token);
    assert.equal(renewed.status, 200, renewed.text);
    assert.equal(renewed.json!.access_token, first.access_token, 'same access token (as recorded from Yandex)');
    assert.notEqual(renewed.json!.refresh_token, first.refresh_token);
    assert.equal(renewed.json!.token_type, 'bearer');
    assert.equal(renewed.json!.expires_in, 31_536_000);
    oauthError(await refresh(emu, first.refresh_token), 'invalid_grant');
    assert.equal((await refresh(emu, renewed.json!.refresh_token as string)).status, 200);
  });

  it('an access token past half its life (or expired, with a live refresh token) is replaced', async (t) => {
    const emu = await start(t);
    const old = emu.issueToken({ expiresIn: 0, refreshExpiresIn: 3600 });
    assert.equal((await info(emu, old.access_token)).status, 401, 'expired');
    const renewed = await refresh(emu, old.refresh_token);
    assert.equal(renewed.status, 200, renewed.text);
    assert.notEqual(renewed.json!.access_token, old.access_token);
    assert.equal((await info(emu, renewed.json!.access_token as string)).status, 200);
    assert.equal((await info(emu, old.access_token)).status, 401);
  });

  it('a refresh token lives as long as its access token', async (t) => {
    const emu = await start(t);
    const dead = emu.issueToken({ expiresIn: 0, refreshExpiresIn: 0 });
    oauthError(await refresh(emu, dead.refresh_token), 'invalid_grant');
  });

  it('missing is invalid_request; unknown, foreign or revoked is invalid_grant; no secret is invalid_client', async (t) => {
    const emu = await start(t);
    oauthError(await post(emu, '/token', { grant_type: 'refresh_token', client_id: DEMO_CLIENT.id, client_secret: DEMO_CLIENT.secret }), 'invalid_request');
    oauthError(await refresh(emu, '1:nope'), 'invalid_grant');
    const pair = await tokens(emu);
    oauthError(await refresh(emu, pair.refresh_token, OTHER), 'invalid_grant');
    oauthError(await post(emu, '/token', { grant_type: 'refresh_token', refresh_token: pair.refresh_token, client_id: DEMO_CLIENT.id }), 'invalid_client');
    emu.revokeAll();
    oauthError(await refresh(emu, pair.refresh_token), 'invalid_grant');
  });
});

describe('device flow: POST /device/code, the /device page, grant_type=device_code', () => {
  const poll = (emu: Emulator, deviceCode: string) =>
    post(emu, '/token', { grant_type: 'device_code', code: deviceCode, client_id: DEMO_CLIENT.id, client_secret: DEMO_CLIENT.secret });

  async function deviceCode(emu: Emulator, extra: Record<string, string> = {}): Promise<Record<string, unknown>> {
    const result = await post(emu, '/device/code', { client_id: DEMO_CLIENT.id, ...extra });
    assert.equal(result.status, 200, result.text);
    return result.json!;
  }

  it('answers device_code, user_code, verification_url, interval, expires_in without a client secret', async (t) => {
    const emu = await start(t);
    const codes = await deviceCode(emu, { device_id: 'device-123', device_name: 'box' });
    assert.deepEqual(Object.keys(codes).sort(), ['device_code', 'expires_in', 'interval', 'user_code', 'verification_url']);
    assert.match(codes.user_code as string, /^[a-z]{8}$/);
    assert.equal(codes.verification_url, `${emu.url}/device`);
    assert.equal(codes.interval, 5);
    assert.equal(codes.expires_in, 300);
  });

  it('errors: missing client_id, unknown client, blocked app, bad device_id, bad scope', async (t) => {
    const emu = await start(t, { clients: [{ ...DEMO_CLIENT, scopes: ['login:info'] }, { ...OTHER, blocked: true }] });
    oauthError(await post(emu, '/device/code', {}), 'invalid_request');
    oauthError(await post(emu, '/device/code', { client_id: 'nope' }), 'invalid_client');
    oauthError(await post(emu, '/device/code', { client_id: OTHER.id }), 'unauthorized_client');
    oauthError(await post(emu, '/device/code', { client_id: DEMO_CLIENT.id, device_id: 'x' }), 'invalid_request');
    oauthError(await post(emu, '/device/code', { client_id: DEMO_CLIENT.id, scope: 'login:info,login:email' }), 'invalid_scope');
  });

  it('pending, then the person enters the code on the page and allows: a token', async (t) => {
    const emu = await start(t, { deviceIntervalSeconds: 0 });
    const codes = await deviceCode(emu);
    const pending = await poll(emu, codes.device_code as string);
    oauthError(pending, 'authorization_pending');
    assert.equal(pending.json!.error_description, 'User has not yet authorized your application');

    const page = await get(emu, '/device');
    assert.equal(page.status, 200);
    assert.match(page.text, /name="user_code"/);
    const wrong = await post(emu, '/device', { user_code: 'zzzzzzzz' });
    assert.equal(wrong.status, 400);
    const consentPage = await post(emu, '/device', { user_code: ` ${(codes.user_code as string).toUpperCase()} ` });
    assert.equal(consentPage.status, 200);
    assert.ok(consentPage.text.includes(DEMO_CLIENT.name));
    const request = /name="request" value="([^"]+)"/.exec(consentPage.text)![1]!;
    const done = await post(emu, '/device/decision', { request, decision: 'allow' });
    assert.equal(done.status, 200);
    assert.match(done.text, /Access allowed/);

    const granted = await poll(emu, codes.device_code as string);
    assert.equal(granted.status, 200, granted.text);
    assert.equal((await info(emu, granted.json!.access_token as string)).status, 200);
    oauthError(await poll(emu, codes.device_code as string), 'invalid_grant', 400);
  });

  it('deviceErrors rfc8628: polling faster than the interval is slow_down; a denial is access_denied; expiry is expired_token', async (t) => {
    const emu = await start(t, { deviceIntervalSeconds: 60, deviceErrors: 'rfc8628' });
    const fast = await deviceCode(emu);
    oauthError(await poll(emu, fast.device_code as string), 'authorization_pending');
    oauthError(await poll(emu, fast.device_code as string), 'slow_down');

    const quick = await start(t, { deviceIntervalSeconds: 0, deviceErrors: 'rfc8628' });
    const denied = await deviceCode(quick);
    assert.equal(quick.decideDevice(denied.user_code as string, false), true);
    oauthError(await poll(quick, denied.device_code as string), 'access_denied');
    const expired = await deviceCode(quick);
    quick.expireDeviceCodes();
    oauthError(await poll(quick, expired.device_code as string), 'expired_token');
  });

  it('by default, as the evidence on Yandex has it: expiry and denial are invalid_grant, and no slow_down unasked', async (t) => {
    const emu = await start(t, { deviceIntervalSeconds: 60 });
    const fast = await deviceCode(emu);
    oauthError(await poll(emu, fast.device_code as string), 'authorization_pending');
    oauthError(await poll(emu, fast.device_code as string), 'authorization_pending');
    emu.slowDownNextPoll();
    oauthError(await poll(emu, fast.device_code as string), 'slow_down');
    emu.decideDevice(fast.user_code as string, false);
    oauthError(await poll(emu, fast.device_code as string), 'invalid_grant');
    const expired = await deviceCode(emu);
    emu.expireDeviceCodes();
    oauthError(await poll(emu, expired.device_code as string), 'invalid_grant');
  });

  it('a missing code is invalid_request, an unknown or foreign one invalid_grant, no secret invalid_client', async (t) => {
    const emu = await start(t);
    oauthError(await post(emu, '/token', { grant_type: 'device_code', client_id: DEMO_CLIENT.id, client_secret: DEMO_CLIENT.secret }), 'invalid_request');
    oauthError(await poll(emu, 'nope'), 'invalid_grant');
    const codes = await deviceCode(emu);
    const foreign = await post(emu, '/token', { grant_type: 'device_code', code: codes.device_code as string, client_id: OTHER.id, client_secret: OTHER.secret });
    oauthError(foreign, 'invalid_grant');
    oauthError(await post(emu, '/token', { grant_type: 'device_code', code: codes.device_code as string, client_id: DEMO_CLIENT.id }), 'invalid_client');
  });
});

describe('pages', () => {
  it('every page carries the viewport line, so that a phone lays it out at its own width', async (t) => {
    const emu = await start(t);
    const consentPage = await get(emu, '/authorize', { response_type: 'code', client_id: DEMO_CLIENT.id, redirect_uri: CALLBACK });
    const request = /name="request" value="([^"]+)"/.exec(consentPage.text)![1]!;
    const device = await post(emu, '/device/code', { client_id: DEMO_CLIENT.id });
    const userCode = device.json!.user_code as string;
    const entered = await post(emu, '/device', { user_code: userCode });
    const deviceRequest = /name="request" value="([^"]+)"/.exec(entered.text)![1]!;
    const pages: [string, Answer][] = [
      ['consent', consentPage],
      ['authorize error', await get(emu, '/authorize', { response_type: 'code', client_id: 'nope' })],
      ['device page', await get(emu, '/device')],
      ['device consent', entered],
      ['wrong device code', await post(emu, '/device', { user_code: 'zzzzzzzz' })],
      ['device decision', await post(emu, '/device/decision', { request: deviceRequest, decision: 'allow' })],
      ['verification code', await get(emu, '/verification_code', { code: 'AAAAAAAAAAAAAAAA' })],
      ['verification error', await get(emu, '/verification_code', { error: 'access_denied' })],
      ['expired request', await post(emu, '/authorize/decision', { request, decision: 'allow' }).then(() => post(emu, '/authorize/decision', { request, decision: 'allow' }))],
    ];
    for (const [name, page] of pages) {
      assert.match(page.type, /^text\/html/, name);
      assert.ok(page.text.includes('<meta name="viewport" content="width=device-width, initial-scale=1">'), `${name}: ${page.text}`);
    }
  });
});

describe('POST /revoke_token', () => {
  const revoke = (emu: Emulator, accessToken: string, client = DEMO_CLIENT, headers: Record<string, string> = {}) =>
    post(emu, '/revoke_token', { access_token: accessToken, client_id: client.id, client_secret: secretOf[client.id]! }, headers);

  it('revokes a device-bound token and its refresh token: {"status":"ok"}, and ok again the second time', async (t) => {
    const emu = await start(t);
    const pair = await tokens(emu, { device_id: 'device-123' });
    const first = await revoke(emu, pair.access_token);
    assert.equal(first.status, 200);
    assert.deepEqual(first.json, { status: 'ok' });
    assert.equal((await info(emu, pair.access_token)).status, 401);
    oauthError(await refresh(emu, pair.refresh_token), 'invalid_grant');
    assert.deepEqual((await revoke(emu, pair.access_token)).json, { status: 'ok' });
  });

  it('takes the client from the Basic header too', async (t) => {
    const emu = await start(t);
    const pair = await tokens(emu, { device_id: 'device-123' });
    const result = await post(emu, '/revoke_token', { access_token: pair.access_token }, basic(DEMO_CLIENT.id, DEMO_CLIENT.secret));
    assert.deepEqual(result.json, { status: 'ok' });
    const notBasic = await post(emu, '/revoke_token', { access_token: pair.access_token }, { authorization: 'OAuth x' });
    assert.equal(notBasic.status, 401);
    assert.deepEqual(notBasic.json, { error: 'Basic auth required' });
  });

  it('errors: not device-bound, another app\'s token, no or wrong secret, no access_token', async (t) => {
    const emu = await start(t);
    const plain = await tokens(emu);
    oauthError(await revoke(emu, plain.access_token), 'unsupported_token_type');
    const bound = await tokens(emu, { device_id: 'device-123' });
    oauthError(await revoke(emu, bound.access_token, OTHER), 'invalid_grant');
    oauthError(await post(emu, '/revoke_token', { access_token: bound.access_token, client_id: DEMO_CLIENT.id }), 'invalid_client');
    oauthError(await post(emu, '/revoke_token', { access_token: bound.access_token, client_id: DEMO_CLIENT.id, client_secret: 'wrong' }), 'invalid_client');
    oauthError(await post(emu, '/revoke_token', { client_id: DEMO_CLIENT.id, client_secret: DEMO_CLIENT.secret }), 'invalid_request');
    assert.equal((await info(emu, bound.access_token)).status, 200, 'nothing was revoked');
  });
});

describe('GET /info', () => {
  it('answers login, id, client_id and psuid for OAuth (and Bearer) headers and the oauth_token parameter', async (t) => {
    const emu = await start(t, { account: { login: 'alice', id: '42' } });
    const pair = await tokens(emu);
    const result = await info(emu, pair.access_token);
    assert.equal(result.status, 200);
    assert.equal(result.json!.login, 'alice');
    assert.equal(result.json!.id, '42');
    assert.equal(result.json!.client_id, DEMO_CLIENT.id);
    assert.match(result.json!.psuid as string, /^1\./);
    assert.equal(result.json!.default_email, undefined, 'no login:email right, no email');
    assert.equal((await info(emu, pair.access_token, 'Bearer')).status, 200);
    assert.equal((await get(emu, '/info', { oauth_token: pair.access_token })).status, 200);
  });

  it('adds email, names and avatar for login:* rights', async (t) => {
    const emu = await start(t);
    const pair = await tokens(emu, { scope: 'login:email login:info login:avatar' });
    const result = await info(emu, pair.access_token);
    assert.equal(result.json!.default_email, 'demo.user@yandex.ru');
    assert.equal(result.json!.display_name, 'demo.user');
    assert.equal(result.json!.is_avatar_empty, true);
  });

  it('is 401 for no token, an unknown, expired or revoked one; other formats are refused', async (t) => {
    const emu = await start(t);
    assert.equal((await get(emu, '/info')).status, 401);
    assert.equal((await info(emu, 'y0_nope')).status, 401);
    assert.equal((await info(emu, emu.issueToken({ expiresIn: 0 }).access_token)).status, 401);
    const pair = await tokens(emu);
    assert.equal((await get(emu, '/info', { format: 'xml' }, { authorization: `OAuth ${pair.access_token}` })).status, 400);
    emu.revokeAll();
    assert.equal((await info(emu, pair.access_token)).status, 401);
  });
});

describe('failure switches', () => {
  it('each mode answers as described, for as many times as asked, then the endpoint recovers', async (t) => {
    const emu = await start(t);
    const form = { grant_type: 'refresh_token', refresh_token: 'x', client_id: DEMO_CLIENT.id, client_secret: DEMO_CLIENT.secret };
    emu.fail('/token', 'server-error', 1);
    const down = await post(emu, '/token', form);
    assert.equal(down.status, 503);
    assert.match(down.type, /^text\/html/);
    oauthError(await post(emu, '/token', form), 'invalid_grant');

    emu.fail('/token', 'html');
    const portal = await post(emu, '/token', form);
    assert.equal(portal.status, 200);
    assert.match(portal.type, /^text\/html/);

    emu.fail('/token', 'truncated');
    const truncated = await post(emu, '/token', form);
    assert.equal(truncated.json, undefined);
    assert.match(truncated.text, /^\{"access_token"/);

    emu.fail('/token', 'no-access-token');
    const empty = await post(emu, '/token', form);
    assert.equal(empty.status, 200);
    assert.equal(empty.json!.access_token, undefined);

    emu.fail('/info', 'huge');
    const huge = await get(emu, '/info');
    assert.ok(huge.text.length >= 10 * 1024 * 1024);

    emu.fail('/device/code', 'reset');
    await assert.rejects(post(emu, '/device/code', { client_id: DEMO_CLIENT.id }));

    emu.fail('/revoke_token', 'hang');
    await assert.rejects(fetch(`${emu.url}/revoke_token`, { method: 'POST', signal: AbortSignal.timeout(200) }));

    emu.clearFailures();
    oauthError(await post(emu, '/token', form), 'invalid_grant');
    assert.equal((await post(emu, '/device/code', { client_id: DEMO_CLIENT.id })).status, 200);
  });

  it('slow holds every answer back; slow(0) switches it off; close() does not wait for held answers', async (t) => {
    const emu = await start(t, { slowMs: 60_000 });
    const held = fetch(`${emu.url}/info`).then(
      (response) => response.status,
      () => 'never answered',
    );
    while (emu.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    emu.slow(0);
    assert.equal((await get(emu, '/info')).status, 401, 'a request after slow(0) is answered');
    await emu.close();
    assert.equal(await held, 'never answered');
  });

  it('a hanging answer does not keep close() waiting', async (t) => {
    const emu = await start(t);
    emu.fail('/token', 'hang');
    const held = fetch(`${emu.url}/token`, { method: 'POST' }).then(
      () => 'answered',
      () => 'never answered',
    );
    while (emu.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    await emu.close();
    assert.equal(await held, 'never answered');
  });
});
