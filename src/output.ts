// Human-facing lines on stderr: colour only on a terminal and never with NO_COLOR.

export interface Output {
  line(text?: string): void;
  warn(text: string): void;
  bold(text: string): string;
  dim(text: string): string;
  /**
   * Redraws one line in place (a countdown); without text, erases it. Callers use it on a terminal only.
   * Padding with spaces rather than an erase sequence keeps it right on TERM=dumb too.
   */
  status(text?: string): void;
}

export interface TextSink {
  write(text: string): unknown;
}

/** Where data goes (stdout): text, or bytes as they are (an API's answer through `yandex-token api`). */
export interface DataSink {
  write(data: string | Uint8Array): unknown;
  /** Resolves false once nobody reads any more (EPIPE), after waiting for a full pipe to drain (stdout.ts). */
  ready?(): Promise<boolean>;
}

/** `colour` may be a function, asked once on first use, so that nothing probes the terminal before then. */
export function createOutput(stream: TextSink, colour: boolean | (() => boolean)): Output {
  let wanted: boolean | undefined = typeof colour === 'boolean' ? colour : undefined;
  const useColour = () => (wanted ??= (colour as () => boolean)());
  const paint = (open: number, close: number) => (text: string) => (useColour() ? `\x1b[${open}m${text}\x1b[${close}m` : text);
  const yellow = paint(33, 39);
  return {
    line: (text = '') => void stream.write(`${text}\n`),
    warn: (text) => void stream.write(`${yellow('Warning:')} ${text}\n`),
    bold: paint(1, 22),
    dim: paint(2, 22),
    // Only drawn on a terminal. Each draw also clears to the end of the line (ESC [K), which takes the ^C a
    // Ctrl-C echoes after the text with it.
    status: (text = '') => {
      stream.write(`\r${text}\x1b[K`);
    },
  };
}

export function colourWanted(isTTY: boolean, env: Record<string, string | undefined>): boolean {
  return isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}
