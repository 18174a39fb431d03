// Human-facing lines on stderr: colour only on a terminal and never with NO_COLOR.

export interface Output {
  line(text?: string): void;
  warn(text: string): void;
  bold(text: string): string;
  dim(text: string): string;
}

export interface TextSink {
  write(text: string): unknown;
}

export function createOutput(stream: TextSink, colour: boolean): Output {
  const paint = (open: number, close: number) => (text: string) => (colour ? `\x1b[${open}m${text}\x1b[${close}m` : text);
  const yellow = paint(33, 39);
  return {
    line: (text = '') => void stream.write(`${text}\n`),
    warn: (text) => void stream.write(`${yellow('Warning:')} ${text}\n`),
    bold: paint(1, 22),
    dim: paint(2, 22),
  };
}

export function colourWanted(isTTY: boolean, env: Record<string, string | undefined>): boolean {
  return isTTY && env.NO_COLOR === undefined && env.TERM !== 'dumb';
}
