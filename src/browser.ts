// The only importer of open. Honours BROWSER (a command line, the URL appended as one more argument, as
// git and gh do); never throws: returns whether a browser was launched.

export type OpenBrowser = (url: string) => Promise<boolean>;

async function launch(command: string, url: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  // Loaded here, not at start-up: child_process pulls in net and dgram, which print never needs.
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    // The shell splits BROWSER into words; the URL goes in as "$1", never through the shell's parser.
    const child =
      process.platform === 'win32'
        ? spawn(`${command} "${url}"`, { shell: true, stdio: 'ignore', detached: true, windowsHide: true, env })
        : spawn('/bin/sh', ['-c', `${command} "$1"`, 'yandex-token-browser', url], { stdio: 'ignore', detached: true, env });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      child.unref();
      resolve(true);
    });
  });
}

/** BROWSER set to say "no browser" (none, false, or the shell's no-op), as git and gh read it. */
export function isNoBrowser(browserCommand: string | undefined): boolean {
  return browserCommand !== undefined && ['none', 'false', ':'].includes(browserCommand);
}

/** `env` is what BROWSER runs with: the environment the settings came from (the Context's, not necessarily ours). */
export function createBrowserOpener(browserCommand: string | undefined, env: NodeJS.ProcessEnv = process.env): OpenBrowser {
  return async (url) => {
    if (browserCommand) {
      if (isNoBrowser(browserCommand)) return false;
      return launch(browserCommand, url, env);
    }
    try {
      const { default: open } = await import('open');
      const child = await open(url, { wait: false });
      child.once('error', () => undefined);
      child.unref();
      return true;
    } catch {
      return false;
    }
  };
}
