/**
 * Archived exchanges of one poll → the points the live session made from them, with the
 * poll's time (its first record's). Records come as the link wrote them: `tx` request, `rx`
 * reply line; a request without its reply is reported, not guessed at.
 */
import { errorMessage } from '../../core/errors.js';
import type { CaptureRecord, DecodeContext, DecodeResult } from '../types.js';
import { decodeReply } from './codec.js';
import type { BlueprintOptions } from './config.js';
import { readingToPoints } from './points.js';

export function decodeBlueprintCapture(records: readonly CaptureRecord[], ctx: DecodeContext<BlueprintOptions>): DecodeResult {
  const first = records[0];
  if (!first) return { points: [], errors: [] };
  const rx = records.find((r) => r.direction === 'rx');
  if (!rx) return { points: [], errors: [`poll at ${first.timeMs}: a request without its reply`] };
  try {
    return { points: readingToPoints(decodeReply(rx.data.toString('latin1').replace(/\r?\n$/, '')), ctx, first.timeMs), errors: [] };
  } catch (err) {
    return { points: [], errors: [`poll at ${first.timeMs}: ${errorMessage(err)}`] };
  }
}
