/**
 * The one line-protocol encoder: Point -> one line of InfluxDB line protocol (no trailing newline).
 *
 * Spec: https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/
 * Checked against influxdata/line-protocol-corpus (test/fixtures/line-protocol) and byte-for-byte
 * against Point.toLineProtocol() of @influxdata/influxdb-client 1.35 (property test, bench).
 *
 * Decisions (tests pin each one):
 * - Escaping: measurement `,` and space; tag keys, tag values, field keys `,` `=` space; a
 *   backslash is left alone (InfluxDB treats "\x" as an escape only for those characters),
 *   so a name may not END in a backslash: it would escape the separator after it.
 * - Newline, CR and tab in measurement/keys/tag values become the two characters `\n`, `\r`,
 *   `\t`, as the official JS client does: the line stays parseable and the reading is kept,
 *   though InfluxDB stores the backslash literally. In string field values they stay raw
 *   (only `\` and `"` are escaped): InfluxDB 1.6.7 and 2.x read a raw newline inside quotes
 *   correctly (checked on 1.6.7), so a line may contain '\n': never split a batch on it.
 * - Floats: ECMAScript's shortest round-trip form, String(n), as the JS client: 1 -> `1`,
 *   1e21 -> `1e+21`, 1e-7 -> `1e-7`, 5e-324 -> `5e-324`, -0 -> `0` (Go writes -0; a negated
 *   zero reading should not show as "-0" on a dashboard). Go's %g writes 6632243 as
 *   `6.632243e+06` (one corpus case); InfluxDB reads both as the same float64.
 * - Time: bigint ns divided by the precision rounding toward negative infinity (floor), so a
 *   reading stays in the unit it happened in, also before 1970. Go's encoders truncate toward
 *   zero; the two differ only for negative times that are not a whole unit.
 * - Tags and fields sorted by UTF-16 code unit (JS `<`, as the JS client); equals InfluxDB's
 *   byte order except between astral characters and U+E000..U+FFFF.
 * - Dropped with a reason (the line is still written): NaN/±Infinity floats, ints outside
 *   int64, uints outside uint64, empty or backslash-ending tag/field keys and tag values,
 *   values of an unsupported type. Errors (the point is not written): empty measurement, one
 *   starting with `#` (InfluxDB reads that line as a comment) or ending in a backslash, no
 *   field left, time outside InfluxDB's range.
 */
import { errorMessage, WattlineError } from './errors.js';
import { IntField, NS_PER, UintField, type Point, type Precision } from './point.js';

export class LineProtocolError extends WattlineError {
  override name = 'LineProtocolError';
  constructor(
    message: string,
    readonly measurement: string,
  ) {
    super(message, 'line-protocol');
  }
}

/** One thing left out: a whole point, or one tag or field of a point that was still written. */
export interface Dropped {
  reason: string;
  /** Position of the point in the input (0 for encodePoint). */
  index: number;
  scope: 'point' | 'tag' | 'field';
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
// InfluxDB's models.MinNanoTime/MaxNanoTime; 1.6.7 refuses -9223372036854775807.
export const TIME_MIN = INT64_MIN + 2n;
export const TIME_MAX = INT64_MAX - 1n;

// Escape tables indexed by char code: 1 where the character needs a backslash form.
const REPL: string[] = [];
REPL[9] = '\\t';
REPL[10] = '\\n';
REPL[13] = '\\r';
REPL[32] = '\\ ';
REPL[34] = '\\"';
REPL[44] = '\\,';
REPL[61] = '\\=';
REPL[92] = '\\\\';
function table(chars: string): Uint8Array {
  const t = new Uint8Array(93);
  for (const c of chars) t[c.charCodeAt(0)] = 1;
  return t;
}
const MEASUREMENT = table('\t\n\r ,');
const KEY = table('\t\n\r ,='); // tag keys, tag values, field keys
const QUOTED = table('"\\');

/** Fast path: one charCode scan; a string needing nothing is returned as is. */
function escape(s: string, t: Uint8Array): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 93 && t[c] === 1) return escapeFrom(s, i, t);
  }
  return s;
}

function escapeFrom(s: string, i: number, t: Uint8Array): string {
  let out = s.slice(0, i);
  let from = i;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 93 && t[c] === 1) {
      out += s.slice(from, i) + REPL[c];
      from = i + 1;
    }
  }
  return out + s.slice(from);
}

/** Insertion sort: key lists are short and often already sorted; same order as Array#sort(). */
function sortedKeys(o: object): string[] {
  const keys = Object.keys(o);
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i];
    let j = i - 1;
    if (keys[j] <= k) continue;
    while (j >= 0 && keys[j] > k) {
      keys[j + 1] = keys[j];
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

// Names in messages: JSON-quoted (or JSON-escaped) so a message stays on one line.
const q = JSON.stringify;
const bare = (s: string) => q(s).slice(1, -1);

function badName(s: string): string | undefined {
  if (s.length === 0) return 'empty';
  if (s.charCodeAt(s.length - 1) === 92) return 'ends in a backslash';
  return undefined;
}

const POW10 = Array.from({ length: 16 }, (_, d) => 10 ** d);

/**
 * Exactly String(v), about twice as fast for the usual reading: 1e-4 <= |v| < 1e15 with at
 * most 15 significant digits. m / 10^d is correctly rounded, so it equals |v| exactly when the
 * decimal "m e-d" reads back as v; the smallest such d has the fewest digits, and with at most
 * 15 digits only one candidate can read back: the one ECMAScript's Number::toString picks.
 */
function formatFloat(v: number): string {
  const a = v < 0 ? -v : v;
  if (a >= 1e-4 && a < 1e15) {
    const ip = Math.floor(a);
    if (ip === a) return v < 0 ? '-' + ip : '' + ip;
    for (let d = 1; d < 16; d++) {
      const p = POW10[d];
      const m = Math.round(a * p);
      if (m >= 1e15) break;
      if (m / p === a) {
        const frac = '' + (m - ip * p + p); // the leading 1 keeps the fraction's leading zeros
        return (v < 0 ? '-' : '') + ip + '.' + frac.slice(1);
      }
    }
  }
  return String(v); // NaN and ±Infinity never get here; String(-0) is '0'
}

/** The field's value text, or a reason to drop it. */
function fieldValue(v: unknown): string | { why: string } {
  switch (typeof v) {
    case 'number':
      if (v - v !== 0) return { why: `${v} is not a finite float` }; // NaN, ±Infinity
      return formatFloat(v);
    case 'string':
      return '"' + escape(v, QUOTED) + '"';
    case 'boolean':
      return v ? 'true' : 'false';
  }
  if (v instanceof IntField) {
    const n = v.value;
    if (n < INT64_MIN || n > INT64_MAX) return { why: `integer ${n} is outside int64` };
    return n + 'i';
  }
  if (v instanceof UintField) {
    const n = v.value;
    if (n < 0n || n > UINT64_MAX) return { why: `unsigned ${n} is outside uint64` };
    return n + 'u';
  }
  return { why: `unsupported value type ${v === null ? 'null' : typeof v}` };
}

// The points of one collection share their time: the last one's text is kept.
let lastTime: bigint | undefined;
let lastPrecision: Precision | undefined;
let lastTimeText = '';

function timestamp(t: bigint, precision: Precision): string {
  if (t === lastTime && precision === lastPrecision) return lastTimeText;
  let text: string;
  if (precision === 'ns') text = t.toString();
  else {
    const m = NS_PER[precision];
    let r = t / m; // BigInt division truncates toward zero...
    if (t < 0n && r * m !== t) r -= 1n; // ...floor keeps a pre-1970 reading in its own unit
    text = r.toString();
  }
  lastTime = t;
  lastPrecision = precision;
  lastTimeText = text;
  return text;
}

/** Why a tag cannot be written, or undefined. */
function tagProblem(k: string, v: unknown): string | undefined {
  const kb = badName(k);
  if (kb !== undefined) return `invalid tag key ${q(k)} (${kb})`;
  if (typeof v !== 'string') return `invalid tag value ${bare(k)}=${String(v)} (not a string)`;
  const vb = badName(v);
  // Same words as Go's line-protocol encoder ("invalid tag value k=\"\"") and the corpus.
  return vb === undefined ? undefined : `invalid tag value ${bare(k)}=${q(v)} (${vb})`;
}

function fail(m: string, why: string): LineProtocolError {
  return new LineProtocolError(`line protocol: measurement ${q(m)} ${why}`, m);
}

// Escaped keys with separator and '=' (' k=' first field, ',k=' otherwise): the same few dozen
// keys recur on every poll. Bounded: cleared when full.
interface KeyText {
  first: string;
  next: string;
}
const keyTexts = new Map<string, KeyText>();
function keyText(k: string): KeyText {
  let t = keyTexts.get(k);
  if (t === undefined) {
    if (keyTexts.size >= 4096) keyTexts.clear();
    const e = escape(k, KEY);
    t = { first: ' ' + e + '=', next: ',' + e + '=' };
    keyTexts.set(k, t);
  }
  return t;
}

/** The escaped measurement and tags (`m,k=v,k=v`) and the reasons of the tags it left out. */
interface SeriesText {
  measurement: string;
  text: string;
  tagDrops: string[];
}

/**
 * The series text of FROZEN tag sets, per set and measurement: a driver that hands the same
 * frozen tags every poll (hdhk) has them sorted, checked and escaped once, not once a poll
 * (in the interpreted daemon that was about a third of a poll's encoding, issue 24). Frozen,
 * so the text cannot go stale; weak, so a set dies with its session.
 */
const seriesTexts = new WeakMap<object, SeriesText>();

function seriesText(m: string, tags: Point['tags']): SeriesText {
  const frozen = Object.isFrozen(tags);
  if (frozen) {
    const known = seriesTexts.get(tags);
    if (known !== undefined && known.measurement === m) return known;
  }
  let text = escape(m, MEASUREMENT);
  const tagDrops: string[] = [];
  for (const k of sortedKeys(tags)) {
    const v = tags[k];
    const why = tagProblem(k, v);
    if (why !== undefined) {
      tagDrops.push(`measurement ${q(m)}: ${why}; tag dropped`);
      continue;
    }
    text += keyText(k).next + escape(v, KEY);
  }
  const series = { measurement: m, text, tagDrops };
  if (frozen) seriesTexts.set(tags, series);
  return series;
}

function encode(point: Point, precision: Precision, index: number, dropped: Dropped[] | undefined): string {
  const m = point.measurement;
  if (typeof m !== 'string' || m.length === 0) throw fail(m ?? '', 'is empty');
  if (m.charCodeAt(m.length - 1) === 92) throw fail(m, 'ends in a backslash, which would escape the separator');

  const series = seriesText(m, point.tags);
  let line = series.text;
  for (const reason of series.tagDrops) dropped?.push({ reason, index, scope: 'tag' });

  const fields = point.fields;
  let first = true;
  let dropCount = 0;
  for (const k of sortedKeys(fields)) {
    const bad = badName(k);
    const text = bad === undefined ? fieldValue(fields[k]) : { why: `(${bad})` };
    if (typeof text !== 'string') {
      dropCount++;
      const what = bad === undefined ? `field ${q(k)}: ${text.why}` : `invalid field key ${q(k)} ${text.why}`;
      dropped?.push({ reason: `measurement ${q(m)}: ${what}; field dropped`, index, scope: 'field' });
      continue;
    }
    const kt = keyText(k);
    line += (first ? kt.first : kt.next) + text;
    first = false;
  }
  if (first) throw fail(m, dropCount === 0 ? 'has no fields' : `has no fields left (${dropCount} dropped)`);

  const t = point.time;
  if (typeof t !== 'bigint' || t < TIME_MIN || t > TIME_MAX) {
    throw fail(m, `has time ${String(t)} ns, outside InfluxDB's range (int64 less 1 at each end)`);
  }
  line += ' ' + timestamp(t, precision);
  // Checked on the finished line because reading a char also flattens the rope of
  // concatenations while its pieces are young garbage: a batch of lines kept as ropes costs
  // several times more in GC than building them. Escaping never produces a leading '#'.
  if (line.charCodeAt(0) === 35) throw fail(m, "starts with '#': InfluxDB would read the line as a comment");
  return line;
}

/**
 * One point as one line. Throws LineProtocolError when the point cannot be written at all;
 * tags and fields it leaves out are pushed onto `dropped` when given.
 */
export function encodePoint(point: Point, precision: Precision, dropped?: Dropped[]): string {
  return encode(point, precision, 0, dropped);
}

/** Many points; never throws for a bad point: it is left out and named in `dropped`, in order. */
export function encodePoints(points: readonly Point[], precision: Precision): { lines: string[]; dropped: Dropped[] } {
  const lines: string[] = [];
  const dropped: Dropped[] = [];
  for (let i = 0; i < points.length; i++) {
    try {
      lines.push(encode(points[i], precision, i, dropped));
    } catch (err) {
      // Anything else is a malformed object from an untyped caller (tags missing, say).
      const reason = err instanceof LineProtocolError ? err.message : `line protocol: point ${i} is malformed: ${errorMessage(err)}`;
      dropped.push({ reason, index: i, scope: 'point' });
    }
  }
  return { lines, dropped };
}
