// `yandex-token login --device`: Yandex's device-code flow. Nothing listens here: the person types a
// short code at Yandex on any device, and we poll until they allow or deny it or the code expires.
import type { Context } from '../context.js';
import type { Output } from '../output.js';
import { pollDeviceToken, requestDeviceCode } from '../oauth.js';
import { describeTimeout, type LoginSession } from './login.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A spinner and the time the code has left, redrawn in place; stop() erases it. */
function startCountdown(err: Output, expiresAt: number): { stop(): void } {
  let frame = 0;
  const draw = () => {
    const left = Math.max(0, Math.ceil((expiresAt - Date.now()) / 1000));
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

export async function loginWithDevice(session: LoginSession, ctx: Context): Promise<string> {
  const { options, clientId, clientSecret, deviceId, deviceName } = session;
  const device = await requestDeviceCode(ctx.api, {
    clientId,
    deviceId,
    deviceName,
    scope: options.scope,
    optionalScope: options.optionalScope,
  });

  options.onDeviceCode?.({ userCode: device.userCode, verificationUrl: device.verificationUrl, expiresIn: device.expiresIn });
  const { err } = ctx;
  err.line(`To log in, open ${device.verificationUrl} in a browser on any device and enter this code:`);
  err.line();
  err.line(`  ${err.bold(device.userCode)}`);
  err.line();
  // The page only asks for the code: opening it here is a convenience, and failing to is no news.
  if (options.browser !== false) await ctx.openBrowser(device.verificationUrl);
  err.line(`Waiting for access to be allowed; the code expires in ${describeTimeout(device.expiresIn)} (Ctrl-C to abort).`);

  const countdown = ctx.interactive ? startCountdown(err, device.expiresAt) : undefined;
  try {
    const token = await pollDeviceToken(ctx.api, { device, clientId, clientSecret, deviceId, deviceName });
    countdown?.stop();
    return await session.save(token);
  } finally {
    countdown?.stop();
  }
}
