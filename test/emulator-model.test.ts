// The emulator's model on its own, no HTTP: its rules about time (codes, refresh tokens, device polls)
// against a clock the test moves, so that expiry is tested at its edges without waiting.
import assert from 'node:assert/strict';
import test from 'node:test';
import {
  createModel,
  decideDevice,
  issue,
  issueCode,
  issueDeviceCode,
  liveAccessToken,
  pollDevice,
  refresh,
  takeCode,
  type ModelOptions,
  type PendingAuthorization,
} from '../src/emulator/model.ts';

function clocked(options: ModelOptions = {}) {
  const clock = { now: 1_700_000_000_000 };
  const model = createModel(options, () => clock.now);
  const advance = (seconds: number) => void (clock.now += seconds * 1000);
  return { model, advance };
}

const pending: PendingAuthorization = { clientId: 'demo-client-id', responseType: 'code', redirectUri: 'http://127.0.0.1:1/callback' };

test('an authorization code works once, until the last millisecond of its lifetime', () => {
  const { model, advance } = clocked({ codeLifetimeSeconds: 600 });
  const first = issueCode(model, pending);
  advance(599.999);
  assert.equal(takeCode(model, first)?.clientId, 'demo-client-id');
  assert.equal(takeCode(model, first), undefined, 'a code is spent by its first exchange');
  const second = issueCode(model, pending);
  advance(600);
  assert.equal(takeCode(model, second), undefined, 'expired');
});

test('a refresh keeps the access token while more than half its life is left, then issues a new one; each refresh token works once', () => {
  const { model, advance } = clocked({ tokenLifetimeSeconds: 100 });
  const pair = issue(model, { clientId: 'demo-client-id' });
  advance(40);
  const kept = refresh(model, pair.refresh_token, 'demo-client-id');
  assert.equal(kept?.access_token, pair.access_token, 'more than half left: the same access token, renewed');
  assert.equal(refresh(model, pair.refresh_token, 'demo-client-id'), undefined, 'the rotated refresh token is dead');
  assert.equal(refresh(model, kept!.refresh_token, 'another-client'), undefined, 'only for its own app');
  advance(60);
  const renewed = refresh(model, kept!.refresh_token, 'demo-client-id');
  assert.ok(renewed && renewed.access_token !== pair.access_token, 'less than half left: a new access token');
  assert.equal(liveAccessToken(model, pair.access_token), undefined, 'the old access token is gone');
  advance(100);
  assert.equal(liveAccessToken(model, renewed.access_token), undefined, 'expired');
  assert.equal(refresh(model, renewed.refresh_token, 'demo-client-id'), undefined, 'the refresh token dies with it');
});

test('device polls: too soon is slow_down (rfc8628) and adds 5 s, then pending, then the tokens once approved, and expired at the end', () => {
  const { model, advance } = clocked({ deviceErrors: 'rfc8628', deviceIntervalSeconds: 5, deviceExpiresInSeconds: 60 });
  const { deviceCode, userCode } = issueDeviceCode(model, { clientId: 'demo-client-id' });
  assert.equal(pollDevice(model, deviceCode, 'another-client'), 'invalid');
  assert.equal(pollDevice(model, deviceCode, 'demo-client-id'), 'pending');
  advance(4);
  assert.equal(pollDevice(model, deviceCode, 'demo-client-id'), 'slow_down');
  assert.equal(model.counts.slow_down, 1);
  advance(9);
  assert.equal(pollDevice(model, deviceCode, 'demo-client-id'), 'slow_down', 'the interval is 10 s now');
  advance(15);
  assert.equal(pollDevice(model, deviceCode, 'demo-client-id'), 'pending');
  assert.equal(decideDevice(model, userCode, true), true);
  advance(15);
  const tokens = pollDevice(model, deviceCode, 'demo-client-id');
  assert.ok(typeof tokens === 'object' && liveAccessToken(model, tokens.access_token), 'approved: a working token');
  assert.equal(pollDevice(model, deviceCode, 'demo-client-id'), 'invalid', 'a device code gives its tokens once');

  const late = issueDeviceCode(model, { clientId: 'demo-client-id' });
  advance(60);
  assert.equal(decideDevice(model, late.userCode, true), false, 'an expired code cannot be approved');
  assert.equal(pollDevice(model, late.deviceCode, 'demo-client-id'), 'expired');
});
