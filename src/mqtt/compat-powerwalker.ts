/**
 * Compatibility with the original PowerWalker script (thomasjsn/powerwalker-python-lib
 * `mqtt.py`, docs/protocols/powerwalker.md): the same topics under its prefix, the same JSON payloads
 * (Python `json.dumps` spacing, floats keep their `.0`), QoS 0, not retained, and its outlet
 * command `<prefix>/pdu/outlet/out<N>/set` with `1`/`0`. Existing Home Assistant YAML on those
 * topics keeps working while users move to discovery.
 *
 * Topics: pdu/power/{in,out1..8} {w, va, a}; pdu/outlet/out<N> {status, state, restore_sec,
 * shutdown_sec}; pdu/status; ats/supply/src{1,2} {v, hz, active, preferred, bad}; ats/status;
 * alert (1 where a part is in alarm). `$CONNECTED/<client id>` is 1 on connect, 0 on stop or death (compat-connection.ts).
 *
 * The wattline field each value is read from is listed in FIELDS (one table; a list of names
 * means the first one present), checked against the drivers' points by the integration test.
 */
import type { FieldValue, Point } from '../core/point.js';
import { jsonValue } from './series.js';

/** The drivers whose devices fill `<p>/pdu/...` and `<p>/ats/...` when the config names none (the one device of each). */
export const COMPAT_DRIVERS = { pdu: 'powerwalker-pdu', ats: 'powerwalker-ats' } as const;

type Kind = 'float' | 'int';
type Source = { names: readonly string[]; kind: Kind };
const f = (...names: string[]): Source => ({ names, kind: 'float' });
const i = (...names: string[]): Source => ({ names, kind: 'int' });

/**
 * Output key → the wattline field its value comes from (the PDU and ATS drivers' README
 * "Measurements"): `pdu` (input and alarm bits), `pdu_outlet` (tag outlet), `ats` (load,
 * fault bits), `ats_source` (tag source 1/2).
 */
const FIELDS = {
  pduInput: { w: i('input_w'), va: i('input_va'), a: f('input_a') },
  outlet: { w: i('power_w'), va: i('apparent_power_va'), a: f('current_a') },
  outletStatus: { status: i('status'), restore_sec: i('restore_countdown_s'), shutdown_sec: i('shutdown_countdown_s') },
  pduStatus: {
    in_hz: f('input_hz'),
    in_v: f('input_v'),
    temp_c: f('temperature_c'),
    low_in_voltage: i('alarm_low_input_v'),
    high_in_voltage: i('alarm_high_input_v'),
    low_in_current: i('alarm_low_input_a'),
    high_in_current: i('alarm_high_input_a'),
    pwr_fail_aux1: i('alarm_aux1_power_fail'),
    pwr_fail_aux2: i('alarm_aux2_power_fail'),
  },
  atsSource: { v: f('voltage_v'), hz: f('frequency_hz'), active: i('active'), preferred: i('preferred') },
  atsStatus: {
    temp_c: f('temperature_c'),
    out_a: f('output_a'),
    out_pct: f('load_pct'),
    sync_angle: f('sync_angle_deg'),
    aux_pwr1_fail: i('aux_pwr1_fail'),
    aux_pwr2_fail: i('aux_pwr2_fail'),
    on_fault_mode: i('on_fault_mode'),
    overload_alarm: i('overload_alarm'),
    overload_fault: i('overload_fault'),
    short_fault: i('short_fault'),
    syncron_bad: i('syncron_bad'),
  },
} as const;

/** A source is bad when any of these `ats_source` bits is set. */
const SOURCE_BAD = ['voltage_bad', 'freq_bad', 'wave_bad'];

/** PI90 outlet status digits (docs/protocols/powerwalker.md §1.5), as the original names them. */
const OUTLET_STATES = ['Off', 'On', 'Shutdown active', 'Shutdown imminent', 'Restore active', 'Overload alarm', 'Locked'];

const PDU_FLAGS = Object.keys(FIELDS.pduStatus).filter((k) => FIELDS.pduStatus[k as keyof typeof FIELDS.pduStatus].kind === 'int');
const ATS_FLAGS = Object.keys(FIELDS.atsStatus).filter((k) => FIELDS.atsStatus[k as keyof typeof FIELDS.atsStatus].kind === 'int');

type Py = { v: number | string; kind: Kind } | null;

function pick(fields: Record<string, FieldValue>, src: Source): Py {
  for (const name of src.names) {
    const raw = fields[name];
    if (raw === undefined) continue;
    const v = jsonValue(raw);
    if (typeof v === 'boolean') return { v: v ? 1 : 0, kind: 'int' };
    if (typeof v === 'number') return { v: src.kind === 'int' ? Math.round(v) : v, kind: src.kind };
  }
  return null;
}

/** Python `json.dumps` of a flat dict: `{"a": 1, "b": 2.0}`; a missing value is `null`. */
export function pyJson(entries: [string, Py | string][]): string {
  const parts = entries.map(([k, val]) => {
    let text: string;
    if (typeof val === 'string') text = JSON.stringify(val);
    else if (val === null) text = 'null';
    else if (typeof val.v === 'string') text = JSON.stringify(val.v);
    else if (val.kind === 'float' && Number.isInteger(val.v)) text = `${val.v}.0`;
    else text = String(val.v);
    return `${JSON.stringify(k)}: ${text}`;
  });
  return `{${parts.join(', ')}}`;
}

function dict(fields: Record<string, FieldValue>, table: Record<string, Source>): [string, Py][] {
  return Object.entries(table).map(([k, src]) => [k, pick(fields, src)]);
}

const isOn = (p: Py) => p !== null && p.v === 1;

/** The alert flags the original publishes on `alert`; kept across reports (PDU and ATS arrive apart). */
export type Alerts = Map<string, number>;

export interface CompatMessage {
  topic: string;
  payload: string;
}

/** Messages for one collection of the PDU (points `pdu` and `pdu_outlet` with tag `outlet`; `pdu_info` is not published). */
export function pduMessages(prefix: string, points: readonly Point[], alerts: Alerts): CompatMessage[] {
  const out: CompatMessage[] = [];
  const outlets = points.filter((p) => p.measurement === 'pdu_outlet' && /^[1-8]$/.test(p.tags.outlet ?? '')).sort((a, b) => Number(a.tags.outlet) - Number(b.tags.outlet));
  // The original's order: outlets, pdu/status, then power.
  for (const p of outlets) {
    const key = `out${p.tags.outlet}`;
    const d = dict(p.fields, FIELDS.outletStatus);
    const status = d[0]![1];
    const state = status !== null && typeof status.v === 'number' ? (OUTLET_STATES[status.v] ?? null) : null;
    out.push({ topic: `${prefix}/pdu/outlet/${key}`, payload: pyJson([d[0]!, ['state', state === null ? null : state], d[1]!, d[2]!]) });
    alerts.set(`pdu_${key}`, status?.v === 5 ? 1 : 0);
  }
  const pdu = points.find((p) => p.measurement === 'pdu');
  if (pdu) {
    const d = dict(pdu.fields, FIELDS.pduStatus);
    out.push({ topic: `${prefix}/pdu/status`, payload: pyJson(d) });
    alerts.set('pdu', d.some(([k, v]) => PDU_FLAGS.includes(k) && isOn(v)) ? 1 : 0);
    out.push({ topic: `${prefix}/pdu/power/in`, payload: pyJson(dict(pdu.fields, FIELDS.pduInput)) });
  }
  for (const p of outlets) out.push({ topic: `${prefix}/pdu/power/out${p.tags.outlet}`, payload: pyJson(dict(p.fields, FIELDS.outlet)) });
  if (out.length > 0) out.push(alertMessage(prefix, alerts));
  return out;
}

/** Messages for one collection of the ATS (point `ats` with the fault bits, `ats_source` with tag source 1/2). */
export function atsMessages(prefix: string, points: readonly Point[], alerts: Alerts): CompatMessage[] {
  const ats = points.find((p) => p.measurement === 'ats');
  const sources = points.filter((p) => p.measurement === 'ats_source' && (p.tags.source === '1' || p.tags.source === '2'));
  if (!ats && sources.length === 0) return [];
  const out: CompatMessage[] = [];
  for (const p of sources.sort((a, b) => Number(a.tags.source) - Number(b.tags.source))) {
    const key = `src${p.tags.source}`;
    const bad = SOURCE_BAD.some((name) => isOn(pick(p.fields, i(name)))) ? 1 : 0;
    alerts.set(`ats_${key}`, bad);
    out.push({ topic: `${prefix}/ats/supply/${key}`, payload: pyJson([...dict(p.fields, FIELDS.atsSource), ['bad', { v: bad, kind: 'int' }]]) });
  }
  if (ats) {
    const d = dict(ats.fields, FIELDS.atsStatus);
    out.push({ topic: `${prefix}/ats/status`, payload: pyJson(d) });
    alerts.set('ats', d.some(([k, v]) => ATS_FLAGS.includes(k) && isOn(v)) ? 1 : 0);
  }
  out.push(alertMessage(prefix, alerts));
  return out;
}

function alertMessage(prefix: string, alerts: Alerts): CompatMessage {
  return { topic: `${prefix}/alert`, payload: pyJson([...alerts].map(([k, v]) => [k, { v, kind: 'int' }])) };
}

/**
 * The original's command: `<prefix>/pdu/outlet/out<N>/set`, N 1–8, payload an integer (non-zero
 * is on, as its `bool(int(payload))`); ON/OFF accepted too. Returns the verb and outlet, or why not.
 */
export function parseCompatCommand(prefix: string, topic: string, payload: string): { verb: 'on' | 'off'; outlet: string } | { error: string } | undefined {
  const m = new RegExp(`^${escapeRegExp(prefix)}/pdu/outlet/out([^/]+)/set$`).exec(topic);
  if (!m) return undefined;
  if (!/^[1-8]$/.test(m[1]!)) return { error: `outlet "${m[1]}" is not 1–8` };
  const p = payload.trim().toUpperCase();
  if (p === 'ON' || p === 'OFF') return { verb: p === 'ON' ? 'on' : 'off', outlet: m[1]! };
  if (!/^[-+]?\d+$/.test(p)) return { error: `payload ${JSON.stringify(payload.slice(0, 40))} is not an integer, ON or OFF` };
  return { verb: Number(p) !== 0 ? 'on' : 'off', outlet: m[1]! };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
