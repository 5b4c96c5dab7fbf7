/**
 * Re-decoding one poll's archived I²C frames into the points the live session made, with
 * the same timestamp (the poll's first capture record). The replies carry everything but
 * the labels: node id and datatype list come from the same poll's records when the session
 * read them then, otherwise from the cache db named in the options (what the session used);
 * labels from the parameter map named in the options — which is the point of re-decoding
 * after converting a newer map. Within a run (ctx.held: backfill, decode) the map, the plans
 * made from it and the cache db stay open from poll to poll; opening them per poll was most
 * of an Itho backfill's time.
 */
import { existsSync } from 'node:fs';
import { errorMessage, FrameError } from '../../core/errors.js';
import type { CaptureRecord, DecodeContext, DecodeResult, HeldHandles } from '../types.js';
import { IdentityCache } from './cache.js';
import { checkReply, CLASSES, type MessageKind } from './codec.js';
import type { IthoWpuOptions } from './config.js';
import { ParameterMap } from './tables-parameter-map.js';
import { countersPoint, datalogPoint, makePlan, type DatalogPlan } from './points.js';

/** Plans kept per map (a few node id + datatype lists in practice; a bound against odd input). */
const MAX_PLANS = 64;

/** A parameter map with the plans made from it. */
class OpenMap {
  private readonly plans = new Map<string, DatalogPlan>();
  constructor(private readonly map: ParameterMap) {}

  plan(nodeid: Buffer, datatype: Buffer): DatalogPlan {
    const key = `${nodeid.toString('hex')} ${datatype.toString('hex')}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = makePlan(this.map, nodeid, datatype);
      if (this.plans.size >= MAX_PLANS) this.plans.clear();
      this.plans.set(key, plan);
    }
    return plan;
  }

  close(): void {
    this.map.close();
  }
}

/** `open()` kept for the run when there is one, else added to `owned` (closed by the caller). */
function opened<T extends { close(): void }>(held: HeldHandles | undefined, key: string, open: () => T, owned: { close(): void }[]): T {
  if (held) return held.get(key, open);
  const h = open();
  owned.push(h);
  return h;
}

function kindOf(frame: Buffer): MessageKind | undefined {
  if (frame.length < 3) return undefined;
  for (const [kind, [hi, lo]] of Object.entries(CLASSES)) if (frame[1] === hi && frame[2] === lo) return kind as MessageKind;
  return undefined;
}

export function decodeIthoCapture(records: readonly CaptureRecord[], ctx: DecodeContext<IthoWpuOptions>): DecodeResult {
  const errors: string[] = [];
  if (records.length === 0) return { points: [], errors: ['no capture records'] };
  const replies: Partial<Record<MessageKind, Buffer>> = {};
  records.forEach((r, i) => {
    if (r.direction !== 'rx') return;
    const kind = kindOf(r.data);
    if (!kind) {
      errors.push(`record ${i}: reply of unknown class (${r.data.subarray(0, 3).toString('hex')}); skipped`);
      return;
    }
    try {
      replies[kind] = checkReply(r.data, kind);
    } catch (err) {
      // The live session skipped these too (bad checksum, wrong source, ...) and retried.
      if (err instanceof FrameError) errors.push(`record ${i}: ${kind} reply: ${err.message}; skipped`);
      else throw err;
    }
  });
  if (!replies.datalog) return { points: [], errors: [...errors, `no valid datalog reply among ${records.length} records`] };

  const owned: { close(): void }[] = [];
  try {
    const { parameterMap, cacheDb } = ctx.options;
    const map = opened(ctx.held, `itho-wpu map ${parameterMap}`, () => new OpenMap(ParameterMap.open(parameterMap)), owned);
    let nodeid = replies.nodeid;
    let datatype = replies.datatype;
    if (!nodeid || !datatype) {
      if (!existsSync(cacheDb)) return { points: [], errors: [...errors, `${ctx.device}: no node id / datatype in these records, and no cache ${cacheDb}`] };
      const cache = opened(ctx.held, `itho-wpu cache ${cacheDb}`, () => IdentityCache.open(cacheDb), owned);
      const cached = cache.get(ctx.device);
      if (!cached) return { points: [], errors: [...errors, `${ctx.device}: no node id / datatype in these records nor in the cache ${cacheDb}`] };
      nodeid ??= cached.nodeid;
      datatype ??= cached.datatype;
    }
    const plan = map.plan(nodeid, datatype);
    const timeMs = records[0]!.timeMs;
    const pctx = { device: ctx.device, tags: ctx.tags };
    const built = datalogPoint(plan, replies.datalog, timeMs, pctx);
    if (replies.counters) {
      const p = countersPoint(plan, replies.counters, timeMs, pctx);
      if (p) built.points.push(p);
    }
    return { points: built.points, errors };
  } catch (err) {
    return { points: [], errors: [...errors, `${ctx.device}: ${errorMessage(err)}`] };
  } finally {
    for (const h of owned) h.close();
  }
}
