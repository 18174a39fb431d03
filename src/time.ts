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
