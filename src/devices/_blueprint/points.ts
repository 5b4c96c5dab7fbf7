/**
 * One reading → points: `blueprint` (tags device + the config's tags), one float field per
 * value the reply carried. The live session and decodeCapture share this, so a re-decoded
 * capture gives the same line.
 */
import { msToNs, type Point } from '../../core/point.js';
import type { Reading } from './codec.js';

export const MEASUREMENT = 'blueprint';

export function readingToPoints(reading: Reading, ctx: { device: string; tags: Record<string, string> }, timeMs: number): Point[] {
  return [{ measurement: MEASUREMENT, tags: { ...ctx.tags, device: ctx.device }, fields: { ...reading }, time: msToNs(timeMs) }];
}
