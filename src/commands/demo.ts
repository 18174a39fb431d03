// `yandex-token login --demo`: the real loopback login, end to end, against a Yandex OAuth emulator started
// inside this process, so a fresh machine shows the whole flow before any Yandex app is registered.
import type { Context } from '../context.js';
import { DEMO_CLIENT, browseConsent, enterDeviceCode, startEmulator } from '../emulator/index.js';
import { profileFlag } from '../messages.js';
import { checkLoginOptions, type LoginOptions } from '../login/options.js';
import { runLogin } from './login.js';

export const DEMO_PROFILE = 'demo';

/** `login --demo` with the rest of login's options (those the demo takes: checkLoginOptions says which). */
export async function loginDemo(options: LoginOptions, ctx: Context): Promise<void> {
  const plan = checkLoginOptions({ ...options, demo: true });
  // A fake token never lands in the profile YANDEX_TOKEN_PROFILE names: only --profile overrides "demo".
  const profile = options.profile ?? DEMO_PROFILE;

  // Polls every 2 s rather than Yandex's 5: a demo of --device need not keep anyone waiting.
  const emulator = await startEmulator({ host: '127.0.0.1', port: 0, deviceIntervalSeconds: 2 });
  try {
    const { url } = emulator;
    // The login's own view of the world, pointed at the emulator; process.env stays as it was. The
    // headless advice is the demo's own (below), which knows that both ports must be reachable.
    const demoCtx: Context = {
      ...ctx,
      settings: { ...ctx.settings, display: { ssh: false, graphical: true } },
      // The emulator is in this process, on loopback: never send its requests through HTTPS_PROXY.
      api: { ...ctx.api, oauthUrl: url, loginUrl: url, fetch: undefined, proxy: undefined },
    };
    const { err } = ctx;
    err.line(`${err.bold('Demo:')} a Yandex OAuth emulator is running inside this command at ${url}. It is not Yandex.`);
    err.line(
      options.device
        ? 'The login below is the real device login (a code to enter at the device page, polling, token); only the'
        : 'The login below is the real one (browser, loopback listener, PKCE, token exchange); only the other',
    );
    err.line(options.device ? 'other side is the emulator, so the token it gives is not a real Yandex token.' : 'side is the emulator, so the token it gives is not a real Yandex token.');
    const { display } = ctx.settings;
    // With no display and no BROWSER there is nobody to click Allow: the demo plays that part itself, over
    // plain HTTP, so the first command in the README succeeds on any machine. --no-browser keeps it manual.
    const playBrowser = !display.graphical && !ctx.settings.browser && options.browser !== false;
    let onDeviceCode = options.onDeviceCode;
    if (playBrowser && options.device) {
      demoCtx.openBrowser = async () => true;
      onDeviceCode = (code) => {
        options.onDeviceCode?.(code);
        void enterDeviceCode(code.verificationUrl, code.userCode, 'allow').catch(() => undefined);
      };
      err.line('This machine has no display, so the demo plays the person too: it enters the code at the device page');
      err.line('and presses Allow, as you would on your phone (pass --no-browser to enter it yourself, e.g. in w3m or lynx).');
    } else if (playBrowser) {
      demoCtx.openBrowser = async (authorizeUrl) => {
        void browseConsent(authorizeUrl, 'allow').catch(() => undefined);
        return true;
      };
      err.line('This machine has no display, so the demo plays the browser itself: it opens the URL below and presses');
      err.line('Allow, as you would (pass --no-browser to open the URL yourself, e.g. in w3m or lynx).');
    } else if (options.browser === false && (!display.graphical || display.ssh)) {
      const emulatorPort = new URL(url).port;
      const callbackPort = plan.flow === 'browser' ? plan.target.port : undefined;
      err.line(
        options.device
          ? `No browser here? The device page is a plain HTML form, so a text browser on this machine works too (w3m or lynx with the page below). From another machine, forward the emulator's port: ssh -L ${emulatorPort}:127.0.0.1:${emulatorPort} <this host>.`
          : `No browser here? The pages are plain HTML forms, so a text browser on this machine works too (w3m or lynx with the URL below). From another machine, forward both ports: ssh -L ${callbackPort}:127.0.0.1:${callbackPort} -L ${emulatorPort}:127.0.0.1:${emulatorPort} <this host>.`,
      );
    }
    err.line();

    await runLogin(plan, { ...options, profile, clientId: DEMO_CLIENT.id, clientSecret: DEMO_CLIENT.secret, demo: true, onDeviceCode }, demoCtx);

    const printCommand = `yandex-token print${profileFlag(profile)}`;
    err.line();
    err.line(
      `This was a demo: the token saved in profile "${profile}" is ${err.bold('not a real Yandex token')}. The emulator that issued it has stopped, and no Yandex API accepts it.`,
    );
    err.line(`\`${printCommand}\` shows it. For a real token, register a Yandex app (see the README) and run \`yandex-token login\`.`);
  } finally {
    await emulator.close();
  }
}
