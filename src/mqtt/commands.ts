/**
 * Which control verbs of a driver are offered over MQTT, as which Home Assistant entity (the
 * driver's `fields.entities`), and how a `…/set` message becomes a `worker.control()` call.
 *
 * Topics, under `<prefix>/<device>/`:
 * - switch: `<path>/<target>/set` (ON/OFF/1/0, any case), `<path>/<target>/state` (ON/OFF),
 *   `<path>/<target>/result` (JSON: ok, verb, args, message or error, time);
 * - number: `<path>/set` (a number), `<path>/state`, `<path>/result`.
 * Switch targets (outlet numbers) are found in the collected points (the series tag); a switch
 * is announced only where the driver's `control.prepare` allows switching it.
 */
import type { ControlEntity, Driver } from '../devices/types.js';

/** What a driver offers over MQTT (docs/fields.md: `entities`): switches and numbers. */
export type CommandSpec = ControlEntity;

export function commandSpecs(driver: Pick<Driver, 'fields'>): readonly CommandSpec[] {
  return driver.fields?.entities ?? [];
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

export type ParsedCommand = { ok: true; device: string; spec: CommandSpec; target?: string; verb: string; args: string[]; base: string } | { ok: false; reason: string };

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
