import { IntField, UintField, type FieldValue, type Point } from '../core/point.js';
import type { JobReport } from '../runtime/types.js';

/** Points as plain JSON for Zabbix and other monitors: integers as numbers, time as ISO 8601. */
export function pointToJson(p: Point): Record<string, unknown> {
  const fields: Record<string, number | string | boolean> = {};
  for (const [k, v] of Object.entries(p.fields)) fields[k] = fieldToJson(v);
  return { measurement: p.measurement, tags: p.tags, fields, time: new Date(Number(p.time / 1_000_000n)).toISOString() };
}

function fieldToJson(v: FieldValue): number | string | boolean {
  if (v instanceof IntField || v instanceof UintField) {
    const n = Number(v.value);
    return Number.isSafeInteger(n) ? n : v.value.toString();
  }
  return v;
}

export function linesToJson(reports: readonly JobReport[]): Record<string, unknown> {
  return {
    devices: reports.map((r) => ({
      device: r.device,
      ok: r.ok,
      ...(r.error ? { error: r.error } : {}),
      points: r.points.map(pointToJson),
    })),
  };
}
