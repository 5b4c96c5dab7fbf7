/**
 * A series is what one MQTT state message carries: one point's measurement plus the tags that
 * tell its series apart within the device (an outlet, a channel, a phase), never the tags
 * every point of the device shares (device, site, host, the config's extra tags) nor the
 * descriptive ones (circuit, unit_name, mfr, model); the driver's field metadata names them. Topic: `<prefix>/<device>/<series>` with
 * `<series>` = `<measurement>[/<tag>/<value>]...`, e.g. `wattline/board/hdhk/unit/1/channel/3`.
 */
import { IntField, UintField, type FieldValue, type Point } from '../core/point.js';
import type { TextSink } from './packets.js';

const NOT_IN_A_LEVEL = /[/#+\s\u0000]/;
const NOT_IN_A_LEVEL_ALL = /[/#+\s\u0000]/g;

/** One MQTT topic level from a tag value: no separators or wildcards. */
export function topicLevel(value: string): string {
  // Runs for every tag of every point: most values need nothing replaced, and test() makes no string.
  if (value === '') return '_';
  return NOT_IN_A_LEVEL.test(value) ? value.replace(NOT_IN_A_LEVEL_ALL, '_') : value;
}

/** `hdhk/unit/1/channel/3` for a point of `hdhk` with unit=1, channel=3 (`tags`: the measurement's series tags, from the driver). */
export function seriesPath(point: Point, tags: readonly string[]): string {
  let path = topicLevel(point.measurement);
  for (const tag of tags) {
    const v = point.tags[tag];
    if (v !== undefined && v !== '') path += `/${tag}/${topicLevel(v)}`;
  }
  return path;
}

/** A field as JSON: integers as numbers (exact up to 2^53, beyond that as text). */
export function jsonValue(v: FieldValue): number | boolean | string {
  if (v instanceof IntField || v instanceof UintField) {
    const n = Number(v.value);
    return Number.isSafeInteger(n) ? n : v.value.toString();
  }
  return v;
}

/** `,"<key>":` per field name: the same few hundred names come back every poll. */
const keyPrefixes = new Map<string, string>();
const MAX_CACHED_KEYS = 10_000;

function keyPrefix(key: string): string {
  let prefix = keyPrefixes.get(key);
  if (prefix === undefined) {
    prefix = `,${JSON.stringify(key)}:`;
    if (keyPrefixes.size < MAX_CACHED_KEYS) keyPrefixes.set(key, prefix);
  }
  return prefix;
}

/** A field value as JSON text: what JSON.stringify(jsonValue(v)) gives, without its generic path (it runs for every field). */
function jsonText(v: FieldValue): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return JSON.stringify(v);
  const j = jsonValue(v); // an integer: a number, or its digits as text beyond 2^53
  return typeof j === 'number' ? String(j) : `"${j}"`;
}

/**
 * A point's time as ISO 8601 text. The points of one poll share their time, and polls within
 * one second share everything but the milliseconds: the date part is made once a second.
 */
let lastTimeNs = -1n;
let lastIso = '';
let lastSecond = Number.NaN;
let lastSecondIso = '';

function isoTime(ns: bigint): string {
  if (ns === lastTimeNs) return lastIso;
  const ms = Number(ns / 1_000_000n);
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastSecondIso = new Date(second * 1000).toISOString().slice(0, -4); // through "SS." (years past 9999 are longer)
    lastSecond = second;
  }
  const frac = ms - second * 1000;
  lastIso = `${lastSecondIso}${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}Z`;
  lastTimeNs = ns;
  return lastIso;
}

/** `"<tag>":"<value>"` per tag and value: a series' tags come back every poll. */
const tagTexts = new Map<string, Map<string, string>>();
let tagTextCount = 0;

function tagText(key: string, value: string): string {
  const text = tagTexts.get(key)?.get(value);
  if (text !== undefined) return text;
  const made = `${JSON.stringify(key)}:${JSON.stringify(value)}`;
  // Bounded: a tag whose value changes every poll must not grow this without end.
  if (tagTextCount < MAX_CACHED_KEYS) {
    let values = tagTexts.get(key);
    if (values === undefined) tagTexts.set(key, (values = new Map()));
    values.set(value, made);
    tagTextCount++;
  }
  return made;
}

/**
 * The state message of one point, `{"time": ISO, <field>: value, ..., "tags": {...}}`, written
 * piece by piece into `out` (no object nor whole string in between: see packets.ts).
 */
export function writeStatePayload(out: TextSink, point: Point, baseTags: ReadonlySet<string>): void {
  out.text('{"time":"');
  out.text(isoTime(point.time));
  out.text('"');
  const fields = point.fields;
  for (const k in fields) {
    out.text(keyPrefix(k));
    out.text(jsonText(fields[k]!));
  }
  let first = true;
  const t = point.tags;
  for (const k in t) {
    if (k === 'device' || baseTags.has(k)) continue;
    out.text(first ? ',"tags":{' : ',');
    out.text(tagText(k, t[k]!));
    first = false;
  }
  out.text(first ? '}' : '}}');
}

class StringSink implements TextSink {
  s = '';
  text(s: string): void {
    this.s += s;
  }
}

/** The state message of one point as a string (for the queue, while the broker is away). */
export function statePayload(point: Point, baseTags: ReadonlySet<string>): string {
  const sink = new StringSink();
  writeStatePayload(sink, point, baseTags);
  return sink.s;
}
