/**
 * A simulator's log of what it received (requests, commands), for tests that check what was
 * sent. A demo worker (`simulate: true`) runs for months, so the log is bounded: past the
 * limit the oldest half goes (one splice per LIMIT/2 entries, not one per entry). Tests send
 * far fewer than LIMIT requests and see them all.
 */
export const HISTORY_LIMIT = 1000;

export function remember<T>(log: T[], entry: T, limit = HISTORY_LIMIT): void {
  log.push(entry);
  if (log.length > limit) log.splice(0, log.length - (limit >> 1));
}
