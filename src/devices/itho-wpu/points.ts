/**
 * Replies → points. `itho_wpu`: one field per datalog entry, keyed by the map's name
 * lower-cased; fields whose type code has decimals are floats (temperatures, pressures),
 * whole-number codes are integers (states, flags, on/off outputs, percentages, hours), so
 * a field's type is fixed by its type code and never changes between polls.
 * `itho_wpu_counters`: one integer field per counter (counters_vN names), on its own
 * measurement so its names can never collide with datalog names.
 */
import { FrameError } from '../../core/errors.js';
import { int, msToNs, type FieldValue, type IntField, type Point } from '../../core/point.js';
import { compileLayout, decodeCounters, decodeNodeId, type DatalogLayout, type NodeId } from './codec.js';
import { hex, type DataType } from './tables.js';
import { fieldKeys, labelsFor, type Label, type ParameterMap } from './tables-parameter-map.js';

export const MEASUREMENT = 'itho_wpu';
export const COUNTERS_MEASUREMENT = 'itho_wpu_counters';

type FieldsConstructor = new (payload: Uint8Array, int: (v: number) => IntField) => Record<string, FieldValue>;

/** What decoding a datalog needs, compiled once per datatype list and list version. */
export interface DatalogPlan {
  nodeid: NodeId;
  labels: Label[];
  layout: DatalogLayout;
  counterLabels: Label[];
  /** Reads every field of a datalog payload into a fields object (see compileFields). */
  Fields: FieldsConstructor;
  /** Positions whose code has no known format (skipped, counted). */
  opaque: number[];
}

/**
 * IntField is immutable, so one instance per small value serves every poll: a datalog has
 * ~70 integer fields, and a BigInt per field per poll was a large share of decoding time.
 */
const SMALL_INTS: IntField[] = [];
function cachedInt(v: number): IntField {
  if (v >= 0 && v < 65536) return (SMALL_INTS[v] ??= int(v));
  return int(v);
}

/** JS expression reading one field's raw integer from payload `p` (big-endian, two's complement). */
function rawExpr(t: DataType, o: number): string {
  switch (t.width) {
    case 1:
      return t.signed ? `(p[${o}] << 24 >> 24)` : `p[${o}]`;
    case 2:
      return t.signed ? `(((p[${o}] << 8) | p[${o + 1}]) << 16 >> 16)` : `((p[${o}] << 8) | p[${o + 1}])`;
    default: {
      const word = `(p[${o}] << 24 | p[${o + 1}] << 16 | p[${o + 2}] << 8 | p[${o + 3}])`;
      return t.signed ? word : `(${word} >>> 0)`;
    }
  }
}

/**
 * The datalog decoder compiled for one datatype list: a constructor that reads every field
 * straight from the payload and sets it, always in the same order. V8 then gives all datalog
 * points one hidden class, where adding 92 keys one by one to `{}` leaves a slow dictionary
 * object (scripts/bench/itho-datalog.ts). Only the table's numbers and the keys (through
 * JSON.stringify, as string literals) enter the code. Its prototype is Object.prototype, so
 * the fields are a plain object to every reader. Same results as codec.decodeDatalog (a
 * property test checks it).
 */
function compileFields(layout: DatalogLayout, labels: readonly Label[]): FieldsConstructor {
  const body = layout.types
    .map((t, i) => {
      if (t.opaque) return '';
      const raw = rawExpr(t, layout.offsets[i]!);
      const value = t.decimals > 0 ? `${raw} / ${10 ** t.decimals}` : `I(${raw})`;
      return `this[${JSON.stringify(labels[i]!.key)}] = ${value};`;
    })
    .join('\n');
  const Fields = new Function('p', 'I', body) as unknown as FieldsConstructor;
  (Fields as unknown as { prototype: object }).prototype = Object.prototype;
  return Fields;
}

export function makePlan(map: ParameterMap, nodeidPayload: Uint8Array, datatypePayload: Uint8Array): DatalogPlan {
  const nodeid = decodeNodeId(nodeidPayload);
  const labels = labelsFor(map, nodeid.listVersion, datatypePayload.length);
  const layout = compileLayout([...datatypePayload], (i) => `field ${labels[i]!.key}`);
  return planFrom(nodeid, labels, layout, map.counters(nodeid.listVersion));
}

/** A plan from its parts (makePlan reads them from the map; tests build them directly). */
export function planFrom(nodeid: NodeId, labels: Label[], layout: DatalogLayout, counterLabels: Label[]): DatalogPlan {
  return { nodeid, labels, layout, counterLabels, Fields: compileFields(layout, labels), opaque: layout.types.flatMap((t, i) => (t.opaque ? [i] : [])) };
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
  if (payload.length !== plan.layout.length) {
    throw new FrameError(`datalog of ${payload.length} bytes, but the datatype list's ${plan.layout.types.length} fields need ${plan.layout.length}`, 'length');
  }
  const fields = new plan.Fields(payload, cachedInt);
  const dropped = plan.opaque.map((i) => ({ reason: `${plan.labels[i]!.key}: type code ${hex(plan.layout.codes[i]!)} has a known width but no known format; skipped`, count: 1 }));
  return { points: [{ measurement: MEASUREMENT, tags: { ...ctx.tags, device: ctx.device }, fields, time: msToNs(timeMs) }], dropped };
}

export function countersPoint(plan: DatalogPlan, payload: Uint8Array, timeMs: number, ctx: PointContext): Point | undefined {
  const values = decodeCounters(payload);
  const keys = plan.counterLabels.length > 0 ? plan.counterLabels.map((l) => l.key) : fieldKeys(values.map((_, i) => `counter_${i}`));
  const fields: Record<string, FieldValue> = {};
  values.forEach((v, i) => {
    fields[keys[i] ?? `counter_${i}`] = cachedInt(v);
  });
  if (Object.keys(fields).length === 0) return undefined;
  return { measurement: COUNTERS_MEASUREMENT, tags: { ...ctx.tags, device: ctx.device }, fields, time: msToNs(timeMs) };
}

/** `Title (unit) (name)`, the original's display form (docs/protocols/itho-wpu.md §4.5 step 4). */
export function display(label: Label): string {
  const title = (label.title ?? label.name ?? '').toLowerCase().replace(/(^|\s)\S/g, (c) => c.toUpperCase());
  return `${title}${label.unit ? ` (${label.unit})` : ''} (${label.key})`;
}
