// The only importer of prompts, and the only reader of stdin: questions drawn on stderr, Ctrl-C as
// CancelledError, and no prompt at all without a terminal (an error naming the flag or variable to pass
// instead, or, for answers that may be piped in, one line or all of stdin).
import { CancelledError, UserError } from './errors.js';

export interface Question {
  message: string;
  /** Hide what is typed (nothing is echoed, not even its length). */
  secret?: boolean;
  /** How to give the answer without a terminal, e.g. "--client-id or YANDEX_CLIENT_ID". */
  instead: string;
  /** Without a terminal, read one line from stdin instead of failing (for answers that may be piped in). */
  fromStdin?: boolean;
  /** With fromStdin: read all of stdin (up to 64 KiB), not one line, for answers that span lines (JSON). */
  wholeStdin?: boolean;
  /** One line said before the prompt on a terminal: where the answer comes from. */
  hint?: string;
}

/** What is needed, for the errors: the prompt's label without its punctuation or a note like "(hidden)". */
function needed(question: Question): string {
  return question.message.replace(/\s*\([^)]*\)\s*$/, '').replace(/:?\s*$/, '');
}

/** A pasted line longer than this is not an answer; stop reading rather than buffer it. */
const MAX_LINE = 16 * 1024;

/** All of stdin is not an answer beyond this: stop reading rather than buffer it. */
const MAX_WHOLE = 64 * 1024;

/** How to read an answer from stdin: one line (blank lines before it skipped), or everything until it ends. */
const READING = {
  line: {
    max: MAX_LINE,
    // Blank lines before the answer (an extra Enter, `echo` in a script) are not the answer.
    normalize: (buffer: string) => buffer.replace(/^(?:[ \t]*\r?\n)+/, ''),
    complete: (buffer: string) => {
      const newline = buffer.search(/\r?\n/);
      return newline >= 0 ? buffer.slice(0, newline) : undefined;
    },
    tooLong: 'The first line on stdin is over 16 KiB, which is no answer. Pipe in just the answer, as one line.',
    failed: 'Pipe the answer in as one line, or run on a terminal.',
  },
  whole: {
    max: MAX_WHOLE,
    normalize: (buffer: string) => buffer,
    complete: () => undefined,
    tooLong: 'What was piped to stdin is over 64 KiB, which is no answer. Pipe in just the answer.',
    failed: 'Pipe the answer in, or run on a terminal.',
  },
} as const;

/**
 * Listens to stdin until `onData` settles the read (with `done`) or stdin ends (`atEnd`), then lets it go
 * again: the one place that reads it. Text when `encoding` is given, else bytes.
 */
function listen<T>(
  stdin: NodeJS.ReadStream,
  options: { encoding?: BufferEncoding; failed: string; signal?: AbortSignal },
  onData: (chunk: string & Buffer, done: (outcome: { value: T } | { error: unknown }) => void) => void,
  atEnd: () => T,
): Promise<T> {
  const { signal } = options;
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      stdin.off('data', data);
      stdin.off('end', onEnd);
      stdin.off('error', onError);
      signal?.removeEventListener('abort', onAbort);
      stdin.pause();
    };
    const done = (outcome: { value: T } | { error: unknown }) => {
      cleanup();
      if ('value' in outcome) resolve(outcome.value);
      else reject(outcome.error);
    };
    const data = (chunk: string & Buffer) => onData(chunk, done);
    const onEnd = () => done({ value: atEnd() });
    const onError = (error: Error) => done({ error: new UserError(`Could not read stdin (${error.message}). ${options.failed}`) });
    const onAbort = () => done({ error: signal?.reason });
    if (signal?.aborted) return reject(signal.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (options.encoding) stdin.setEncoding(options.encoding);
    stdin.on('data', data);
    stdin.once('end', onEnd);
    stdin.once('error', onError);
    stdin.resume();
  });
}

/** The answer on stdin as `how` reads it, or undefined when stdin ends before any text. */
function readStdin(stdin: NodeJS.ReadStream, how: (typeof READING)[keyof typeof READING], signal?: AbortSignal): Promise<string | undefined> {
  let buffer = '';
  return listen<string | undefined>(
    stdin,
    { encoding: 'utf8', failed: how.failed, signal },
    (chunk, done) => {
      buffer = how.normalize(buffer + chunk);
      const answer = how.complete(buffer);
      if (answer !== undefined) done({ value: answer });
      else if (buffer.length > how.max) done({ error: new UserError(how.tooLong) });
    },
    () => (buffer === '' ? undefined : buffer),
  );
}

export type Ask = (question: Question) => Promise<string>;

export interface AskOptions {
  /** Read only when a question is asked: touching process.stdin costs start-up time print does not need. */
  io: { readonly stdin: NodeJS.ReadStream; readonly stderr: NodeJS.WriteStream };
  interactive: boolean;
  signal?: AbortSignal;
}

export function createAsk(options: AskOptions): Ask {
  return async (question) => {
    const { stdin, stderr } = options.io;
    if (!options.interactive && question.fromStdin && question.secret && stdin.isTTY) {
      // stdin is a terminal but stderr is not: reading it would echo the secret, and the hidden prompt
      // draws on stderr.
      throw new UserError(`${needed(question)} is needed, and it is not read from a terminal without a hidden prompt, which needs stderr on the terminal too. Pass ${question.instead}.`);
    }
    if (!options.interactive && question.fromStdin) {
      const line = (await readStdin(stdin, question.wholeStdin ? READING.whole : READING.line, options.signal))?.trim();
      if (!line) {
        throw new UserError(`${needed(question)} is needed, and stdin ${question.wholeStdin ? 'was empty' : 'had no line to read'}. Pass ${question.instead}.`);
      }
      return line;
    }
    if (!options.interactive) {
      throw new UserError(`${needed(question)} is needed, and there is no terminal to ask on. Pass ${question.instead}.`);
    }
    if (question.hint) stderr.write(`${question.hint}\n`);
    const { default: prompts } = await import('prompts');
    let cancelled = false;
    const answer = prompts(
      {
        type: question.secret ? 'invisible' : 'text',
        name: 'value',
        message: question.message,
        stdin,
        stdout: stderr,
        validate: (value: string) => (value.trim() ? true : 'Please enter a value (Ctrl-C to cancel).'),
      },
      { onCancel: () => ((cancelled = true), false) },
    );
    const aborted = new Promise<never>((_, reject) => {
      if (options.signal?.aborted) reject(options.signal.reason);
      options.signal?.addEventListener('abort', () => reject(options.signal?.reason), { once: true });
    });
    const result = await Promise.race([answer, aborted]);
    const value = typeof result.value === 'string' ? result.value.trim() : '';
    if (cancelled || !value) throw new CancelledError();
    return value;
  };
}

/** All of stdin as bytes, as it came (`api -d @-`): read once, to the end, kept for a retry. */
export function readStdinBytes(stdin: NodeJS.ReadStream, signal?: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return listen(
    stdin,
    { failed: 'Pipe the data in, or pass it with -d or -d @FILE.', signal },
    (chunk) => void chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk),
    () => Buffer.concat(chunks),
  );
}
