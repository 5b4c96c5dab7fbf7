/**
 * From a P1 telegram to the MQTT messages the VSCP output publishes: one per configured reading
 * the meter sent, in telegram order. Everything that does not change between telegrams (topics,
 * GUIDs, the JSON around the value) is made once, when the output is built: this runs for every
 * telegram, once a second on a DSMR 5 meter. Pure: the times come in as arguments.
 * docs/protocols/vscp.md §2 (which readings), §3 (the event), §4 (plain), §8 (fixed).
 */
import type { VscpConfig } from './config.js';
import { EventTemplate, guidText, isoSeconds, shiftDecimal, timeHead, topicFor, withNodeId } from './event.js';
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
  for (let pos = 0; pos < telegram.length;) {
    let end = telegram.indexOf('\n', pos);
    if (end < 0) end = telegram.length;
    const lineEnd = end > pos && telegram.charCodeAt(end - 1) === 13 ? end - 1 : end;
    // `1-0:C.D.E(value*unit)`, one value group: only electricity lines can be one of the readings.
    if (telegram.startsWith('1-0:', pos)) {
      const open = telegram.indexOf('(', pos);
      const reading = open > 0 && open < lineEnd ? BY_OBIS.get(telegram.slice(pos, open)) : undefined;
      if (reading && telegram.charCodeAt(lineEnd - 1) === 41 /* ) */) {
        const star = telegram.indexOf('*', open);
        const text = star > open && star < lineEnd ? telegram.slice(open + 1, star) : '';
        const unit = star > open && star < lineEnd ? telegram.slice(star + 1, lineEnd - 1) : '(';
        if (!/[()]/.test(text) && !/[()*]/.test(unit)) out.push({ reading, line: telegram.slice(pos, lineEnd), text });
      }
    }
    pos = end + 1;
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

/** One reading, ready to publish: its topic and the JSON around its value. */
interface Compiled {
  topic: string;
  template: EventTemplate;
  /** fixed: places the decimal point moves (kW → W). */
  shift: number;
}

/** The messages of a profile for one telegram's values. */
export class VscpEncoder {
  private readonly compiled = new Map<string, Compiled | null>();

  constructor(
    private readonly config: VscpConfig,
    /** The base GUID; its last two bytes become each reading's id. */
    guid: readonly number[],
  ) {
    const plans = planReadings(config);
    for (const r of VSCP_READINGS) {
      const plan = plans.get(r.name)!;
      if (!plan.send) {
        this.compiled.set(r.name, null);
        continue;
      }
      if (config.profile === 'plain') {
        this.compiled.set(r.name, { topic: plan.note, template: null as never, shift: 0 });
        continue;
      }
      const fixed = config.profile === 'fixed';
      const { type, unit } = fixed ? r.fixed : r.compat;
      const node = guidText(withNodeId(guid, plan.id));
      const template = new EventTemplate({
        type,
        guid: node,
        note: plan.note,
        sensorIndex: plan.sensorIndex,
        zone: config.zone,
        subzone: config.subzone,
        unit,
        measurementUnit: fixed ? unit : 1, // §9.4: the original hard-codes 1
      });
      this.compiled.set(r.name, { topic: topicFor(config.topic, node, type), template, shift: fixed ? r.fixed.shift : 0 });
    }
  }

  messages(values: readonly MeterValue[], times: Times): VscpMessage[] {
    const out: VscpMessage[] = [];
    const profile = this.config.profile;
    let head: string | undefined;
    for (const v of values) {
      const c = this.compiled.get(v.reading.name);
      if (!c) continue;
      if (profile === 'plain') {
        out.push({ topic: c.topic, payload: v.text, qos: 0, retain: false });
        continue;
      }
      let text: string | undefined;
      if (profile === 'compat') {
        // §3.2: the original cuts line[11:'*'], which drops the first digit of one-digit C codes.
        text = v.line.slice(11, v.line.indexOf('*'));
        if (!PYTHON_FLOAT.test(text)) continue; // float() raised in the original: nothing sent
        // §3.3: the host clock at publish time, ms since 1970 in a c_uint32.
        head ??= timeHead(isoSeconds(times.nowMs), times.nowMs % 2 ** 32);
      } else {
        text = shiftDecimal(v.text, c.shift);
        if (text === undefined) continue;
        // §9.6 fixed: the time the reading was taken, and the spec's microsecond timestamp.
        head ??= timeHead(isoSeconds(times.readingMs), (times.readingMs * 1000) % 2 ** 32);
      }
      out.push({ topic: c.topic, payload: c.template.payload(head, text, Number(text)), qos: 0, retain: false });
    }
    return out;
  }
}
