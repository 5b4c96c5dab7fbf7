/**
 * Replies → points. `itho_wpu`: one field per datalog entry, keyed by the map's name
 * lower-cased; fields whose type code has decimals are floats (temperatures, pressures),
 * whole-number codes are integers (states, flags, on/off outputs, percentages, hours), so
 * a field's type is fixed by its type code and never changes between polls.
 * `itho_wpu_counters`: one integer field per counter (counters_vN names), on its own
 * measurement so its names can never collide with datalog names.
 */
import { int, msToNs, type FieldValue, type Point } from '../../core/point.js';
import { compileLayout, decodeCounters, decodeDatalog, decodeNodeId, type DatalogLayout, type NodeId } from './codec.js';
import { hex } from './datatypes.js';
import { fieldKeys, labelsFor, type Label, type ParameterMap } from './parameter-map.js';

export const MEASUREMENT = 'itho_wpu';
export const COUNTERS_MEASUREMENT = 'itho_wpu_counters';

/** What decoding a datalog needs, compiled once per datatype list and list version. */
export interface DatalogPlan {
  nodeid: NodeId;
  labels: Label[];
  layout: DatalogLayout;
  counterLabels: Label[];
}

export function makePlan(map: ParameterMap, nodeidPayload: Uint8Array, datatypePayload: Uint8Array): DatalogPlan {
  const nodeid = decodeNodeId(nodeidPayload);
  const labels = labelsFor(map, nodeid.listVersion, datatypePayload.length);
  const layout = compileLayout([...datatypePayload], (i) => `field ${labels[i]!.key}`);
  return { nodeid, labels, layout, counterLabels: map.counters(nodeid.listVersion) };
}

export interface PointContext {
  device: string;
  tags: Record<string, string>;
}

export interface Built {
  points: Point[];
  dropped: { reason: string; count: number }[];
}

export function datalogPoint(plan: DatalogPlan, payload: Uint8Array, timeMs: number, ctx: PointContext): Built {
  const values = decodeDatalog(payload, plan.layout);
  const fields: Record<string, FieldValue> = {};
  const dropped: { reason: string; count: number }[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const t = plan.layout.types[i]!;
    const key = plan.labels[i]!.key;
    if (v === undefined) {
      dropped.push({ reason: `${key}: type code ${hex(t.code)} has a known width but no known format; skipped`, count: 1 });
      continue;
    }
    fields[key] = t.decimals > 0 ? v : int(v);
  }
  return { points: [{ measurement: MEASUREMENT, tags: { ...ctx.tags, device: ctx.device }, fields, time: msToNs(timeMs) }], dropped };
}

export function countersPoint(plan: DatalogPlan, payload: Uint8Array, timeMs: number, ctx: PointContext): Point | undefined {
  const values = decodeCounters(payload);
  const keys = plan.counterLabels.length > 0 ? plan.counterLabels.map((l) => l.key) : fieldKeys(values.map((_, i) => `counter_${i}`));
  const fields: Record<string, FieldValue> = {};
  values.forEach((v, i) => {
    fields[keys[i] ?? `counter_${i}`] = int(v);
  });
  if (Object.keys(fields).length === 0) return undefined;
  return { measurement: COUNTERS_MEASUREMENT, tags: { ...ctx.tags, device: ctx.device }, fields, time: msToNs(timeMs) };
}

/** `Title (unit) (name)`, the original's display form (protocols.md §4.5 step 4). */
export function display(label: Label): string {
  const title = (label.title ?? label.name ?? '').toLowerCase().replace(/(^|\s)\S/g, (c) => c.toUpperCase());
  return `${title}${label.unit ? ` (${label.unit})` : ''} (${label.key})`;
}
