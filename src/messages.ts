// Sentences and fragments that several commands say about profiles and logins.
import { NotLoggedInError } from './errors.js';

/** " --profile NAME" for commands in messages, empty for the default profile. */
export function profileFlag(profile: string): string {
  return profile === 'default' ? '' : ` --profile ${profile}`;
}

/** ' (profile "NAME")' for sentences, empty for the default profile. */
export function ofProfile(profile: string): string {
  return profile === 'default' ? '' : ` (profile "${profile}")`;
}

/**
 * The fix for a token that cannot be used: a new login into the same profile, the way its record was
 * stored (`login --with-token` again for a token given to it).
 */
export function loginAgain(profile: string, record?: { imported?: boolean }): string {
  return record?.imported
    ? `Run \`yandex-token login --with-token${profileFlag(profile)}\` again with a new token.`
    : `Run \`yandex-token login${profileFlag(profile)}\` again.`;
}

export function notLoggedIn(profile: string): NotLoggedInError {
  return new NotLoggedInError(`Not logged in${ofProfile(profile)}. Run \`yandex-token login${profileFlag(profile)}\` first.`);
}

/** Why a `login --demo` token cannot be renewed, and the fix. */
export function demoCannotRefresh(profile: string): NotLoggedInError {
  const flag = demoProfileFlag(profile);
  return new NotLoggedInError(
    `The token${ofProfile(profile)} is a demo token from the built-in emulator, which has stopped, so it cannot be refreshed. Run \`yandex-token login --demo${flag}\` again.`,
  );
}


/** " --profile NAME" for `login --demo`, whose own profile is "demo". */
export function demoProfileFlag(profile: string): string {
  return profile === 'demo' ? '' : ` --profile ${profile}`;
}

/** The command that polls a pending two-step device login again. */
export function pollCommand(profile: string): string {
  return `yandex-token login --device --poll${profileFlag(profile)}`;
}

/** The command that starts a two-step device login. */
export function startCommand(profile: string): string {
  return `yandex-token login --device --no-wait${profileFlag(profile)}`;
}

/** Who a stored login belongs to, for sentences: its Yandex login, when /info said. */
export function loginName(record: { login?: string }): string {
  return record.login ?? 'your Yandex account';
}
