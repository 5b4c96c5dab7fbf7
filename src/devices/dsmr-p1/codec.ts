/**
 * One telegram's text -> a Telegram: pure (no I/O, no clock), never throws for one bad
 * line (it is recorded with its line number and the rest still decodes).
 *
 * A data line is `A-B:C.D.E(value)(value)...` (DSMR 5.0.2 §6.4); EasyMeter's `*255` suffix
 * on the code is tolerated. Codes without a descriptor are counted in `unknown` and give no
 * field: a field appears only where its name, type and unit were decided (tables.ts).
 * Lines are scanned in place (a telegram arrives every second, a backfill brings millions):
 * the code becomes a number and values are read from the text without cutting it up.
 */
import { MBUS_CODES, OBIS_BY_KEY, obisKey, type FieldGroup, type ObisDescriptor } from './tables.js';
import { decodeHexText, measure, measured, scaleDecimalAt } from './codec-values.js';
import { parseP1Time, parseP1TimeAt } from './codec-time.js';

export { decodeHexText, scaleDecimal } from './codec-values.js';

export interface P1Value {
  code: string;
  field: string;
  type: 'float' | 'int' | 'string';
  value: number | string;
  group: FieldGroup;
}

/** One M-Bus channel that has a real device behind it. */
export interface MbusDevice {
  channel: number;
  deviceType?: number;
  equipmentId?: string;
  /** Field name with unit suffix, e.g. `reading_m3`, and its value. */
  readingField?: string;
  reading?: number;
  /** When the device took the reading (Unix ms), from its own timestamp. */
  readingTime?: number;
  valve?: number;
}

export interface LineError {
  /** 1-based line within the telegram (the header is line 1). */
  line: number;
  message: string;
}

export interface Telegram {
  /** The identification line without its '/'. */
  header: string;
  /** 1-3:0.2.8 or (BE) 0-0:96.1.4. */
  version?: string;
  /** 0-0:1.0.0 as Unix ms. */
  meterTime?: number;
  /**
   * The clocks as sent, and their lines, for the message when one is not plausible: key
   * `meter` for 0-0:1.0.0, the channel number for an M-Bus reading time. Set only when present.
   */
  clockTexts?: Map<'meter' | number, { text: string; line: number }>;
  values: P1Value[];
  mbus: MbusDevice[];
  errors: LineError[];
  /** Data lines whose OBIS code has no descriptor. */
  unknown: number;
}

export interface DecodeOptions {
  /** IANA zone of the meter's clock. */
  timezone: string;
}

const TIMESTAMP = obisKey(0, 0, 1, 0, 0);
const PEAK_CODE = '1-0:1.6.0';
const CODE_SEPARATORS = [45, 58, 46, 46]; // - : . .
/** parseCode: not a code at all (obisKey gives -1 for valid codes outside the table's range). */
const BAD_CODE = -2;

/** The value groups of the line being decoded: text[gs[i], ge[i]) is group i. Reused. */
const gs: number[] = [];
const ge: number[] = [];

interface Channel extends MbusDevice {
  hasId: boolean;
  hasReading: boolean;
  placeholderTime: boolean;
}

/** An M-Bus id or a timestamp that says "nothing connected". */
function isPlaceholder(text: string): boolean {
  return text === '' || /^0+$/.test(text) || /^(632525252525|000000000000|700101\d{6})[SW]?$/.test(text);
}

export function decodeTelegram(text: string, options: DecodeOptions): Telegram {
  const zone = options.timezone;
  const len = text.length;
  let nl = text.indexOf('\n');
  if (nl < 0) nl = len;
  const headerEnd = nl > 0 && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
  const t: Telegram = { header: text.slice(text.charCodeAt(0) === 47 ? 1 : 0, headerEnd), values: [], mbus: [], errors: [], unknown: 0 };
  let channels: Map<number, Channel> | undefined; // most telegrams have no M-Bus line
  let legacyGas: { channel: number; time: string; unit: string } | undefined;
  let lineNo = 1;

  for (let pos = nl + 1; pos < len;) {
    let next = text.indexOf('\n', pos);
    if (next < 0) next = len;
    const s = pos;
    const e = next > s && text.charCodeAt(next - 1) === 13 ? next - 1 : next;
    pos = next + 1;
    lineNo++;
    if (e === s) continue;
    const c0 = text.charCodeAt(s);
    if (c0 === 33 /* ! */) break;

    if (c0 === 40 /* ( */) {
      // DSMR 2.2/3 gas: the value line after 0-n:24.3.0.
      const line = text.slice(s, e);
      if (!legacyGas) t.errors.push({ line: lineNo, message: `value without an OBIS code: ${line}` });
      else {
        const g = legacyGas;
        legacyGas = undefined;
        const v = measure(line, 1, line.length - 1, g.unit);
        if (Number.isNaN(v)) t.errors.push({ line: lineNo, message: `0-${g.channel}:24.3.0: ${measured.problem}` });
        else {
          const problem = setReading(t, channel((channels ??= new Map()), g.channel), v, measured.suffix, g.time, zone, lineNo);
          if (problem) t.errors.push({ line: lineNo, message: `0-${g.channel}:24.3.0: ${problem}` });
        }
      }
      continue;
    }

    // The code: A-B:C.D.E, each 0..255, optionally *F; then the value groups.
    const open = text.indexOf('(', s);
    if (open < 0 || open >= e || text.charCodeAt(e - 1) !== 41 /* ) */) {
      const line = text.slice(s, e);
      t.errors.push({ line: lineNo, message: `not an OBIS line: ${JSON.stringify(line.length > 60 ? line.slice(0, 60) + '...' : line)}` });
      continue;
    }
    const key = parseCode(text, s, open);
    if (key === BAD_CODE) {
      t.errors.push({ line: lineNo, message: `not an OBIS code: ${JSON.stringify(text.slice(s, open))}` });
      continue;
    }
    let n = 0;
    for (let p = open; p < e;) {
      const close = text.indexOf(')', p + 1);
      if (text.charCodeAt(p) !== 40 || close < 0 || close >= e) {
        n = -1;
        break;
      }
      gs[n] = p + 1;
      ge[n++] = close;
      p = close + 1;
    }
    if (n < 0) {
      t.errors.push({ line: lineNo, message: `not an OBIS line: ${JSON.stringify(text.slice(s, e))}` });
      continue;
    }

    if (key === TIMESTAMP) {
      const ms = parseP1TimeAt(text, gs[0], ge[0], zone);
      if (ms === undefined) t.errors.push({ line: lineNo, message: `0-0:1.0.0: not a timestamp: "${text.slice(gs[0], ge[0])}"` });
      else {
        t.meterTime = ms;
        (t.clockTexts ??= new Map()).set('meter', { text: text.slice(gs[0], ge[0]), line: lineNo });
      }
      continue;
    }
    const d = OBIS_BY_KEY.get(key);
    if (d) {
      const problem = addValue(t, d, text, n, zone);
      if (problem) t.errors.push({ line: lineNo, message: `${d.code}: ${problem}` });
      continue;
    }
    const b = (key >>> 24) & 15;
    if (key >= 0 && key >>> 28 === 0 && b >= 1 && b <= 9) {
      // 0-n:C.D.E: M-Bus channel n.
      const cde = `${(key >>> 16) & 255}.${(key >>> 8) & 255}.${key & 255}`;
      const problem = mbusLine(t, channel((channels ??= new Map()), b), cde, text, n, zone, lineNo);
      if (problem === 'legacy') legacyGas = { channel: b, time: text.slice(gs[0], ge[0]), unit: n > 5 ? text.slice(gs[5], ge[5]) : 'm3' };
      else if (problem) t.errors.push({ line: lineNo, message: `0-${b}:${cde}: ${problem}` });
      continue;
    }
    t.unknown++;
  }

  if (channels)
    for (const c of channels.values()) {
      // No device: an empty or all-zero id, a placeholder reading time, or no reading at all.
      if (!c.hasReading || !c.hasId || c.placeholderTime) continue;
      const { hasId: _i, hasReading: _r, placeholderTime: _p, ...device } = c;
      t.mbus.push(device);
    }
  return t;
}

/** obisKey of text[s, end) (`A-B:C.D.E` with an optional `*F`); BAD_CODE if it is none. */
function parseCode(text: string, s: number, end: number): number {
  let i = s;
  let key = 0;
  let outside = false; // a valid code that obisKey cannot hold (A > 3 or B > 15)
  for (let part = 0; part < 5; part++) {
    let x = 0;
    const from = i;
    for (; i < end && i - from < 3; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) break;
      x = x * 10 + (c - 48);
    }
    if (i === from || x > 255) return BAD_CODE;
    if ((part === 0 && x > 3) || (part === 1 && x > 15)) outside = true;
    key = part === 1 ? (key << 4) | (x & 15) : (key << 8) | x;
    if (part < 4) {
      if (text.charCodeAt(i) !== CODE_SEPARATORS[part]) return BAD_CODE;
      i++;
    }
  }
  if (i < end && text.charCodeAt(i) === 42 /* * */) {
    for (i++; i < end; i++) if (text.charCodeAt(i) < 48 || text.charCodeAt(i) > 57) return BAD_CODE;
  }
  if (i !== end) return BAD_CODE;
  return outside ? -1 : key;
}

function channel(channels: Map<number, Channel>, n: number): Channel {
  let c = channels.get(n);
  if (!c) channels.set(n, (c = { channel: n, hasId: false, hasReading: false, placeholderTime: false }));
  return c;
}

/** The reading, and its time; returns a problem when the time does not parse (the reading still counts). */
function setReading(t: Telegram, c: Channel, value: number, suffix: string | undefined, time: string, zone: string, line: number): string | undefined {
  c.hasReading = true;
  c.reading = value;
  c.readingField = suffix ? `reading_${suffix}` : 'reading';
  if (isPlaceholder(time)) {
    c.placeholderTime = true;
    return undefined;
  }
  const ms = parseP1Time(time, zone);
  if (ms === undefined) return `not a timestamp: "${time}"; the telegram's time is used`;
  c.readingTime = ms;
  (t.clockTexts ??= new Map()).set(c.channel, { text: time, line });
  return undefined;
}

function mbusLine(t: Telegram, c: Channel, cde: string, text: string, n: number, zone: string, line: number): string | undefined {
  const first = text.slice(gs[0], ge[0]);
  if (cde === MBUS_CODES.deviceType) {
    const v = Number(first);
    if (first === '' || !Number.isSafeInteger(v)) return `not a device type: "${first}"`;
    c.deviceType = v;
  } else if ((MBUS_CODES.equipmentIds as readonly string[]).includes(cde)) {
    c.hasId = !isPlaceholder(first);
    if (c.hasId) c.equipmentId = decodeHexText(first).trim();
  } else if ((MBUS_CODES.readings as readonly string[]).includes(cde)) {
    if (n < 2) return 'expected (time)(value*unit)';
    const v = measure(text, gs[1], ge[1], undefined);
    if (Number.isNaN(v)) return measured.problem;
    return setReading(t, c, v, measured.suffix, first, zone, line);
  } else if (cde === MBUS_CODES.legacyReading) {
    return 'legacy';
  } else if (cde === MBUS_CODES.valve) {
    // An empty position is "no valve"; anything else must be an exact integer.
    const v = Number(first);
    if (first === '') return undefined;
    if (!Number.isSafeInteger(v)) return `not a valve position: "${first}"`;
    c.valve = v;
  } else {
    t.unknown++;
  }
  return undefined;
}

/** Applies one descriptor to the line's value groups; returns a problem or undefined. */
function addValue(t: Telegram, d: ObisDescriptor, text: string, n: number, zone: string): string | undefined {
  switch (d.kind) {
    case 'string':
    case 'hextext': {
      const raw = text.slice(gs[0], ge[0]);
      if (d.field === 'p1_version') t.version = raw;
      // An empty message, or an all-zero id (DSMR 2.2 placeholder): no field.
      if (raw === '' || (d.kind === 'hextext' && /^0+$/.test(raw))) return undefined;
      // DSMR 2.2 meters pad their plain-text id with a leading space (` ZABF…`).
      const value = d.kind === 'hextext' ? decodeHexText(raw).trim() : raw;
      if (value !== '') push(t, d, d.field, 'string', value);
      return undefined;
    }
    case 'int':
    case 'eventlog': {
      let end = text.indexOf('*', gs[0]);
      if (end < 0 || end > ge[0]) end = ge[0];
      const v = scaleDecimalAt(text, gs[0], end, 0);
      if (v === undefined || !Number.isSafeInteger(v)) return `${d.kind === 'int' ? 'not an integer' : 'not an entry count'}: "${text.slice(gs[0], ge[0])}"`;
      push(t, d, d.field, 'int', v);
      return undefined;
    }
    case 'float':
    case 'stamped': {
      const i = d.kind === 'stamped' ? 1 : 0;
      if (i >= n) return 'expected (time)(value*unit)';
      const v = measure(text, gs[i], ge[i], d.unit);
      if (Number.isNaN(v)) return measured.problem;
      push(t, d, d.unit === 'auto' && measured.suffix ? `${d.field}_${measured.suffix}` : d.field, 'float', v);
      return undefined;
    }
    case 'peaks':
      return newestPeak(t, d, text, n, zone);
  }
}

function push(t: Telegram, d: ObisDescriptor, field: string, type: P1Value['type'], value: number | string): void {
  t.values.push({ code: d.code, field, type, value, group: d.group });
}

/**
 * e-MUCS 0-0:98.1.0: (n)(1-0:1.6.0)(1-0:1.6.0) then n times (period end)(peak time)(peak).
 * Meters list the months in either order, so the entry with the latest period end wins;
 * entries with a placeholder time are skipped. Other layouts (E.ON HU) are not peaks: ignored.
 */
function newestPeak(t: Telegram, d: ObisDescriptor, text: string, n: number, zone: string): string | undefined {
  if (n < 2 || ge[1] - gs[1] !== PEAK_CODE.length || !text.startsWith(PEAK_CODE, gs[1])) return undefined;
  let best: { at: number; value: number } | undefined;
  for (let i = 3; i + 2 < n; i += 3) {
    const at = parseP1TimeAt(text, gs[i], ge[i], zone);
    if (at === undefined || parseP1TimeAt(text, gs[i + 1], ge[i + 1], zone) === undefined) continue;
    const v = measure(text, gs[i + 2], ge[i + 2], d.unit);
    if (Number.isNaN(v)) return measured.problem;
    if (!best || at > best.at) best = { at, value: v };
  }
  if (best) push(t, d, d.field, 'float', best.value);
  return undefined;
}
