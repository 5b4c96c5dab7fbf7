/**
 * Bounds every duration and count in the config shares: Node's timers take at most
 * 2^31-1 ms (a larger delay fires at once, with a TimeoutOverflowWarning each time), and a pair
 * of limits must be in order. Tighter caps are set where a larger value makes no sense.
 */
import { z } from 'zod';

/** The longest delay setTimeout takes (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** A delay in ms that a timer can wait: an integer from `min` to `max` (at most MAX_TIMER_MS). */
export function durationMs(min: number, max: number = MAX_TIMER_MS) {
  return z.int().min(min).max(Math.min(max, MAX_TIMER_MS));
}

/** `max` must be at least `min` (both already valid numbers); the issue sits on the max key. */
export function checkOrder<T extends Record<string, unknown>>(value: T, ctx: z.core.$RefinementCtx<T>, minKey: keyof T & string, maxKey: keyof T & string): void {
  const min = value[minKey];
  const max = value[maxKey];
  if (typeof min === 'number' && typeof max === 'number' && max < min) {
    ctx.addIssue({ code: 'custom', path: [maxKey], message: `must be at least ${minKey} (${max} < ${min})` });
  }
}
