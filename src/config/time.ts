/**
 * Cron expressions and time zones, checked when the config is read, so `config check` and
 * every verb refuse what the scheduler would refuse, with the device named.
 */
import { Cron } from 'croner';
import { z } from 'zod';
import { errorMessage } from '../core/errors.js';
import { isTimeZone } from '../core/zone.js';

/** croner's nicknames that fire on a clock (@reboot is an event, not a schedule). */
const NICKNAMES = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

/** Why a schedule cannot be used, or null: 5 fields (minute first) or 6 (second first), parsable, and it fires. */
export function cronProblem(pattern: string): string | null {
  const fields = pattern.trim().split(/\s+/).filter(Boolean);
  if (pattern.trim().startsWith('@') && !NICKNAMES.includes(pattern.trim())) return `unknown nickname (known: ${NICKNAMES.join(', ')})`;
  // croner would take a string with ':' as a one-shot ISO date, not a pattern.
  if (pattern.includes(':') || (!pattern.trim().startsWith('@') && fields.length !== 5 && fields.length !== 6)) {
    return `expected 5 fields (minute first) or 6 fields (second first), got ${fields.length}`;
  }
  try {
    // Never started: nextRuns only computes ('0 0 30 2 *' gives none).
    if (new Cron(pattern, { mode: '5-or-6-parts' }).nextRuns(1).length === 0) return 'it never fires';
  } catch (err) {
    return errorMessage(err).replace(/^CronPattern: /, '');
  }
  return null;
}

export const cronSchema = z
  .string()
  .min(1)
  .superRefine((pattern, ctx) => {
    const why = cronProblem(pattern);
    if (why) ctx.addIssue({ code: 'custom', message: `invalid cron expression '${pattern}': ${why}` });
  });

export const timeZoneSchema = z.string().superRefine((zone, ctx) => {
  if (!isTimeZone(zone)) ctx.addIssue({ code: 'custom', message: `invalid time zone '${zone}' (expected an IANA name such as Europe/Amsterdam)` });
});
