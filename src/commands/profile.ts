// `yandex-token profile set|unset|show`: what a profile keeps for the services beside its token (Direct's
// client login, Tracker's organisation), apart from the login itself, so that logins and logouts keep it.
import type { Context } from '../context.js';
import { ofProfile, profileFlag } from '../messages.js';
import { SETTING_KEYS, bothOrganisations, checkSetting, settingEntries, settingKey, settingsJson, type ServiceSettings, type SettingKey, type SettingsJson } from '../services.js';
import type { ConfigData } from '../store/read.js';
import { profileSettings } from '../token/for-service.js';

/** What `profile show --json` writes: every key, null when not set. */
export interface ShownSettings extends SettingsJson {
  profile: string;
}

/**
 * Sets `changes` on the profile under the store's lock, each value checked first. An organisation id of
 * the other kind already set is an error (Tracker takes one): the person picks by unsetting it.
 */
export async function saveSettings(ctx: Pick<Context, 'store'>, profile: string, changes: Partial<Record<SettingKey, string>>): Promise<void> {
  const entries = Object.entries(changes).filter((entry): entry is [SettingKey, string] => entry[1] !== undefined);
  for (const [key, value] of entries) checkSetting(key, value);
  if (changes['org-id'] !== undefined && changes['cloud-org-id'] !== undefined) throw bothOrganisations(profile);
  if (entries.length === 0) return;
  await ctx.store.update((data) => {
    assertOneOrganisation(data, profile, changes);
    const next: ServiceSettings = { ...currentSettings(data, profile) };
    for (const [key, value] of entries) next[SETTING_KEYS[key]] = value;
    data.settings = { ...data.settings, [profile]: next };
  });
}

/** Setting one kind of organisation id while the profile has the other is an error (login checks it first). */
export function assertOneOrganisation(data: ConfigData, profile: string, changes: Partial<Record<SettingKey, string>>): void {
  const current = currentSettings(data, profile);
  if (changes['org-id'] !== undefined && current.cloudOrgId !== undefined) throw bothOrganisations(profile, 'org-id');
  if (changes['cloud-org-id'] !== undefined && current.orgId !== undefined) throw bothOrganisations(profile, 'cloud-org-id');
}

function currentSettings(data: ConfigData, profile: string): ServiceSettings {
  return data.settings && Object.hasOwn(data.settings, profile) ? data.settings[profile]! : {};
}

export async function profileSet(options: { profile: string; key: string; value: string }, ctx: Context): Promise<void> {
  const key = settingKey(options.key);
  await saveSettings(ctx, options.profile, { [key]: options.value });
  const logged = ctx.store.get(options.profile) ? '' : ` (not logged in yet: run \`yandex-token login${profileFlag(options.profile)}\`)`;
  ctx.err.line(`Set ${key}${ofProfile(options.profile)}${logged}.`);
}

/** Removes one setting, or with no keys all of the profile's. Removing what is not set is no error. */
export async function profileUnset(options: { profile: string; keys: string[] }, ctx: Context): Promise<void> {
  const keys = options.keys.map(settingKey);
  const { settings } = ctx.store.read();
  if (!settings || !Object.hasOwn(settings, options.profile)) {
    ctx.err.line(`Nothing is set${ofProfile(options.profile)}; nothing to do.`);
    return;
  }
  await ctx.store.update((data) => {
    if (!data.settings || !Object.hasOwn(data.settings, options.profile)) return;
    const next: ServiceSettings = { ...data.settings[options.profile] };
    for (const key of keys.length > 0 ? keys : (Object.keys(SETTING_KEYS) as SettingKey[])) delete next[SETTING_KEYS[key]];
    if (Object.keys(next).length > 0) data.settings[options.profile] = next;
    else delete data.settings[options.profile];
  });
  ctx.err.line(`Unset ${keys.length > 0 ? keys.join(', ') : 'every setting'}${ofProfile(options.profile)}.`);
}

export async function profileShow(options: { profile: string; json?: boolean }, ctx: Context): Promise<void> {
  const settings = profileSettings(ctx, options.profile);
  if (options.json) {
    const shown: ShownSettings = { profile: options.profile, ...settingsJson(settings) };
    ctx.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
    return;
  }
  const entries = settingEntries(settings);
  if (entries.length === 0) {
    ctx.err.line(`Nothing is set${ofProfile(options.profile)}. Set one with \`yandex-token profile set${profileFlag(options.profile)} <key> <value>\` (client-login, org-id, cloud-org-id).`);
    return;
  }
  ctx.stdout.write(entries.map(([key, value]) => `${key}=${value}\n`).join(''));
}
