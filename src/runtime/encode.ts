/**
 * One collection's points as lines for the outbox: readings outside their driver's declared
 * range left out, then line protocol; every left-out point or part counted by reason.
 */
import { encodePoints } from '../core/line-protocol.js';
import type { Logger } from '../core/log.js';
import type { Point, Precision } from '../core/point.js';
import type { CollectResult, Driver } from '../devices/types.js';
import { tally, withoutImplausible } from '../devices/problems.js';

export interface Encoded {
  points: Point[];
  lines: string[];
  dropped: { reason: string; count: number }[];
}

export function encodeCollected(device: string, result: CollectResult, fields: Driver['fields'], precision: Precision, log: Logger): Encoded {
  let points = result.points;
  const drops = [...(result.dropped ?? [])];
  // A reading outside the range its driver declares (min/max, docs/fields.md) is that field's problem, not a value.
  const plausible = withoutImplausible(points, fields);
  if (plausible.problems.length > 0) {
    for (const p of plausible.problems) log.warn({ device, problem: p.detail }, 'reading outside its physical range: left out');
    points = plausible.points;
    drops.push(...tally(plausible.problems));
  }
  const { lines, dropped } = encodePoints(points, precision);
  if (dropped.length > 0) {
    // scope 'tag'/'field': the point was written without that part; 'point': not written.
    for (const d of dropped) log.warn({ device, scope: d.scope, reason: d.reason }, d.scope === 'point' ? 'point dropped' : `${d.scope} dropped`);
    const lost = dropped.filter((d) => d.scope === 'point').length;
    if (lost > 0) drops.push({ reason: 'unencodable point', count: lost });
    if (lost < dropped.length) drops.push({ reason: 'unencodable tag or field', count: dropped.length - lost });
  }
  return { points, lines, dropped: drops };
}
