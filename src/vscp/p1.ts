/**
 * From a P1 telegram to the MQTT messages the VSCP output publishes: one per configured reading
 * the meter sent, in telegram order. Pure: the times come in as arguments.
 * docs/protocols/vscp.md §2 (which readings), §3 (the event), §4 (plain), §8 (fixed).
 */
import type { VscpConfig } from './config.js';
import { eventJson, guidText, isoSeconds, measurementStrData, shiftDecimal, topicFor, withNodeId } from './event.js';
import { BY_OBIS, VSCP_READINGS, type VscpReading, type VscpSwitch } from './readings.js';

export interface VscpMessage {
  topic: string;
  payload: string;
  /** The original published at QoS 0 without retain (§3.7); so does every profile here. */
  qos: 0;
  retain: false;
}

/** One of the 26 readings as the meter sent it. */
export interface MeterValue {
  reading: VscpReading;
  /** The whole line, without its CR LF. */
  line: string;
  /** The value digits between `(` and `*`. */
  text: string;
}

/** The 26 readings' lines of a telegram, in telegram order (other lines are not VSCP's). */
export function meterValues(telegram: string): MeterValue[] {
  const out: MeterValue[] = [];
  for (const raw of telegram.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const m = /^(\d+-\d+:\d+\.\d+\.\d+)\(([^()*]*)\*[^()]*\)$/.exec(line);
    const reading = m ? BY_OBIS.get(m[1]!) : undefined;
    if (reading) out.push({ reading, line, text: m![2]! });
  }
  return out;
}

const SWITCH_KEY: Record<VscpSwitch, keyof VscpConfig> = {
  energy: 'sendEnergy',
  activeEffect: 'sendActiveEffect',
  reactiveEffect: 'sendReactiveEffect',
  voltage: 'sendVoltage',
  current: 'sendCurrent',
};

/** What one reading is published with, after the config's overrides. */
export interface ReadingPlan {
  send: boolean;
  sensorIndex: number;
  id: number;
  note: string;
}

export function planReadings(config: VscpConfig): Map<string, ReadingPlan> {
  const plans = new Map<string, ReadingPlan>();
  for (const r of VSCP_READINGS) {
    const own = config.readings[r.name];
    plans.set(r.name, {
      send: own?.send ?? (config[SWITCH_KEY[r.switch]] as boolean),
      // compat: the sample config.ini's indexes (the original's users have them); fixed/plain: the code's 0.
      sensorIndex: own?.sensorIndex ?? (config.profile === 'compat' ? r.compatSensorIndex : 0),
      id: own?.id ?? r.id,
      note: own?.note ?? r.note,
    });
  }
  return plans;
}

const PYTHON_FLOAT = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

export interface Times {
  /** When the reading was taken (the point's time): the fixed profile's date and timestamp. */
  readingMs: number;
  /** The host clock at publish time: what the original put in both time fields (compat). */
  nowMs: number;
}

/**
 * The messages for one telegram. `guid` is the base GUID (its last two bytes are replaced by
 * each reading's id). Readings the meter did not send, or switched off, are not published.
 */
export function vscpMessages(values: readonly MeterValue[], config: VscpConfig, plans: Map<string, ReadingPlan>, guid: readonly number[], times: Times): VscpMessage[] {
  const out: VscpMessage[] = [];
  for (const v of values) {
    const plan = plans.get(v.reading.name)!;
    if (!plan.send) continue;
    if (config.profile === 'plain') {
      out.push({ topic: plan.note, payload: v.text, qos: 0, retain: false });
      continue;
    }
    const node = guidText(withNodeId(guid, plan.id));
    if (config.profile === 'compat') {
      // §3.2: the original cuts line[11:'*'], which drops the first digit of one-digit C codes.
      const text = v.line.slice(11, v.line.indexOf('*'));
      if (!PYTHON_FLOAT.test(text)) continue; // float() raised in the original: nothing sent
      const { type, unit } = v.reading.compat;
      const payload = eventJson({
        dateTime: isoSeconds(times.nowMs),
        timeStamp: times.nowMs % 2 ** 32, // ms since 1970 in a c_uint32 (§3.3)
        type,
        guid: node,
        data: measurementStrData(plan.sensorIndex, config.zone, config.subzone, unit, text),
        note: plan.note,
        value: Number(text),
        unit: 1, // §9.4: hard-coded in the original
        sensorIndex: plan.sensorIndex,
        zone: config.zone,
        subzone: config.subzone,
      });
      out.push({ topic: topicFor(config.topic, node, type), payload, qos: 0, retain: false });
      continue;
    }
    const { type, unit, shift } = v.reading.fixed;
    const text = shiftDecimal(v.text, shift);
    if (text === undefined) continue;
    const payload = eventJson({
      // §9.6 fixed: the time the reading was taken, and the spec's microsecond timestamp.
      dateTime: isoSeconds(times.readingMs),
      timeStamp: (times.readingMs * 1000) % 2 ** 32,
      type,
      guid: node,
      data: measurementStrData(plan.sensorIndex, config.zone, config.subzone, unit, text),
      note: plan.note,
      value: Number(text),
      unit,
      sensorIndex: plan.sensorIndex,
      zone: config.zone,
      subzone: config.subzone,
    });
    out.push({ topic: topicFor(config.topic, node, type), payload, qos: 0, retain: false });
  }
  return out;
}


