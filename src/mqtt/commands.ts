/**
 * Which control verbs of which driver are offered over MQTT, as which Home Assistant entity
 * (a small table per driver id), and how a `…/set` message becomes a `worker.control()` call.
 *
 * Topics, under `<prefix>/<device>/`:
 * - switch: `<path>/<target>/set` (ON/OFF/1/0, any case), `<path>/<target>/state` (ON/OFF),
 *   `<path>/<target>/result` (JSON: ok, verb, args, message or error, time);
 * - number: `<path>/set` (a number), `<path>/state`, `<path>/result`.
 * Switch targets (outlet numbers) are found in the collected points (the series tag); a switch
 * is announced only where the driver's `control.prepare` allows switching it.
 */
import type { FieldValue } from '../core/point.js';
import type { Driver } from '../devices/types.js';

export interface SwitchSpec {
  component: 'switch';
  /** Topic level after the device: `outlet`. */
  path: string;
  /** Where targets and their state come from: points of this measurement, target in this tag. */
  measurement: string;
  targetTag: string;
  onVerb: string;
  offVerb: string;
  /** ON/OFF from a collected point's fields; undefined when the point does not say. */
  state(fields: Record<string, FieldValue>): 'ON' | 'OFF' | undefined;
}

export interface NumberSpec {
  component: 'number';
  path: string;
  verb: string;
  min: number;
  max: number;
  step: number;
  unit?: string;
  deviceClass?: string;
  /** The range this device's config allows (narrower than min/max), when the driver's options say. */
  limits?: (options: unknown) => { min: number; max: number } | undefined;
  /** A collected field that reports the current value, when the driver has one. */
  stateFrom?: { measurement: string; field: string };
}

export type CommandSpec = SwitchSpec | NumberSpec;

function num(v: FieldValue | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') return undefined;
  return Number(v.value);
}

/**
 * PDU outlet state as a switch shows it: where the outlet is heading, so that the state
 * published after a command and the next polls agree. From a boolean/0-1 `on` field, or the
 * PI90 status digit (protocols.md §1.5: 0 Off, 1 On, 2 Shutdown active, 3 Shutdown imminent,
 * 4 Restore active, 5 Overload alarm, 6 Locked): a pending shutdown (2, 3) is OFF unless a
 * restore follows it (`restore_countdown_s` > 0: the driver's `on` recipe for an off outlet,
 * or shutdown-restore), a running restore (4) is ON; locked says nothing.
 */
export function outletState(fields: Record<string, FieldValue>): 'ON' | 'OFF' | undefined {
  const on = num(fields.on);
  if (on !== undefined) return on ? 'ON' : 'OFF';
  const status = num(fields.status);
  if (status === undefined || status === 6) return undefined;
  if (status === 2 || status === 3) return (num(fields.restore_countdown_s) ?? 0) > 0 ? 'ON' : 'OFF';
  return status === 1 || status === 4 || status === 5 ? 'ON' : 'OFF';
}

/** An outlet switch over a driver's `on <outlet>` / `off <outlet>` verbs. */
export function outletSwitch(measurement: string): SwitchSpec {
  return { component: 'switch', path: 'outlet', measurement, targetTag: 'outlet', onVerb: 'on', offVerb: 'off', state: outletState };
}

const TABLE = new Map<string, readonly CommandSpec[]>([
  ['powerwalker-pdu', [outletSwitch('pdu_outlet')]],
  // VE.Bus ESS set-point, W (+ charges from AC, − feeds): the range is options.control.essPower
  // (the driver refuses anything outside it); min/max are the driver's schema bounds.
  [
    'victron-vebus',
    [
      {
        component: 'number',
        path: 'ess-power',
        verb: 'ess-power',
        min: -32767,
        max: 32767,
        step: 1,
        unit: 'W',
        deviceClass: 'power',
        limits: (o) => (o as { control?: { essPower?: { min: number; max: number } } } | undefined)?.control?.essPower,
        stateFrom: { measurement: 'vebus', field: 'ess_setpoint_w' },
      },
    ],
  ],
]);

export function commandSpecs(driverId: string): readonly CommandSpec[] {
  return TABLE.get(driverId) ?? [];
}

/** Add or replace a driver's entry (drivers outside this table, and tests). */
export function registerCommandSpecs(driverId: string, specs: readonly CommandSpec[]): void {
  TABLE.set(driverId, specs);
}

/** A `…/set` payload as a switch verb: ON/OFF/1/0 (trimmed, any case), else undefined. */
export function parseSwitchPayload(payload: string): boolean | undefined {
  const p = payload.trim().toUpperCase();
  if (p === 'ON' || p === '1') return true;
  if (p === 'OFF' || p === '0') return false;
  return undefined;
}

/** A `…/set` payload as a number argument (decimal text, finite), else undefined. */
export function parseNumberPayload(payload: string): string | undefined {
  const p = payload.trim();
  if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(p)) return undefined;
  return String(Number(p));
}

export type ParsedCommand =
  | { ok: true; device: string; spec: CommandSpec; target?: string; verb: string; args: string[]; base: string }
  | { ok: false; reason: string };

/**
 * Route `<prefix>/<device>/<path>[/<target>]/set` with its payload to a verb and arguments.
 * `specsOf` gives the specs of a configured device, undefined for an unknown device.
 */
export function parseCommand(prefix: string, topic: string, payload: string, specsOf: (device: string) => readonly CommandSpec[] | undefined): ParsedCommand {
  if (!topic.startsWith(prefix + '/') || !topic.endsWith('/set')) return { ok: false, reason: 'not a command topic' };
  const parts = topic.slice(prefix.length + 1, -'/set'.length).split('/');
  const device = parts[0]!;
  const specs = specsOf(device);
  if (!specs) return { ok: false, reason: `unknown device "${device}"` };
  const spec = specs.find((s) => s.path === parts[1]);
  if (!spec) return { ok: false, reason: `device "${device}" takes no command at ${parts.slice(1).join('/') || '(nothing)'}` };
  const base = `${prefix}/${parts.slice(0, spec.component === 'switch' ? 3 : 2).join('/')}`;
  if (spec.component === 'switch') {
    if (parts.length !== 3 || !parts[2]) return { ok: false, reason: `expected ${prefix}/${device}/${spec.path}/<${spec.targetTag}>/set` };
    const on = parseSwitchPayload(payload);
    if (on === undefined) return { ok: false, reason: `payload ${JSON.stringify(payload.slice(0, 40))} is not ON, OFF, 1 or 0` };
    return { ok: true, device, spec, target: parts[2], verb: on ? spec.onVerb : spec.offVerb, args: [parts[2]], base };
  }
  if (parts.length !== 2) return { ok: false, reason: `expected ${prefix}/${device}/${spec.path}/set` };
  const value = parseNumberPayload(payload);
  if (value === undefined) return { ok: false, reason: `payload ${JSON.stringify(payload.slice(0, 40))} is not a number` };
  return { ok: true, device, spec, verb: spec.verb, args: [value], base };
}

/** Whether a driver's pure `control.prepare` accepts a verb for a device's config (no I/O). */
export function allows(driver: Driver, options: unknown, device: string, verb: string, args: readonly string[]): boolean {
  const control = driver.control;
  if (!control || !control.verbs.some((v) => v.name === verb)) return false;
  try {
    control.prepare(verb, args, options, device);
    return true;
  } catch {
    return false;
  }
}
