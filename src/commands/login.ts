// `yandex-token login`: checks the options, picks the way in (loopback listener, --device, --no-localhost,
// the two-step device login, --with-token) and runs it; the flows themselves live in src/login/.
import type { Context } from '../context.js';
import type { TokenRecord } from '../token/record.js';
import { loginWithLoopback } from '../login/browser-flow.js';
import { loginWithDevice, pollDeviceLogin, startDeviceLogin } from '../login/device-flow.js';
import { checkLoginOptions, type LoginOptions, type LoginPlan, type ProfileLoginOptions } from '../login/options.js';
import { loginByPaste } from '../login/paste-flow.js';
import { startSession } from '../login/session.js';
import { loginWithToken } from '../login/token-flow.js';
import { loginName } from '../messages.js';
import { UserError } from '../errors.js';
import { SETTING_NAMES, bothOrganisations, checkSetting } from '../services.js';

/** Logs in by the way the options pick, stores the token under the profile, and returns what was stored
 * (undefined only for --device --no-wait, which stores a pending login instead). */
export async function login(options: LoginOptions, ctx: Context): Promise<TokenRecord | undefined> {
  const plan = checkLoginOptions(options);
  return runLogin(plan, { ...options, profile: options.profile ?? ctx.settings.profile }, ctx);
}

/** Runs the login `plan` (what checkLoginOptions picked for these options) and says who logged in. */
export async function runLogin(plan: LoginPlan, options: ProfileLoginOptions, ctx: Context): Promise<TokenRecord | undefined> {
  const settings = checkedSettings(plan, options);
  if (settings) (await import('./profile.js')).assertOneOrganisation(ctx.store.read(), options.profile, settings);
  // --poll continues a login whose app, secret and device were settled when it started; --with-token has none.
  const record =
    plan.flow === 'device-poll' ? await pollDeviceLogin(options, ctx) : plan.flow === 'token' ? await loginWithToken(options, ctx) : await runFlow(plan, options, ctx);
  if (record) ctx.err.line(`Logged in as ${ctx.err.bold(loginName(record))}. Token saved to ${ctx.store.path}.`);
  if (record && settings) {
    const { saveSettings } = await import('./profile.js');
    await saveSettings(ctx, options.profile, settings);
    ctx.err.line(`Set ${Object.keys(settings).join(', ')} for this profile.`);
  }
  return record;
}

/**
 * --client-login, --org-id, --cloud-org-id, checked before anything is asked of Yandex (they are stored
 * only once the login succeeds); undefined when none is given.
 */
function checkedSettings(plan: LoginPlan, options: ProfileLoginOptions): ProfileLoginOptions['serviceSettings'] {
  const given = Object.fromEntries(Object.entries(options.serviceSettings ?? {}).filter(([, value]) => value !== undefined));
  if (Object.keys(given).length === 0) return undefined;
  const flags = Object.keys(given).map((key) => `--${key}`).join(', ');
  if (plan.flow === 'device-start') throw new UserError(`${flags} take effect once the login succeeds: give them to \`login --device --poll\`, or use \`yandex-token profile set\`.`);
  for (const key of SETTING_NAMES) if (given[key] !== undefined) checkSetting(key, given[key]);
  if (given['org-id'] !== undefined && given['cloud-org-id'] !== undefined) throw bothOrganisations(options.profile);
  return given;
}

async function runFlow(plan: Exclude<LoginPlan, { flow: 'device-poll' | 'token' }>, options: ProfileLoginOptions, ctx: Context): Promise<TokenRecord | undefined> {
  const session = await startSession(options, ctx);
  switch (plan.flow) {
    case 'browser':
      return loginWithLoopback(plan.target, session, ctx);
    case 'paste':
      return loginByPaste(session, ctx);
    case 'device':
      return loginWithDevice(session, ctx);
    case 'device-start':
      return startDeviceLogin(session, ctx);
  }
}
