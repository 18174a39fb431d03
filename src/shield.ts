// What a second Ctrl-C must not cut short: storing an answer Yandex has already given, and rotated the
// refresh token for (token/renew.ts). The signal handler (entry/process.ts) asks before it exits at once.
let depth = 0;

/** Runs `work`; meanwhile a repeated signal does not end the process at once (the first one still aborts). */
export async function shielded<T>(work: () => Promise<T>): Promise<T> {
  depth++;
  try {
    return await work();
  } finally {
    depth--;
  }
}

export function isShielded(): boolean {
  return depth > 0;
}
