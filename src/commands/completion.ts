// `yandex-token completion bash|zsh|fish`: a completion script made from the commands and options cli/program.ts
// declares, so it never drifts from them; profile names are asked for at completion time through the
// hidden `yandex-token __complete profiles`, which prints them and never anything else.
import type { Context } from '../context.js';
import { profileNames } from '../store/read.js';
import { UserError } from '../errors.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** What an option's value is, so the shell can offer the right words for it. */
export type ValueKind = 'profile' | 'other';

export interface CompletionOption {
  /** --long */
  long: string;
  /** -s, when the option has one. */
  short?: string;
  description: string;
  /** Absent for a flag that takes no value. */
  value?: ValueKind;
  /** The words its value may be (print --for: the services). */
  choices?: string[];
}

export interface CompletionCommand {
  name: string;
  description: string;
  options: CompletionOption[];
  /** The words its first argument may be (the shell for `completion`, a command for `help`, profile's subcommands). */
  argumentChoices?: string[];
  /** The words its second may be (after `profile set`: the keys). */
  nextChoices?: string[];
}

export interface CompletionSpec {
  program: string;
  commands: CompletionCommand[];
  /** Options before any command (--help, --version). */
  options: CompletionOption[];
}

export interface CompletionOptions {
  shell: string;
  spec: CompletionSpec;
}

const PROFILES_COMMAND = '__complete profiles';

/** The description on one line, without asides, examples or a second sentence: enough for a menu. */
export function brief(description: string): string {
  let line = description.replace(/\s+\([^)]*\)/g, '').replace(/\s+/g, ' ').trim();
  line = line.split(/,? e\.g\.|[.;](?:\s|$)/)[0]!.trim();
  // "Write the token, and nothing else, to stdout: curl …" keeps what comes before the colon; a short
  // head ("no listener: …") is no description on its own.
  const colon = line.indexOf(': ');
  if (colon >= 25) line = line.slice(0, colon);
  return line;
}

/** A string in single quotes for sh, bash and zsh. */
function shQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A string in single quotes for fish, where \ and ' are escaped with a backslash. */
function fishQuote(text: string): string {
  return `'${text.replace(/[\\']/g, '\\$&')}'`;
}

function optionWords(options: CompletionOption[]): string[] {
  return options.flatMap((o) => (o.short ? [o.long, o.short] : [o.long]));
}

function functionName(spec: CompletionSpec): string {
  return `_${spec.program.replace(/[^A-Za-z0-9]/g, '_')}`;
}

export function bashScript(spec: CompletionSpec): string {
  const fn = functionName(spec);
  const program = spec.program;
  const valueOptions = (options: CompletionOption[], kind: ValueKind) =>
    optionWords(options.filter((o) => o.value === kind)).join(' ');
  const cases = spec.commands
    .map((command) => {
      const words = [...(command.argumentChoices ?? []), ...optionWords(command.options)].join(' ');
      const next = command.nextChoices ? [...command.nextChoices, ...optionWords(command.options)].join(' ') : undefined;
      const choices = command.options
        .filter((o) => o.choices?.length)
        .map((o) => `                ${optionWords([o]).join(' | ')}) COMPREPLY=($(compgen -W ${shQuote(o.choices!.join(' '))} -- "$cur")); return 0 ;;`);
      return [
        `        ${command.name})`,
        `            words=${shQuote(words)}`,
        ...(next ? [`            [[ -n $second ]] && words=${shQuote(next)}`] : []),
        `            profile_options=${shQuote(valueOptions(command.options, 'profile'))}`,
        `            value_options=${shQuote(valueOptions(command.options, 'other'))}`,
        ...(choices.length ? ['            case $prev in', ...choices, '            esac'] : []),
        '            ;;',
      ].join('\n');
    })
    .join('\n');
  const topWords = [...spec.commands.map((c) => c.name), ...optionWords(spec.options)].join(' ');
  return `# bash completion for ${program}                                   -*- shell-script -*-
# Made by \`${program} completion bash\`. Install it for your user with:
#   mkdir -p ~/.local/share/bash-completion/completions
#   ${program} completion bash > ~/.local/share/bash-completion/completions/${program}
# or load it in ~/.bashrc: source <(${program} completion bash)

${fn}() {
    local cur=\${COMP_WORDS[COMP_CWORD]} prev=
    (( COMP_CWORD > 0 )) && prev=\${COMP_WORDS[COMP_CWORD-1]}
    # "--profile=na" arrives split at "=" (COMP_WORDBREAKS): complete the value after it.
    if [[ $cur == = ]]; then
        prev=\${COMP_WORDS[COMP_CWORD-1]}
        cur=
    elif [[ $prev == = ]] && (( COMP_CWORD > 1 )); then
        prev=\${COMP_WORDS[COMP_CWORD-2]}
    fi

    local command= second= i
    for (( i = 1; i < COMP_CWORD; i++ )); do
        case \${COMP_WORDS[i]} in
            -* | =) ;;
            *) [[ -n $command ]] && { second=\${COMP_WORDS[i]}; break; }; command=\${COMP_WORDS[i]} ;;
        esac
    done

    local words=${shQuote(topWords)} profile_options= value_options=
    case $command in
        '') ;;
${cases}
        *) COMPREPLY=(); return 0 ;;
    esac

    if [[ -n $prev && " $profile_options " == *" $prev "* ]]; then
        COMPREPLY=($(compgen -W "$(command ${program} ${PROFILES_COMMAND} 2>/dev/null)" -- "$cur"))
        return 0
    fi
    if [[ -n $prev && " $value_options " == *" $prev "* ]]; then
        COMPREPLY=()
        return 0
    fi
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}

complete -F ${fn} ${program}
`;
}

/** An _arguments spec for one option: '--long[description]' plus ':message:action' for a value. */
function zshOption(option: CompletionOption, profilesFn: string): string[] {
  // In the description, [ ] : and \ would end or split the spec.
  const description = brief(option.description).replace(/([\\[\]:])/g, '\\$1');
  const value =
    option.value === 'profile' ? `:profile:${profilesFn}` : option.choices?.length ? `:value:(${option.choices.join(' ')})` : option.value === 'other' ? ':value: ' : '';
  const names = option.short ? [option.short, option.long] : [option.long];
  return names.map((name) => shQuote(`${name}[${description}]${value}`));
}

export function zshScript(spec: CompletionSpec): string {
  const program = spec.program;
  const fn = `_${program}`;
  const profilesFn = `${fn}_profiles`;
  const described = (name: string, description: string) => shQuote(`${name.replace(/:/g, '\\:')}:${brief(description)}`);
  const commandList = spec.commands.map((c) => `        ${described(c.name, c.description)}`).join('\n');
  const cases = spec.commands
    .map((command) => {
      const specs = command.options.flatMap((o) => zshOption(o, profilesFn));
      if (command.argumentChoices?.length) specs.push(shQuote(`1:${command.name === 'help' ? 'command' : 'argument'}:(${command.argumentChoices.join(' ')})`));
      if (command.nextChoices?.length) specs.push(shQuote(`2:argument:(${command.nextChoices.join(' ')})`));
      const body = specs.length ? `_arguments -s \\\n                ${specs.join(' \\\n                ')}` : ':';
      return `            ${command.name})\n                ${body}\n                ;;`;
    })
    .join('\n');
  const topOptions = spec.options.flatMap((o) => zshOption(o, profilesFn)).map((s) => `        ${s} \\`).join('\n');
  return `#compdef ${program}
# zsh completion for ${program}. Made by \`${program} completion zsh\`. Install it with:
#   mkdir -p ~/.zsh/completions
#   ${program} completion zsh > ~/.zsh/completions/_${program}
# and in ~/.zshrc, before compinit: fpath=(~/.zsh/completions $fpath)
# or load it in ~/.zshrc, after compinit: source <(${program} completion zsh)

${profilesFn}() {
    local -a profiles
    profiles=(\${(f)"$(command ${program} ${PROFILES_COMMAND} 2>/dev/null)"})
    _describe -t profiles 'profile' profiles
}

${fn}() {
    local curcontext=$curcontext state line
    local -a commands
    commands=(
${commandList}
    )
    _arguments -C \\
${topOptions}
        '1: :->command' \\
        '*:: :->argument'
    case $state in
        command)
            _describe -t commands '${program} command' commands
            ;;
        argument)
            case $words[1] in
${cases}
            esac
            ;;
    esac
}

if [[ $funcstack[1] == ${fn} ]]; then
    # Autoloaded from $fpath: this file is the function's body.
    ${fn} "$@"
else
    compdef ${fn} ${program}
fi
`;
}

export function fishScript(spec: CompletionSpec): string {
  const program = spec.program;
  const names = spec.commands.map((c) => c.name).join(' ');
  const lines: string[] = [
    `# fish completion for ${program}. Made by \`${program} completion fish\`. Install it with:`,
    '#   mkdir -p ~/.config/fish/completions',
    `#   ${program} completion fish > ~/.config/fish/completions/${program}.fish`,
    '',
    `complete -c ${program} -f`,
  ];
  const option = (condition: string, o: CompletionOption) => {
    const parts = [`complete -c ${program} -n ${fishQuote(condition)}`, `-l ${o.long.replace(/^--/, '')}`];
    if (o.short) parts.push(`-s ${o.short.replace(/^-/, '')}`);
    if (o.value === 'profile') parts.push('-x', `-a ${fishQuote(`(command ${program} ${PROFILES_COMMAND} 2>/dev/null)`)}`);
    if (o.value === 'other') parts.push('-x');
    if (o.choices?.length) parts.push(`-a ${fishQuote(o.choices.join(' '))}`);
    parts.push(`-d ${fishQuote(brief(o.description))}`);
    return parts.join(' ');
  };
  const top = `not __fish_seen_subcommand_from ${names}`;
  for (const command of spec.commands) {
    lines.push(`complete -c ${program} -n ${fishQuote(top)} -a ${command.name} -d ${fishQuote(brief(command.description))}`);
  }
  for (const o of spec.options) lines.push(option(top, o));
  for (const command of spec.commands) {
    const condition = `__fish_seen_subcommand_from ${command.name}`;
    if (command.argumentChoices?.length) {
      // With a second word to come (profile set KEY), the first ones are offered until one is given.
      const first = command.nextChoices ? `${condition}; and not __fish_seen_subcommand_from ${command.argumentChoices.join(' ')}` : condition;
      lines.push(`complete -c ${program} -n ${fishQuote(first)} -a ${fishQuote(command.argumentChoices.join(' '))}`);
      if (command.nextChoices) {
        const second = `${condition}; and __fish_seen_subcommand_from ${command.argumentChoices.join(' ')}`;
        lines.push(`complete -c ${program} -n ${fishQuote(second)} -a ${fishQuote(command.nextChoices.join(' '))}`);
      }
    }
    for (const o of command.options) lines.push(option(condition, o));
  }
  return `${lines.join('\n')}\n`;
}

export async function completion(options: CompletionOptions, ctx: Context): Promise<void> {
  const scripts: Record<Shell, (spec: CompletionSpec) => string> = { bash: bashScript, zsh: zshScript, fish: fishScript };
  if (!(SHELLS as readonly string[]).includes(options.shell)) {
    throw new UserError(`There is no completion for "${options.shell}": pass bash, zsh or fish.`);
  }
  ctx.stdout.write(scripts[options.shell as Shell](options.spec));
}

/**
 * `__complete profiles`: the stored profiles' names, one per line, for the scripts above. It runs at
 * every Tab press, so it is silent whatever happens (no config, a broken file, a bad environment).
 */
export async function complete(what: string | undefined, getContext: () => Context): Promise<void> {
  try {
    if (what !== 'profiles') return;
    const ctx = getContext();
    const names = profileNames(ctx.store.read());
    if (names.length > 0) ctx.stdout.write(`${names.join('\n')}\n`);
  } catch {
    // Nothing to offer.
  }
}
