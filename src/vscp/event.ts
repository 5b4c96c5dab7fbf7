/**
 * VSCP class 1040 (CLASS2.MEASUREMENT_STR) events as the original's subscribers receive them
 * over MQTT: the data bytes, the GUID, the topic, and the JSON text exactly as Python's
 * `json.dumps` wrote it. Pure: no clock, no I/O. docs/protocols/vscp.md §3.
 */

export const CLASS_MEASUREMENT_STR = 1040;
/** VSCP_PRIORITY_NORMAL (0x60) | VSCP_HEADER16_DUMB (0x8000), §3.3. */
export const HEAD = 0x8060;

/** 16 bytes: `FF:FF:…:15`, upper-case hex, as the original and node-vscp print them. */
export function guidText(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');
}

/** `AA:BB:…` (16 hex bytes) → bytes, or a one-line reason. */
export function parseGuid(text: string): number[] | string {
  const parts = text.split(':');
  if (parts.length !== 16) return `a GUID has 16 bytes separated by ':', got ${parts.length}`;
  const bad = parts.find((p) => !/^[0-9a-fA-F]{2}$/.test(p));
  if (bad !== undefined) return `a GUID byte is two hex digits, got "${bad}"`;
  return parts.map((p) => parseInt(p, 16));
}

/** The Ethernet-device GUID range, §3.4: FF×7, FE, the MAC, then the node id (2 bytes). */
export function guidFromMac(mac: string): number[] | string {
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) return `not a MAC address: "${mac}"`;
  return [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, ...parts.map((p) => parseInt(p, 16)), 0, 0];
}

/** The GUID with the reading's id in its last two bytes (the node id, §3.4). */
export function withNodeId(guid: readonly number[], id: number): number[] {
  return [...guid.slice(0, 14), (id >> 8) & 0xff, id & 0xff];
}

/** The placeholders a topic template may use (§3.6). */
export const TOPIC_PLACEHOLDERS = ['xguid', 'xclass', 'xtype'] as const;

/** The first unknown `{…}` placeholder of a topic template, or undefined when all are known. */
export function unknownPlaceholder(template: string): string | undefined {
  for (const m of template.matchAll(/\{([^}]*)\}/g)) if (!(TOPIC_PLACEHOLDERS as readonly string[]).includes(m[1]!)) return `{${m[1]}}`;
  return undefined;
}

export function topicFor(template: string, guid: string, type: number): string {
  return template.replaceAll('{xguid}', guid).replaceAll('{xclass}', String(CLASS_MEASUREMENT_STR)).replaceAll('{xtype}', String(type));
}

/** Python's repr of a float: shortest round trip, `.0` on whole numbers, exponents past 1e16 and under 1e-4. */
export function pythonFloat(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : x < 0 ? '-Infinity' : 'NaN';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e16 || abs < 1e-4) {
    const [mantissa, exp] = x.toExponential().split('e') as [string, string];
    const sign = exp.startsWith('-') ? '-' : '+';
    return `${mantissa}e${sign}${exp.replace(/^[-+]/, '').padStart(2, '0')}`;
  }
  const text = String(x);
  return text.includes('.') ? text : `${text}.0`;
}

/** A JSON string as Python's json.dumps writes it (ensure_ascii: every non-ASCII char as \uXXXX). */
export function pythonString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** What stays the same for every event of one reading: everything but the time fields, the value text and its number. */
export interface ReadingEvent {
  type: number;
  guid: string;
  note: string;
  /** Data bytes 0-3 and measurement.unit. */
  sensorIndex: number;
  zone: number;
  subzone: number;
  unit: number;
  measurementUnit: number;
}

/**
 * The payload of `json.dumps(j)` in the original (§3.5: key order, `, ` and `: `), built from
 * parts made once per reading; per event only the time fields and the value are written.
 */
export class EventTemplate {
  private readonly middle: string;
  private readonly dataHead: string;
  private readonly noteAndValue: string;
  private readonly tail: string;

  constructor(r: ReadingEvent) {
    this.middle = `, "vscpClass": ${CLASS_MEASUREMENT_STR}, "vscpType": ${r.type}, "vscpGuid": ${pythonString(r.guid)}, "vscpData": [`;
    this.dataHead = `${r.sensorIndex & 0xff}, ${r.zone & 0xff}, ${r.subzone & 0xff}, ${r.unit & 0xff}`;
    this.noteAndValue = `], "vscpNote": ${pythonString(r.note)}, "measurement": {"value": `;
    this.tail = `, "unit": ${r.measurementUnit}, "sensorindex": ${r.sensorIndex}, "zone": ${r.zone}, "subzone": ${r.subzone}}}`;
  }

  /** `head`: timeHead()'s text for the telegram; `text`: the ASCII value (data bytes 4…). */
  payload(head: string, text: string, value: number): string {
    let data = this.dataHead;
    for (let i = 0; i < text.length; i++) data += `, ${text.charCodeAt(i)}`;
    return `${head}${this.middle}${data}, 0${this.noteAndValue}${pythonFloat(value)}${this.tail}`;
  }
}

/** The start of every event of one telegram: head, obid and the two time fields. */
export function timeHead(dateTime: string, timeStamp: number): string {
  return `{"vscpHead": ${HEAD}, "vscpObId": 0, "vscpDateTime": ${pythonString(dateTime)}, "vscpTimeStamp": ${timeStamp}`;
}

/** `2023-06-14T20:05:48Z`: UTC, whole seconds (pyvscp 0.3.12's vscpDateTime). */
export function isoSeconds(timeMs: number): string {
  return new Date(Math.floor(timeMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * A decimal text times 10^shift, by moving the point through the meter's own digits (never a
 * float): `0001.037`, 3 → `1037`; `00040649.246`, 0 → `40649.246`; `002.0` → `2.0`.
 */
export function shiftDecimal(text: string, shift: number): string | undefined {
  const m = /^([-+]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const sign = m[1] === '-' ? '-' : '';
  let int = m[2]!;
  let frac = m[3] ?? '';
  const hadPoint = text.includes('.');
  if (shift > 0) {
    const moved = frac.slice(0, shift).padEnd(shift, '0');
    int += moved;
    frac = frac.slice(shift);
  }
  int = int.replace(/^0+(?=\d)/, '') || '0';
  const out = frac !== '' || (hadPoint && shift === 0) ? `${int}.${frac}` : int;
  return /^0(\.0*)?$/.test(out) ? out : sign + out;
}
