/**
 * decodeCapture for nut-ups (docs/capture.md): the records of one poll (commands sent, reply chunks
 * received) back into the UPS point. The reply to `LIST VAR <ups>` is the text received
 * after that command up to the next one; the point carries the poll's first record's time,
 * as the live session stamps it.
 */
import type { CaptureRecord, DecodeContext, DecodeResult } from '../types.js';
import type { NutUpsOptions } from './config.js';
import { decodeVariables, deviceInfo } from './tables.js';
import { readingToPoint } from './points.js';
import { parseList } from './codec.js';

export function decodeNutUpsCapture(records: readonly CaptureRecord[], ctx: DecodeContext<NutUpsOptions>): DecodeResult {
  if (records.length === 0) return { points: [], errors: ['empty poll'] };
  const ups = ctx.options.ups;
  const command = `LIST VAR ${ups}`;
  let reply: Buffer[] | null = null;
  let found: Buffer[] | null = null;
  for (const r of records) {
    if (r.direction === 'tx') {
      if (reply && !found) found = reply;
      reply = r.data.toString('utf8').trim() === command ? [] : null;
    } else reply?.push(r.data);
  }
  if (reply && !found) found = reply;
  if (!found) return { points: [], errors: [`no "${command}" in the poll (another UPS name in the capture?)`] };
  let vars: Map<string, string>;
  try {
    vars = parseList('VAR', ups, Buffer.concat(found).toString('utf8'));
  } catch (err) {
    return { points: [], errors: [`${command}: ${(err as Error).message}`] };
  }
  const decoded = decodeVariables(vars);
  const point = readingToPoint({ ups, decoded, info: deviceInfo(vars), timeMs: records[0]!.timeMs }, { device: ctx.device, tags: ctx.tags, infoTags: ctx.options.info === 'tags' });
  // Variables that are not numbers are left out, as live (counted there, not failures).
  return point ? { points: [point], errors: [] } : { points: [], errors: [`upsd listed no usable variable for UPS ${ups}`] };
}
