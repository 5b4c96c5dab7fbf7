/**
 * UTC offsets of IANA time zones, read from the system's tz database (TZif files, RFC 8536,
 * in /usr/share/zoneinfo or $TZDIR) with Intl.DateTimeFormat only where a zone has no file
 * there (a container without tzdata, a name in another spelling such as `europe/amsterdam`).
 * The file layout and footer rule syntax this reads: docs/time-zones.md.
 *
 * Why not Intl alone (issue 24): the first Intl.DateTimeFormat of a process, whatever its
 * zone or options, maps ~6.4 MB of the ICU data inside the node binary (locale, calendar and
 * pattern data for the formatter, measured as RssFile), a twelfth of a worker's 80 MB budget,
 * and every worker with a P1 meter made one for its timestamps. A TZif file is a few KB,
 * read once per zone. The two agree wherever the system's tzdata and node's ICU carry the
 * same rules (test/unit/zone.test.ts compares them); where they differ the system's is
 * usually the newer, and it is the one the rest of the machine (cron, journald) uses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A zone as its TZif file describes it: transitions (s, ascending), the offset after each, and the rule after the last. */
interface Zone {
  times: number[];
  offsets: number[];
  /** Offset (s) before the first transition: the file's local time type 0. */
  initial: number;
  rule: PosixRule | undefined;
}

/** The POSIX TZ string of a TZif v2+ footer, e.g. `CET-1CEST,M3.5.0,M10.5.0/3` (offsets east-positive, s). */
interface PosixRule {
  std: number;
  dst?: { offset: number; start: DateRule; end: DateRule };
}

/** `Jn` (1-365, February 29 never counted), `n` (0-365) or `Mm.w.d`, at `time` s past local midnight. */
type DateRule = { kind: 'J' | 'n'; day: number; time: number } | { kind: 'M'; month: number; week: number; weekday: number; time: number };

const zones = new Map<string, Zone | null>();

/** The zone's UTC offset (ms, east positive) at a UTC instant. Throws RangeError for a zone neither source knows. */
export function zoneOffsetMs(zone: string, utcMs: number): number {
  const z = systemZone(zone);
  return z ? offsetAt(z, Math.floor(utcMs / 1000)) * 1000 : intlOffsetMs(zone, utcMs);
}

/** True for a zone the system's tz database or Intl knows. */
export function isTimeZone(zone: string): boolean {
  if (systemZone(zone)) return true;
  try {
    intlFormatter(zone);
    return true;
  } catch {
    return false;
  }
}

function systemZone(zone: string): Zone | undefined {
  let z = zones.get(zone);
  if (z === undefined) {
    z = null;
    // A name, never a path: no `..`, no leading `/`, only the characters zone names use.
    if (/^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/.test(zone)) {
      try {
        z = parseTzif(readFileSync(join(process.env.TZDIR || '/usr/share/zoneinfo', zone))) ?? null;
      } catch {
        z = null;
      }
    }
    zones.set(zone, z);
  }
  return z ?? undefined;
}

function offsetAt(z: Zone, t: number): number {
  const { times } = z;
  if (times.length === 0) return z.rule ? ruleOffset(z.rule, t) : z.initial;
  if (t < times[0]!) return z.initial;
  if (t >= times[times.length - 1]! && z.rule) return ruleOffset(z.rule, t);
  let lo = 0;
  let hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return z.offsets[lo]!;
}

/** RFC 8536: a v1 block (32-bit times), then for v2+ a second header, 64-bit times and a footer. */
export function parseTzif(buf: Buffer): Zone | undefined {
  if (buf.length < 44 || buf.toString('latin1', 0, 4) !== 'TZif') return undefined;
  const counts = (at: number) => [0, 1, 2, 3, 4, 5].map((i) => buf.readUInt32BE(at + 20 + 4 * i)) as [number, number, number, number, number, number];
  let header = 0;
  let timeSize = 4;
  let [isut, isstd, leap, timecnt, typecnt, charcnt] = counts(0);
  if (buf[4]! >= 0x32) {
    header = 44 + timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut;
    timeSize = 8;
    [isut, isstd, leap, timecnt, typecnt, charcnt] = counts(header);
  }
  let p = header + 44;
  const times: number[] = [];
  for (let i = 0; i < timecnt; i++, p += timeSize) times.push(timeSize === 8 ? Number(buf.readBigInt64BE(p)) : buf.readInt32BE(p));
  const typeOf = [...buf.subarray(p, p + timecnt)];
  p += timecnt;
  const typeOffsets: number[] = [];
  for (let i = 0; i < typecnt; i++) typeOffsets.push(buf.readInt32BE(p + 6 * i));
  p += typecnt * 6 + charcnt + leap * (timeSize + 4) + isstd + isut;
  let rule: PosixRule | undefined;
  if (timeSize === 8 && buf[p] === 0x0a) {
    const end = buf.indexOf(0x0a, p + 1);
    const text = buf.toString('latin1', p + 1, end < 0 ? buf.length : end);
    if (text) {
      rule = parsePosixTz(text);
      if (!rule) return undefined; // a footer we cannot read: let Intl answer instead
    }
  }
  if (typecnt === 0) return undefined;
  return { times, offsets: typeOf.map((t) => typeOffsets[t] ?? 0), initial: typeOffsets[0]!, rule };
}

/** POSIX TZ (with RFC 8536's extensions: `<+03>` names, hours up to 167 and negative in rule times). */
export function parsePosixTz(text: string): PosixRule | undefined {
  let i = 0;
  const name = (): boolean => {
    if (text[i] === '<') {
      const end = text.indexOf('>', i);
      if (end < 0) return false;
      i = end + 1;
      return true;
    }
    const start = i;
    while (i < text.length && /[A-Za-z]/.test(text[i]!)) i++;
    return i - start >= 3;
  };
  /** [+-]hh[:mm[:ss]] in seconds, or undefined. */
  const clock = (): number | undefined => {
    const m = /^([+-]?)(\d{1,3})(?::(\d{1,2}))?(?::(\d{1,2}))?/.exec(text.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    const s = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
    return m[1] === '-' ? -s : s;
  };
  const date = (): DateRule | undefined => {
    let m: RegExpExecArray | null;
    let rule: DateRule;
    if ((m = /^M(\d{1,2})\.(\d)\.(\d)/.exec(text.slice(i)))) rule = { kind: 'M', month: Number(m[1]), week: Number(m[2]), weekday: Number(m[3]), time: 7200 };
    else if ((m = /^J(\d{1,3})/.exec(text.slice(i)))) rule = { kind: 'J', day: Number(m[1]), time: 7200 };
    else if ((m = /^(\d{1,3})/.exec(text.slice(i)))) rule = { kind: 'n', day: Number(m[1]), time: 7200 };
    else return undefined;
    i += m[0].length;
    if (text[i] === '/') {
      i++;
      const t = clock();
      if (t === undefined) return undefined;
      rule.time = t;
    }
    return rule;
  };
  if (!name()) return undefined;
  const west = clock();
  if (west === undefined) return undefined;
  const std = 0 - west; // never -0
  if (i === text.length) return { std };
  if (!name()) return undefined;
  let dstOffset = std + 3600;
  if (text[i] !== ',' && i < text.length) {
    const w = clock();
    if (w === undefined) return undefined;
    dstOffset = 0 - w;
  }
  if (text[i++] !== ',') return undefined;
  const start = date();
  if (!start || text[i++] !== ',') return undefined;
  const end = date();
  if (!end || i !== text.length) return undefined;
  return { std, dst: { offset: dstOffset, start, end } };
}

const DAY_S = 86_400;

/** The offset (s) a POSIX TZ rule gives at UTC second `t`. */
export function ruleOffset(rule: PosixRule, t: number): number {
  const { dst } = rule;
  if (!dst) return rule.std;
  const year = new Date((t + rule.std) * 1000).getUTCFullYear();
  // The start is given in standard wall time, the end in summer wall time.
  const start = wallSeconds(dst.start, year) - rule.std;
  const end = wallSeconds(dst.end, year) - dst.offset;
  const summer = start < end ? t >= start && t < end : !(t >= end && t < start);
  return summer ? dst.offset : rule.std;
}

/** A rule's moment in `year` as seconds of local wall time since 1970 (treated as UTC). */
function wallSeconds(rule: DateRule, year: number): number {
  const jan1 = Date.UTC(year, 0, 1) / 1000;
  if (rule.kind !== 'M') {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    const day = rule.kind === 'n' ? rule.day : rule.day - 1 + (leap && rule.day >= 60 ? 1 : 0);
    return jan1 + day * DAY_S + rule.time;
  }
  const first = Date.UTC(year, rule.month - 1, 1) / 1000;
  const firstWeekday = (Math.floor(first / DAY_S) + 4) % 7; // 1970-01-01 was a Thursday
  let day = ((rule.weekday - firstWeekday + 7) % 7) + (rule.week - 1) * 7;
  const monthDays = new Date(Date.UTC(year, rule.month, 0)).getUTCDate();
  while (day >= monthDays) day -= 7; // week 5: the last such weekday of the month
  return first + day * DAY_S + rule.time;
}

/** Intl's answer, for zones without a file: one formatter per zone, made once. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function intlFormatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, f);
  }
  return f;
}

/** Intl's offset (ms) of `zone` at a UTC instant; exported for the test that compares both sources. */
export function intlOffsetMs(zone: string, utcMs: number): number {
  const p: Record<string, number> = {};
  for (const part of intlFormatter(zone).formatToParts(utcMs)) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return wall - (utcMs - (((utcMs % 1000) + 1000) % 1000));
}
