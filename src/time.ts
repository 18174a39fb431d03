// Times for people: an absolute UTC timestamp and a rough "in 3 days" / "5 minutes ago".

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
