// The scripted person at the emulator's pages, over plain HTTP: presses Allow or Deny on the consent page
// (browseConsent), or types the user code on the device page (enterDeviceCode). `login --demo` on a
// machine without a display and the tests' scripted browser use it; it needs nothing of the emulator
// but its pages.

export interface BrowsedPage {
  /** Where it stopped: the authorize page, the consent form, or the app's redirect target. */
  stage: 'authorize' | 'consent' | 'callback';
  status: number;
  html: string;
  location?: string;
}

function formValue(html: string, pattern: RegExp): string | undefined {
  const match = pattern.exec(html);
  return match?.[1]?.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));
}

/**
 * What a person does on the device page for `login --device`: enters the user code at `verificationUrl`
 * (the emulator's /device) and presses Allow or Deny. Over plain HTTP, as browseConsent does for /authorize.
 */
export async function enterDeviceCode(verificationUrl: string, userCode: string, decision: 'allow' | 'deny' = 'allow'): Promise<BrowsedPage> {
  const post = (path: string, form: Record<string, string>) =>
    fetch(new URL(path, verificationUrl), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  const entered = await post('/device', { user_code: userCode });
  const consent = await entered.text();
  const request = formValue(consent, /name="request" value="([^"]+)"/);
  if (entered.status !== 200 || !request) return { stage: 'authorize', status: entered.status, html: consent };
  const decided = await post('/device/decision', { request, decision });
  return { stage: 'consent', status: decided.status, html: await decided.text() };
}

/**
 * Plays a person's browser against the emulator: opens the authorize URL, presses Allow or Deny on the
 * consent page, and follows the redirect to the app, returning the page the app answered with. The
 * tests' scripted browser and `login --demo` on a machine without a display both use it.
 */
export async function browseConsent(url: string, decision: 'allow' | 'deny' = 'allow'): Promise<BrowsedPage> {
  const authorize = await fetch(url, { redirect: 'manual' });
  const consent = await authorize.text();
  const action = formValue(consent, /<form method="post" action="([^"]+)"/);
  const request = formValue(consent, /name="request" value="([^"]+)"/);
  if (authorize.status !== 200 || !action || !request) return { stage: 'authorize', status: authorize.status, html: consent };
  const decided = await fetch(new URL(action, url), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, decision }),
    redirect: 'manual',
  });
  const location = decided.headers.get('location');
  if (!location) return { stage: 'consent', status: decided.status, html: await decided.text() };
  const callback = await fetch(new URL(location, url), { redirect: 'manual' });
  return { stage: 'callback', status: callback.status, html: await callback.text(), location };
}
