/**
 * P1 timestamps (`YYMMDDhhmmssX`, DSMR 5.0.2 §6.4 "TST") are the meter's wall clock; X is
 * S (summer time, DST active) or W (winter/standard time). This turns them into Unix ms in
 * an IANA zone, with the offsets of core/zone.ts (the system's tz database, Intl where it has none).
 *
 * - The flag (either case: an E350 sends `s`) decides the offset: W is the zone's standard offset, S its summer offset. That
 *   settles the repeated autumn hour, and it is also right for meters that keep standard
 *   time all year and say so (Nordic HAN meters such as the Sagemcom T211 send `W` in
 *   August; see test/fixtures/dsmr-p1/t211-se-2b41).
 * - Without a flag (DSMR 2.2/3 gas readings) the zone alone decides; in the repeated hour
 *   the first pass (summer offset) is taken, a time in the skipped spring hour is read with
 *   the winter offset.
 * - In a zone without DST the flag changes nothing.
 */

import { zoneOffsetMs } from '../../core/zone.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Per zone: local hour bucket -> the one offset that hour has (no DST change within a day). */
const steadyHours = new Map<string, Map<number, number>>();

function steadyOffset(zone: string, localMs: number): number | undefined {
  let cache = steadyHours.get(zone);
  if (!cache) steadyHours.set(zone, (cache = new Map()));
  const bucket = Math.floor(localMs / HOUR);
  const hit = cache.get(bucket);
  if (hit !== undefined) return hit;
  const start = bucket * HOUR;
  const before = zoneOffsetMs(zone, start - DAY);
  if (before !== zoneOffsetMs(zone, start + DAY + HOUR)) return undefined;
  if (cache.size > 2048) cache.clear();
  cache.set(bucket, before);
  return before;
}

/** Per zone, per year: the standard (winter) and summer offsets, ms. */
const seasons = new Map<string, Map<number, { winter: number; summer: number }>>();
let lastZone = '';
let lastSeasons: Map<number, { winter: number; summer: number }> | undefined;

function seasonOffsets(zone: string, year: number): { winter: number; summer: number } {
  let byYear = zone === lastZone ? lastSeasons : seasons.get(zone);
  if (!byYear) seasons.set(zone, (byYear = new Map()));
  lastZone = zone;
  lastSeasons = byYear;
  let s = byYear.get(year);
  if (!s) {
    const jan = zoneOffsetMs(zone, Date.UTC(year, 0, 1));
    const jul = zoneOffsetMs(zone, Date.UTC(year, 6, 1));
    s = { winter: Math.min(jan, jul), summer: Math.max(jan, jul) };
    byYear.set(year, s);
  }
  return s;
}

/** Local wall time in `zone` -> Unix ms; `dst`: true for S, false for W, undefined if absent. */
export function localToUtc(zone: string, localMs: number, dst?: boolean): number {
  if (dst !== undefined) {
    const s = seasonOffsets(zone, new Date(localMs).getUTCFullYear());
    return localMs - (dst ? s.summer : s.winter);
  }
  const steady = steadyOffset(zone, localMs);
  if (steady !== undefined) return localMs - steady;
  const a = zoneOffsetMs(zone, localMs - DAY);
  const b = zoneOffsetMs(zone, localMs + DAY);
  const summer = Math.max(a, b);
  const winter = Math.min(a, b);
  if (zoneOffsetMs(zone, localMs - summer) === summer) return localMs - summer; // first pass of a repeated hour
  return localMs - winter; // the other pass, or the skipped hour
}

/**
 * Parses `YYMMDDhhmmss` with an optional S/W; returns Unix ms, or undefined when the text is
 * not a real date (the `632525252525` placeholder of an empty buffer entry, month 25).
 */
export function parseP1Time(text: string, zone: string): number | undefined {
  return parseP1TimeAt(text, 0, text.length, zone);
}

/** parseP1Time over text[start, end), without cutting the string out first. */
export function parseP1TimeAt(text: string, start: number, end: number, zone: string): number | undefined {
  const len = end - start;
  if (len !== 12 && len !== 13) return undefined;
  const yy = pair(text, start);
  const mo = pair(text, start + 2);
  const dd = pair(text, start + 4);
  const hh = pair(text, start + 6);
  const mi = pair(text, start + 8);
  const ss = pair(text, start + 10);
  if ((yy | mo | dd | hh | mi | ss) < 0) return undefined;
  // Some meters send the flag in lower case (a Landis+Gyr E350's gas time: `150701190000s`).
  const flag = len === 13 ? text.charCodeAt(start + 12) & ~0x20 : 0;
  if (flag !== 0 && flag !== 83 /* S */ && flag !== 87 /* W */) return undefined;
  if (mo < 1 || mo > 12 || dd < 1 || hh > 23 || mi > 59 || ss > 59) return undefined;
  if (dd > DAYS[mo] && !(mo === 2 && dd === 29 && yy % 4 === 0)) return undefined; // 31 April and friends
  const local = Date.UTC(2000 + yy, mo - 1, dd, hh, mi, ss);
  if (flag !== 0) {
    const s = seasonOffsets(zone, 2000 + yy);
    return local - (flag === 83 ? s.summer : s.winter);
  }
  return localToUtc(zone, local);
}

/** Days per month (index 1..12); February 29 is checked apart (2000-2099: every 4th year). */
const DAYS = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Two decimal digits at text[i], or -1. */
function pair(text: string, i: number): number {
  const hi = text.charCodeAt(i) - 48;
  const lo = text.charCodeAt(i + 1) - 48;
  return hi >= 0 && hi <= 9 && lo >= 0 && lo <= 9 ? hi * 10 + lo : -1;
}
