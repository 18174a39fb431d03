// What a login is asked to do: the one LoginOptions (the CLI's flags, the Node API's login() and the demo
// all fill it in) and checkLoginOptions, which holds every rule about which options go together.
import { UserError, untrusted } from '../errors.js';
import { DEFAULT_PORT } from '../settings.js';
import { defaultRedirectUri, parseRedirectUri, type RedirectTarget } from './listener.js';

/** The device-code login's instruction to the person: open this page and enter this code. */
export interface DeviceCodePrompt {
  userCode: string;
  verificationUrl: string;
  /** Seconds the code lives. */
  expiresIn: number;
}

// The doc comments of the fields the Node API takes (src/api.ts picks them) are what programs read in
// their editor: keep them about the API; what the CLI adds is said in line comments.
export interface LoginOptions {
  // The stored login to write: --profile, else YANDEX_TOKEN_PROFILE or "default" ("demo" with --demo).
  profile?: string;
  /** The app's ClientID (https://oauth.yandex.ru). */
  clientId?: string;
  /** The app's Client secret; stored, since refreshing needs it. */
  clientSecret?: string;
  /** Loopback port (default 8765): the Redirect URI is http://127.0.0.1:<port>/callback. */
  port?: number;
  /** The exact loopback Redirect URI registered in the app, instead of `port`. */
  // With --no-localhost: the https page the app registered to show the code.
  redirectUri?: string;
  /** Required permissions, space-separated (default: all the app has). */
  scope?: string;
  optionalScope?: string;
  /** The Yandex account to log in as (loopback mode). */
  loginHint?: string;
  /** Always show the consent page, to pick another account (loopback mode). */
  forceConfirm?: boolean;
  /** How this machine appears in Yandex ID (default: a random id kept per profile, "yandex-token on <host>"). */
  deviceId?: string;
  deviceName?: string;
  /** How long to wait for the browser, in seconds (default 300); in device mode, for the code to be entered (default: as long as it lives). */
  // --no-localhost: how long to wait for the pasted code; --poll: how long to keep polling (once when unset).
  timeoutSeconds?: number;
  /** Device mode: called once with the code the person must enter and the page to enter it on. */
  onDeviceCode?: (code: DeviceCodePrompt) => void;

  // The CLI's alone.
  /** false with --no-browser: only print the URL. */
  browser?: boolean;
  /** --device: Yandex's device-code flow, no listener. */
  device?: boolean;
  /** false with --no-localhost: no listener; the person pastes the code from Yandex's verification page. */
  localhost?: boolean;
  /** false with --device --no-wait: show the code, keep it pending in the config, and return at once. */
  wait?: boolean;
  /** --device --poll: continue the pending device login: poll once, or for timeoutSeconds when given. */
  poll?: boolean;
  /** --json with --no-wait: the code as JSON on stdout. */
  json?: boolean;
  /**
   * --demo: the login runs against the built-in emulator (commands/demo.ts), and the record is marked as
   * the emulator's.
   */
  demo?: boolean;
  /** --with-token: no app and no Yandex page; store a token the person already has, read from stdin. */
  withToken?: boolean;
  /** --client-login, --org-id, --cloud-org-id: the profile's service settings, set once the login succeeds. */
  serviceSettings?: Partial<Record<'client-login' | 'org-id' | 'cloud-org-id', string>>;
}

/** The options once the command has settled the profile (the environment's, or the demo's own). */
export type ProfileLoginOptions = LoginOptions & { profile: string };

/** Which way in the options pick. */
export type LoginPlan =
  | { flow: 'browser'; target: RedirectTarget }
  | { flow: 'paste' }
  | { flow: 'device' }
  /** --device --no-wait */
  | { flow: 'device-start' }
  /** --device --poll */
  | { flow: 'device-poll' }
  /** --with-token */
  | { flow: 'token' };

/**
 * "--a and --b are" / "--a is", and "them" / "it", for the messages that list conflicting flags (the flags
 * given; false and undefined stand for those that were not).
 */
export function listed(flags: (string | false | undefined)[], joiner = ' and '): { names: string; are: string; them: string; many: boolean } | undefined {
  const names = flags.filter((flag): flag is string => typeof flag === 'string');
  if (names.length === 0) return undefined;
  const many = names.length > 1;
  return { names: names.join(joiner), are: many ? 'are' : 'is', them: many ? 'them' : 'it', many };
}

function checkPortOrRedirectUri(options: LoginOptions): void {
  if (options.port !== undefined && options.redirectUri !== undefined) {
    throw new UserError('Pass either --port or --redirect-uri, not both: the redirect URI already names its port.');
  }
}

/** What --demo cannot be combined with: the demo's app is the emulator's, and it lives for one run. */
function checkDemo(options: LoginOptions): void {
  if (options.clientId !== undefined || options.clientSecret !== undefined) {
    throw new UserError('--demo logs in to the built-in emulator\'s demo app: drop --client-id and --client-secret, or drop --demo to use your own app.');
  }
  checkPortOrRedirectUri(options);
  if (options.wait === false || options.poll) {
    throw new UserError(`${options.poll ? '--poll' : '--no-wait'} takes two runs, and the demo's emulator lives only as long as one \`login --demo\`: try \`login --demo --device\` to see the device login.`);
  }
  if (options.localhost === false) {
    throw new UserError('--demo shows the loopback login, or with --device the device login; --no-localhost is not part of the demo. Drop --no-localhost, or use it with your own app.');
  }
}

/** The flags of the two-step device login (--no-wait, then --poll) fit together, or a sentence that says why not. */
function checkTwoStep(options: LoginOptions): void {
  const noWait = options.wait === false;
  if ((noWait || options.poll) && !options.device) {
    throw new UserError(`${noWait ? '--no-wait' : '--poll'} is for the two-step device login: pass it with --device (\`login --device --no-wait\`, later \`login --device --poll\`).`);
  }
  if (noWait && options.poll) {
    throw new UserError('Pass --no-wait or --poll, not both: --no-wait starts a device login and returns, --poll finishes it.');
  }
  if (options.json && !noWait) {
    throw new UserError('--json goes with --device --no-wait, which prints the code as JSON; the other logins print nothing on stdout.');
  }
  // A flag that does nothing here is refused, never silently ignored. (--poll's app, secret, scopes and
  // device come from the pending login: pollDeviceLogin refuses those that differ from it.)
  if (noWait && options.timeoutSeconds !== undefined) {
    throw new UserError('--timeout does not apply to --no-wait, which returns at once: pass it to the later `login --device --poll`, which keeps polling that long.');
  }
  if ((noWait || options.poll) && options.browser === false) {
    throw new UserError(`--no-browser does not apply to ${noWait ? '--no-wait' : '--poll'}, which opens no browser: drop it.`);
  }
}

/**
 * Checks --redirect-uri for --no-localhost: the https page the app has registered to show the code, such
 * as https://oauth.yandex.com/verification_code (Yandex's English docs) instead of the .ru one we send
 * by default. Only https: the page receives the code.
 */
function checkPasteRedirectUri(uri: string): void {
  let url: URL | undefined;
  try {
    url = new URL(uri);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:' || url.hash || url.username || url.password) {
    throw new UserError(
      `--redirect-uri with --no-localhost must be the https address of the page that shows the code, exactly as registered in the app (e.g. https://oauth.yandex.com/verification_code), not "${untrusted(uri, 200)}".`,
    );
  }
}

/** The options without a listener (--device, --no-localhost) fit together; returns the flow. */
function checkHeadless(options: LoginOptions, headless: '--device' | '--no-localhost'): LoginPlan {
  // --no-localhost takes --redirect-uri: the https page the app registered to show the code.
  const loopbackOnly = listed([options.port !== undefined && '--port', options.device && options.redirectUri !== undefined && '--redirect-uri']);
  if (loopbackOnly) {
    throw new UserError(`${loopbackOnly.names} ${loopbackOnly.are} for the loopback listener, which ${headless} does not use: drop ${loopbackOnly.them}, or drop ${headless}.`);
  }
  if (options.device) {
    const authorizeOnly = listed([options.loginHint !== undefined && '--login-hint', options.forceConfirm && '--force-confirm']);
    if (authorizeOnly) {
      throw new UserError(
        `${authorizeOnly.names} cannot be passed with --device: the account is whichever is signed in where the code is entered. Drop ${authorizeOnly.them}, or use \`login --no-localhost\`.`,
      );
    }
    return { flow: options.poll ? 'device-poll' : options.wait === false ? 'device-start' : 'device' };
  }
  if (options.redirectUri !== undefined) checkPasteRedirectUri(options.redirectUri);
  return { flow: 'paste' };
}

/** --with-token takes a token as it is: every flag about getting one from Yandex is refused, by name. */
function checkWithToken(options: LoginOptions): LoginPlan {
  const getting = listed([
    options.demo && '--demo',
    options.device && '--device',
    options.localhost === false && '--no-localhost',
    options.wait === false && '--no-wait',
    options.poll && '--poll',
    options.json && '--json',
    options.browser === false && '--no-browser',
    options.clientId !== undefined && '--client-id',
    options.clientSecret !== undefined && '--client-secret',
    options.port !== undefined && '--port',
    options.redirectUri !== undefined && '--redirect-uri',
    options.scope !== undefined && '--scope',
    options.optionalScope !== undefined && '--optional-scope',
    options.loginHint !== undefined && '--login-hint',
    options.forceConfirm && '--force-confirm',
    options.deviceId !== undefined && '--device-id',
    options.deviceName !== undefined && '--device-name',
  ]);
  if (getting) {
    throw new UserError(
      `${getting.names} ${getting.are} for getting a token from Yandex, and --with-token stores one you already have, as it is (its app, scopes and device are Yandex's record of it): drop ${getting.them}, or drop --with-token.`,
    );
  }
  return { flow: 'token' };
}

/**
 * Checks that the options fit together, before anything is asked, started or stored, and picks the way
 * in; a conflict is a UserError whose sentence says what to drop.
 */
export function checkLoginOptions(options: LoginOptions): LoginPlan {
  if (options.withToken) return checkWithToken(options);
  if (options.demo) checkDemo(options);
  checkTwoStep(options);
  if (options.device && options.localhost === false) {
    throw new UserError('Pass either --device or --no-localhost, not both: one logs in by a code typed at Yandex, the other by a code pasted here.');
  }
  if (options.device) return checkHeadless(options, '--device');
  if (options.localhost === false) return checkHeadless(options, '--no-localhost');
  checkPortOrRedirectUri(options);
  return { flow: 'browser', target: parseRedirectUri(options.redirectUri ?? defaultRedirectUri(options.port ?? DEFAULT_PORT)) };
}
