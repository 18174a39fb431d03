// Time: the clock commands read and sleep by (injected through the Context, so tests need no real waits),
// and times for people: an absolute UTC timestamp and a rough "in 3 days" / "5 minutes ago".

/** 2026-11-21 19:52:00 UTC */
export function formatInstant(date: Date): string {
  return date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** "in 3 days", "5 minutes ago", "in 40 seconds": the largest unit that gives at least 2, except seconds. */
export function formatRelative(target: Date, now: Date): string {
  const ms = target.getTime() - now.getTime();
  const seconds = Math.round(Math.abs(ms) / 1000);
  const units: [string, number][] = [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
  ];
  let text = `${seconds} second${seconds === 1 ? '' : 's'}`;
  for (const [name, size] of units) {
    const n = Math.floor(seconds / size);
    if (n >= 2) {
      text = `${n} ${name}s`;
      break;
    }
  }
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

/** "2026-11-21 19:52:00 UTC (in 364 days)" */
export function formatExpiry(expiresAt: string, now: Date): string {
  const date = new Date(expiresAt);
  if (Number.isNaN(date.getTime())) return expiresAt;
  return `${formatInstant(date)} (${formatRelative(date, now)})`;
}

/** What waits and deadlines read: the system's, or a test's that moves only when told. */
export interface Clock {
  /** Milliseconds since the epoch, as Date.now(). */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason as soon as it is aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Resolves after `ms` of real time, or rejects with the signal's reason as soon as it is aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const systemClock: Clock = { now: () => Date.now(), sleep };

const DURATION_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3_600, d: 86_400 };

/**
 * A duration as people write it on a command line, in milliseconds: `30d`, `12h`, `90m`, `45s`, or plain
 * seconds (`3600`); undefined for anything else. At most ten years, which is more than any Yandex token lives.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d{1,10})([smhd]?)$/.exec(text.trim());
  if (!match) return undefined;
  const seconds = Number(match[1]) * DURATION_UNITS[match[2]!]!;
  return seconds <= 10 * 366 * 86_400 ? seconds * 1000 : undefined;
}
