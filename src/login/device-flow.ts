// `yandex-token login --device`: Yandex's device-code flow. Nothing listens here: the person types a
// short code at Yandex on any device, and we poll until they allow or deny it or the code expires. In two
// steps for automation: --no-wait keeps the code pending in the config, --poll finishes it later.
import type { Context } from '../context.js';
import { apiForRecord } from '../token/server.js';
import { ofProfile, pollCommand, startCommand } from '../messages.js';
import { NetworkError, OAuthError, PendingError, UserError, isInterruption } from '../errors.js';
import type { Output } from '../output.js';
import { isToken, pollDeviceToken, requestDeviceCode, type DeviceCode } from '../yandex/oauth.js';
import type { PendingDeviceLogin } from '../store/read.js';
import type { TokenRecord } from '../token/record.js';
import { formatRelative } from '../time.js';
import { nonDefaultEndpoints } from '../token/server.js';
import { listed, type ProfileLoginOptions } from './options.js';
import { describeTimeout, saveLogin, type LoginSession } from './session.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A spinner and the time the code has left, redrawn in place; stop() erases it. */
function startCountdown(err: Output, expiresAt: number, now: () => number): { stop(): void } {
  let frame = 0;
  const draw = () => {
    const left = Math.max(0, Math.ceil((expiresAt - now()) / 1000));
    const clock = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
    err.status(`${SPINNER[frame++ % SPINNER.length]} Waiting for the code to be entered… ${clock} left`);
  };
  draw();
  let timer: NodeJS.Timeout | undefined = setInterval(draw, 100);
  timer.unref();
  return {
    stop() {
      if (!timer) return;
      clearInterval(timer);
      timer = undefined;
      err.status();
    },
  };
}

function askForDeviceCode(session: LoginSession, ctx: Context): Promise<DeviceCode> {
  const { options, clientId, deviceId, deviceName } = session;
  return requestDeviceCode(ctx.api, { clientId, deviceId, deviceName, scope: options.scope, optionalScope: options.optionalScope });
}

function showCode(err: Output, device: DeviceCode): void {
  err.line(`To log in, open ${device.verificationUrl} in a browser on any device and enter this code:`);
  err.line();
  err.line(`  ${err.bold(device.userCode)}`);
  err.line();
}

/**
 * Says when polls stop reaching Yandex, and when they reach it again: once each, since the person may be
 * entering the code meanwhile. Only what happened, not the error's advice, which is for giving up: the
 * final error (the code expired meanwhile) carries it in full.
 */
function reportReachability(err: Output, until: string, countdown?: { stop(): void }) {
  return (unreachable: NetworkError | undefined) => {
    if (countdown) err.status();
    if (unreachable) err.warn(`${unreachable.what} Still trying ${until}.`);
    else err.line('Yandex can be reached again; still waiting for the code to be entered.');
  };
}

export async function loginWithDevice(session: LoginSession, ctx: Context): Promise<TokenRecord> {
  const { options, clientId, clientSecret, deviceId, deviceName } = session;
  const device = await askForDeviceCode(session, ctx);
  options.onDeviceCode?.({ userCode: device.userCode, verificationUrl: device.verificationUrl, expiresIn: device.expiresIn });

  const { err } = ctx;
  showCode(err, device);
  // The page only asks for the code: opening it here is a convenience, and failing to is no news.
  if (options.browser !== false) await ctx.openBrowser(device.verificationUrl);
  // --timeout bounds the wait when it ends before the code does (a CI job that asked for a bounded wait).
  const bound = options.timeoutSeconds;
  const deadline = bound !== undefined && ctx.clock.now() + bound * 1000 < device.expiresAt ? ctx.clock.now() + bound * 1000 : undefined;
  err.line(
    deadline === undefined
      ? `Waiting for access to be allowed; the code expires in ${describeTimeout(device.expiresIn)} (Ctrl-C to abort).`
      : `Waiting up to ${describeTimeout(bound!)} (--timeout) for access to be allowed (Ctrl-C to abort).`,
  );

  const countdown = ctx.interactive ? startCountdown(err, deadline ?? device.expiresAt, ctx.clock.now) : undefined;
  try {
    const onReachable = reportReachability(err, deadline === undefined ? 'until the code expires (Ctrl-C to stop)' : `for up to ${describeTimeout(bound!)} (--timeout)`, countdown);
    const token = await pollDeviceToken(ctx.api, { device, clientId, clientSecret, deviceId, deviceName, onReachable, deadline, bounded: true });
    countdown?.stop();
    if (!isToken(token)) {
      throw new UserError(
        `The code was not entered within ${describeTimeout(bound!)} (--timeout). Nothing was stored; run \`yandex-token login --device\` again, with a longer --timeout or none (then it waits as long as the code lives).`,
      );
    }
    return await session.save(token);
  } finally {
    countdown?.stop();
  }
}

/** What `login --device --no-wait --json` writes: enough for a program to show the code and poll. */
export interface PendingCodeJson {
  user_code: string;
  verification_url: string;
  /** Seconds the code lives. */
  expires_in: number;
  /** Seconds to wait between `login --device --poll` runs. */
  interval: number;
}

/**
 * `login --device --no-wait`: asks Yandex for a code, keeps it as the profile's pending login (beside its
 * record, which stays as it is until --poll succeeds), shows it and returns at once.
 */
export async function startDeviceLogin(session: LoginSession, ctx: Context): Promise<undefined> {
  const { options, clientId, clientSecret, deviceId, deviceName } = session;
  const device = await askForDeviceCode(session, ctx);
  const pending: PendingDeviceLogin = {
    deviceCode: device.deviceCode,
    userCode: device.userCode,
    verificationUrl: device.verificationUrl,
    interval: device.interval,
    expiresIn: device.expiresIn,
    expiresAt: new Date(device.expiresAt).toISOString(),
    lastPollAt: ctx.now().toISOString(),
    clientId,
    clientSecret,
    deviceId,
    deviceName,
    scope: options.scope,
    ...nonDefaultEndpoints(ctx.api),
  };
  await ctx.store.update((data) => {
    // A newer --no-wait replaces an older pending code: only the newest one is polled.
    data.pending = { ...data.pending, [options.profile]: pending };
  });

  const { err } = ctx;
  showCode(err, device);
  const poll = pollCommand(options.profile);
  err.line(
    `Then run \`${poll}\` (exit 0: logged in, 3: not entered yet); the code expires in ${describeTimeout(device.expiresIn)}.`,
  );
  if (options.json) {
    const json: PendingCodeJson = {
      user_code: device.userCode,
      verification_url: device.verificationUrl,
      expires_in: device.expiresIn,
      interval: device.interval,
    };
    ctx.stdout.write(`${JSON.stringify(json)}\n`);
  }
  return undefined;
}

function deviceFrom(pending: PendingDeviceLogin): DeviceCode {
  return {
    deviceCode: pending.deviceCode,
    userCode: pending.userCode,
    verificationUrl: pending.verificationUrl,
    interval: pending.interval,
    expiresIn: pending.expiresIn,
    expiresAt: Date.parse(pending.expiresAt),
  };
}

/**
 * --poll takes the app, secret, scopes and device of the pending login. A CI script may pass the same
 * flags to both steps: equal values are fine, and only those that differ are refused (by name: one may be
 * the secret).
 */
function checkPollFlags(options: ProfileLoginOptions, pending: PendingDeviceLogin): void {
  const differs = (given: string | undefined, kept: string | undefined) => given !== undefined && given !== kept;
  const fixed = listed(
    [
      differs(options.clientId, pending.clientId) && '--client-id',
      differs(options.clientSecret, pending.clientSecret) && '--client-secret',
      differs(options.scope, pending.scope) && '--scope',
      // Not kept with the pending login, so it cannot be compared.
      options.optionalScope !== undefined && '--optional-scope',
      differs(options.deviceId, pending.deviceId) && '--device-id',
      differs(options.deviceName, pending.deviceName) && '--device-name',
    ],
    ', ',
  );
  if (fixed) {
    throw new UserError(
      `${fixed.names} ${fixed.many ? 'differ' : 'differs'} from what the pending login was started with, and --poll cannot change ${fixed.them}: drop ${fixed.them}, or start again with \`login --device --no-wait\`.`,
    );
  }
}

/**
 * `login --device --poll`: polls for the profile's pending device login once (or until timeoutSeconds
 * pass) and stores the token when access was allowed. Still waiting: PendingError (exit 3). Declined,
 * expired or refused: the pending login is dropped and the error says to start again.
 */
export async function pollDeviceLogin(options: ProfileLoginOptions, ctx: Context): Promise<TokenRecord> {
  const { profile } = options;
  const start = startCommand(profile);
  const pending = ctx.store.read().pending?.[profile];
  if (!pending) {
    throw new UserError(`No device login is pending${ofProfile(profile)}: start one with \`${start}\`, then run this again.`);
  }
  checkPollFlags(options, pending);
  const device = deviceFrom(pending);
  // The server the code came from (an emulator's, say), unless the environment names another.
  const api = apiForRecord(ctx.api, pending);
  // Drops this pending login, unless a newer --no-wait has replaced it meanwhile.
  const isThis = (data: { pending?: Record<string, PendingDeviceLogin> }) => data.pending?.[profile]?.deviceCode === pending.deviceCode;
  const drop = (data: { pending?: Record<string, PendingDeviceLogin> }) => {
    if (isThis(data)) delete data.pending![profile];
  };

  let result: Awaited<ReturnType<typeof pollDeviceToken>>;
  try {
    result = await pollDeviceToken(api, {
      device,
      clientId: pending.clientId,
      clientSecret: pending.clientSecret,
      deviceId: pending.deviceId,
      deviceName: pending.deviceName,
      lastPollAt: Date.parse(pending.lastPollAt) || undefined,
      deadline: ctx.clock.now() + (options.timeoutSeconds ?? 0) * 1000,
      // A single poll reports an outage as its error; a --timeout's polls say it as they go.
      onReachable: options.timeoutSeconds ? reportReachability(ctx.err, `for up to ${options.timeoutSeconds} s (--timeout)`) : undefined,
      // The sentences that end this login say to start again; here the way to start again is --no-wait.
      restart: start,
    });
  } catch (error) {
    // Yandex's answer (declined, expired, a refused client) or the code's own expiry end this login for
    // good; a network failure or Ctrl-C leaves it pending for the next --poll.
    if (error instanceof OAuthError || (error instanceof UserError && ctx.clock.now() >= device.expiresAt)) {
      await ctx.store.update(drop);
      throw new UserError(error.message, { cause: error });
    }
    // Exit 1 from --poll otherwise means "start again": say that this code still stands.
    if (error instanceof UserError && !isInterruption(error)) {
      throw new UserError(`${error.message} The code ${pending.userCode} is still pending: run \`${pollCommand(profile)}\` again once Yandex can be reached.`, { cause: error });
    }
    throw error;
  }

  if (!isToken(result)) {
    const { interval, lastPollAt } = result;
    await ctx.store.update((data) => {
      if (isThis(data)) data.pending![profile] = { ...data.pending![profile]!, interval, lastPollAt: new Date(lastPollAt).toISOString() };
    });
    throw new PendingError(
      `The code ${pending.userCode} has not been entered at ${pending.verificationUrl} yet (it expires ${formatRelative(new Date(device.expiresAt), ctx.now())}). Run \`${pollCommand(profile)}\` again in ${interval} s or more.`,
    );
  }

  const source = {
    clientId: pending.clientId,
    clientSecret: pending.clientSecret,
    deviceId: pending.deviceId,
    deviceName: pending.deviceName,
    requestedScope: pending.scope,
  };
  return saveLogin(ctx, api, profile, result, source, { alsoChange: drop });
}
