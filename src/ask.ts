// The only importer of prompts: questions drawn on stderr, Ctrl-C as CancelledError, and no prompt at
// all without a terminal (an error naming the flag or variable to pass instead).
import { CancelledError, UserError } from './errors.js';

export interface Question {
  message: string;
  /** Hide what is typed (nothing is echoed, not even its length). */
  secret?: boolean;
  /** How to give the answer without a terminal, e.g. "--client-id or YANDEX_CLIENT_ID". */
  instead: string;
}

export type Ask = (question: Question) => Promise<string>;

export function createAsk(options: {
  stdin: NodeJS.ReadStream;
  stderr: NodeJS.WriteStream;
  interactive: boolean;
  signal?: AbortSignal;
}): Ask {
  return async (question) => {
    if (!options.interactive) {
      throw new UserError(`${question.message.replace(/:?\s*$/, '')} is needed, and there is no terminal to ask on. Pass ${question.instead}.`);
    }
    const { default: prompts } = await import('prompts');
    let cancelled = false;
    const answer = prompts(
      {
        type: question.secret ? 'invisible' : 'text',
        name: 'value',
        message: question.message,
        stdin: options.stdin,
        stdout: options.stderr,
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
