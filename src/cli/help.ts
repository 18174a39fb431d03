// Which command lines ask only for a help page, and the width pages are rendered at.

/** Help is wrapped at the terminal's width, but never wider than this (wider lines are hard to read). */
export const HELP_WIDTH = 80;

/**
 * The command whose page `--help`, `-h`, `help`, `help <command>`, `<command> --help` or `<command> -h`
 * asks for ('' for the program's own), or undefined for any other command line.
 */
export function helpRequest(argv: string[]): string | undefined {
  const asks = (arg: string | undefined) => arg === '--help' || arg === '-h';
  if (argv.length === 1) return asks(argv[0]) || argv[0] === 'help' ? '' : undefined;
  if (argv.length !== 2) return undefined;
  const command = argv[0] === 'help' ? argv[1] : asks(argv[1]) ? argv[0] : undefined;
  return command && command !== 'help' && !command.startsWith('-') ? command : undefined;
}
