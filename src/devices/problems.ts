/**
 * What a decoder did not understand in one reading: an unknown state or enum
 * value, an unknown unit, an unparseable time, a scale that makes no sense. The field is
 * left out (never stored as if it were a value), the rest of the reading still goes out,
 * and each problem is counted by reason (CollectResult.dropped, `wattline devices`) and
 * logged with its detail by the session.
 */
import type { Point } from '../core/point.js';
import { declaredField } from './fields.js';
import type { DriverFields, FieldSpec, MeasurementFields } from './types.js';

export interface FieldProblem {
  /** Short and stable: the CollectResult.dropped reason (`unknown state`, `bad scale`). */
  reason: string;
  /** One line with the field and the raw value: what the log and `decode` show. */
  detail: string;
  /** Where it was, when the decoder knows (1-based line of a telegram). */
  line?: number;
}

/** Problems counted by reason, in first-seen order, for CollectResult.dropped. */
export function tally(problems: readonly FieldProblem[]): { reason: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const p of problems) counts.set(p.reason, (counts.get(p.reason) ?? 0) + 1);
  return [...counts].map(([reason, count]) => ({ reason, count }));
}

/**
 * Readings outside the physical range their driver declares (FieldSpec.min/max in
 * `<id>/fields.ts`): a 655 A inverter current, a 120 % state of charge. Such a field is left
 * out of its point (a point left with no field is left out whole) and becomes a problem
 * `out of range`; everything else goes out. Pure; the points passed in are not changed.
 */
export function withoutImplausible(points: readonly Point[], fields: DriverFields | undefined): { points: Point[]; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  if (!fields) return { points: [...points], problems };
  const out: Point[] = [];
  for (const point of points) {
    const declared = fields.measurements[point.measurement];
    if (!declared) {
      out.push(point);
      continue;
    }
    let kept: Point['fields'] | undefined;
    for (const name in point.fields) {
      const spec = rangeOf(declared, name);
      if (spec === null) continue;
      const value = point.fields[name];
      const n = typeof value === 'number' ? value : typeof value === 'object' ? Number(value.value) : undefined;
      if (n === undefined) continue;
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        kept ??= { ...point.fields };
        delete kept[name];
        problems.push({ reason: 'out of range', detail: `${point.measurement}.${name}=${n} is outside ${spec.min ?? '-∞'}…${spec.max ?? '∞'}${spec.unit ? ` ${spec.unit}` : ''}` });
      }
    }
    if (!kept) out.push(point);
    else if (Object.keys(kept).length > 0) out.push({ ...point, fields: kept });
  }
  return { points: out, problems };
}

/**
 * Per declared measurement, each field name's spec when it has a range, else null: the same
 * few field names come on every poll, and a pattern-declared field would otherwise run its
 * regular expressions (and build its spec) for every field of every point. Bounded per
 * measurement: cleared when full.
 */
const ranges = new WeakMap<MeasurementFields, Map<string, FieldSpec | null>>();
const RANGES_PER_MEASUREMENT = 1024;

function rangeOf(declared: MeasurementFields, name: string): FieldSpec | null {
  let known = ranges.get(declared);
  if (known === undefined) ranges.set(declared, (known = new Map()));
  let spec = known.get(name);
  if (spec === undefined) {
    const s = declaredField(declared, name);
    spec = s && (s.min !== undefined || s.max !== undefined) ? s : null;
    if (known.size >= RANGES_PER_MEASUREMENT) known.clear();
    known.set(name, spec);
  }
  return spec;
}
