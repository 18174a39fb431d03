// Shell completion: the scripts `yandex-token completion bash|zsh|fish` prints load in the real shells
// without a word on stderr, complete command names, options and the profile names in the config file, and
// the hidden `__complete profiles` they call stays silent whatever goes wrong.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { BIN, makeHome, runCli, tempDir, type Home } from './support/harness.ts';
import { requireProgram, sleep } from './support/e2e.ts';

const BASH = '/usr/bin/bash';
const ZSH = '/usr/bin/zsh';
const FISH = '/usr/bin/fish';
const TMUX = '/usr/bin/tmux';
const COMMANDS = ['login', 'print', 'exec', 'api', 'profile', 'status', 'refresh', 'logout', 'emulator', 'completion', 'help'];

/** A home with three stored profiles and `yandex-token` on PATH, as an installed CLI would be. */
function setup(t: TestContext): { home: Home; env: Record<string, string> } {
  const home = makeHome(t);
  mkdirSync(home.configDir, { recursive: true, mode: 0o700 });
  const record = { accessToken: 'y0_x', clientId: 'c', obtainedAt: new Date().toISOString() };
  writeFileSync(home.configFile, JSON.stringify({ profiles: { 'client-b': record, default: record, 'client-a': record }, deviceIds: {} }), { mode: 0o600 });
  const bin = join(home.dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'yandex-token'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`);
  chmodSync(join(bin, 'yandex-token'), 0o755);
  return { home, env: { ...home.env, PATH: `${bin}:${home.env.PATH}` } };
}

async function script(shell: string, env: Record<string, string>): Promise<string> {
  const run = await runCli(['completion', shell], env);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  return run.stdout;
}

function exec(file: string, args: string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: 30_000 }, (error, stdout, stderr) =>
      error ? reject(Object.assign(error, { stdout, stderr })) : resolve({ stdout, stderr }),
    );
  });
}

test('__complete profiles lists the stored profiles, default first, and is silent on any trouble', async (t) => {
  const { home, env } = setup(t);
  const listed = await runCli(['__complete', 'profiles'], env);
  assert.deepEqual(listed, { code: 0, signal: null, stdout: 'default\nclient-a\nclient-b\n', stderr: '' });

  const help = await runCli(['--help'], env);
  assert.ok(!help.stdout.includes('__complete'), 'the helper is not part of the help');

  for (const trouble of [
    { YANDEX_TOKEN_PROFILE: 'not a name' },
    { YANDEX_TOKEN_HTTP_TIMEOUT: 'soon' },
    { XDG_CONFIG_HOME: join(home.dir, 'nowhere') },
  ]) {
    const run = await runCli(['__complete', 'profiles'], { ...env, ...trouble });
    assert.deepEqual([run.code, run.stdout, run.stderr], [0, '', ''], JSON.stringify(trouble));
  }
  writeFileSync(home.configFile, '{ broken');
  const broken = await runCli(['__complete', 'profiles'], env);
  assert.deepEqual([broken.code, broken.stdout, broken.stderr], [0, '', '']);
  const unknown = await runCli(['__complete', 'something-else'], env);
  assert.deepEqual([unknown.code, unknown.stdout, unknown.stderr], [0, '', '']);
});

test('completion with an unknown shell fails and names the ones there are', async (t) => {
  const { env } = setup(t);
  const run = await runCli(['completion', 'tcsh'], env);
  assert.equal(run.code, 1);
  assert.equal(run.stdout, '');
  assert.match(run.stderr, /Allowed choices are bash, zsh, fish/);
});

test('the scripts name every command and option the CLI has', async (t) => {
  const { env } = setup(t);
  const scripts = await Promise.all(['bash', 'zsh', 'fish'].map((shell) => script(shell, env)));
  for (const command of COMMANDS.filter((c) => c !== 'help')) {
    const help = await runCli([command, '--help'], env);
    const options = [...help.stdout.matchAll(/^\s+(?:-\w, )?(--[a-z-]+)/gm)].map((m) => m[1]!);
    assert.ok(options.includes('--help'), `${command} --help lists its options`);
    for (const [i, text] of scripts.entries()) {
      assert.ok(text.includes(command), `script ${i} has ${command}`);
      for (const option of options) {
        const name = i === 2 ? `-l ${option.slice(2)} ` : option;
        assert.ok(text.includes(name), `script ${i} has ${command} ${option}`);
      }
    }
  }
});

test('bash: the script loads without a word and completes commands, options and profile names', async (t) => {
  if (!requireProgram(t, BASH, 'apt-get install bash')) return;
  const { home, env } = setup(t);
  const file = join(home.dir, 'yandex-token.bash');
  writeFileSync(file, await script('bash', env));
  // Each case sets COMP_WORDS and COMP_CWORD as bash's own completion does, calls the function, and prints
  // COMPREPLY on one line.
  const cases: [string[], string][] = [
    [['yandex-token', 'lo'], 'login logout'],
    [['yandex-token', 'pr'], 'print profile'],
    [['yandex-token', ''], `${COMMANDS.join(' ')} --version -v --help -h`],
    [['yandex-token', 'print', '--h'], '--header --help'],
    [['yandex-token', 'print', '--profile', ''], 'default client-a client-b'],
    [['yandex-token', 'status', '--profile', 'client-'], 'client-a client-b'],
    [['yandex-token', 'logout', '--profile', '=', 'cl'], 'client-a client-b'],
    [['yandex-token', 'refresh', '--profile', '='], 'default client-a client-b'],
    [['yandex-token', 'login', '--port', ''], ''],
    [['yandex-token', 'completion', ''], 'bash zsh fish --help -h'],
    [['yandex-token', 'print', '--for', 't'], 'tracker'],
    [['yandex-token', 'api', '--for', ''], 'direct tracker wiki 360 disk metrica cloud'],
    [['yandex-token', 'profile', ''], 'set unset show --help -h --profile --json'],
    [['yandex-token', 'profile', 'set', ''], 'client-login org-id cloud-org-id --help -h --profile --json'],
    [['yandex-token', 'help', 'st'], 'status'],
    [['yandex-token', 'no-such-command', ''], ''],
  ];
  const body = cases
    .map(([words]) => `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; COMPREPLY=(); _yandex_token; echo "\${COMPREPLY[*]}"`)
    .join('\n');
  const { stdout, stderr } = await exec(BASH, ['--norc', '--noprofile', '-c', `set -u; source ${JSON.stringify(file)}\ncomplete -p yandex-token\n${body}`], env);
  assert.equal(stderr, '', 'loading and completing print nothing on stderr (even under set -u)');
  const lines = stdout.split('\n');
  assert.equal(lines[0], 'complete -F _yandex_token yandex-token');
  cases.forEach(([words, expected], i) => assert.equal(lines[i + 1], expected, words.join(' ')));
});

test('fish: the script loads without a word and completes commands, options and profile names', async (t) => {
  if (!requireProgram(t, FISH, 'apt-get install fish')) return;
  const { home, env } = setup(t);
  const file = join(home.dir, 'yandex-token.fish');
  writeFileSync(file, await script('fish', env));
  const complete = async (line: string) => {
    const { stdout, stderr } = await exec(FISH, ['--no-config', '-c', `source ${file}; complete -C '${line}'`], env);
    assert.equal(stderr, '');
    return stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
  };
  assert.deepEqual(await complete('yandex-token lo'), ['login', 'logout']);
  assert.deepEqual(await complete('yandex-token print --profile '), ['client-a', 'client-b', 'default']);
  assert.deepEqual(await complete('yandex-token status --profile=client-'), ['--profile=client-a', '--profile=client-b']);
  assert.deepEqual(await complete('yandex-token completion '), ['bash', 'fish', 'zsh']);
  assert.deepEqual(await complete('yandex-token print --for d'), ['direct', 'disk']);
  assert.deepEqual(await complete('yandex-token profile '), ['set', 'show', 'unset']);
  assert.deepEqual(await complete('yandex-token profile set '), ['client-login', 'cloud-org-id', 'org-id']);
  assert.ok((await complete('yandex-token login --')).includes('--no-localhost'));
});

/** zsh in a real terminal (tmux on a private socket): Tab pressed as a person would. */
async function zshTerminal(t: TestContext, env: Record<string, string>, rc: string) {
  const dir = mkdtempSync(join(tmpdir(), 'yandex-token-zsh-'));
  const socket = `yandex-token-zsh-${process.pid}`;
  const tmux = (...args: string[]) => execFileSync(TMUX, ['-L', socket, '-f', '/dev/null', ...args], { env: { PATH: env.PATH!, TMUX_TMPDIR: dir }, encoding: 'utf8' });
  t.after(() => {
    try {
      tmux('kill-server');
    } catch {
      // Already gone.
    }
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(join(dir, '.zshrc'), rc);
  const assignments = Object.entries({ ...env, ZDOTDIR: dir, TERM: 'xterm' }).map(([k, v]) => `${k}='${v.replace(/'/g, `'\\''`)}'`);
  tmux('new-session', '-d', '-x', '100', '-y', '30', `env -i ${assignments.join(' ')} ${ZSH} -i 2>${join(dir, 'stderr')}`);
  const screen = () => tmux('capture-pane', '-p', '-J');
  const waitFor = async (pattern: RegExp) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const shown = screen();
      if (pattern.test(shown)) return shown;
      if (Date.now() > deadline) throw new Error(`zsh never showed ${pattern}; it shows:\n${shown}`);
      await sleep(50);
    }
  };
  return {
    waitFor,
    stderr: () => execFileSync('cat', [join(dir, 'stderr')], { encoding: 'utf8' }),
    type: (text: string) => tmux('send-keys', '-l', '--', text),
    press: (...keys: string[]) => tmux('send-keys', ...keys),
  };
}

test('zsh: the script loads (sourced, and from fpath) and Tab completes a command and a profile', { timeout: 60_000 }, async (t) => {
  if (!requireProgram(t, ZSH, 'apt-get install zsh')) return;
  const { home, env } = setup(t);
  const text = await script('zsh', env);
  const file = join(home.dir, 'yandex-token.zsh');
  writeFileSync(file, text);
  // Loading alone, both ways the README shows, prints nothing.
  const fpath = tempDir(t);
  writeFileSync(join(fpath, '_yandex-token'), text);
  for (const load of [`source ${file}`, `fpath=(${fpath} $fpath); autoload -Uz compinit; compinit -u -D; print -r -- $_comps[yandex-token]`]) {
    const prefix = load.startsWith('source') ? 'autoload -Uz compinit; compinit -u -D; ' : '';
    const { stdout, stderr } = await exec(ZSH, ['-f', '-c', `${prefix}${load}`], env);
    assert.equal(stderr, '', load);
    if (!prefix) assert.equal(stdout.trim(), '_yandex-token', 'compinit picked the file up from fpath');
  }

  if (!requireProgram(t, TMUX, 'apt-get install tmux')) return;
  const zsh = await zshTerminal(t, env, `autoload -Uz compinit && compinit -u -D\nsource ${file}\nPS1='%% '\n`);
  await zsh.waitFor(/^% $/m);
  zsh.type('yandex-token pri');
  zsh.press('Tab');
  await zsh.waitFor(/^% yandex-token print $/m);
  zsh.type('--prof');
  zsh.press('Tab');
  await zsh.waitFor(/^% yandex-token print --profile $/m);
  zsh.type('client-b'.slice(0, 4));
  zsh.press('Tab');
  await zsh.waitFor(/^% yandex-token print --profile client-$/m);
  zsh.type('b');
  zsh.press('Tab');
  await zsh.waitFor(/^% yandex-token print --profile client-b $/m);
  assert.equal(zsh.stderr(), '');
});
