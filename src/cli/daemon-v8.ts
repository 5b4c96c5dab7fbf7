/**
 * The daemons (`run`, `demo`) without V8's optimising compiler (issue 24), with its baseline one.
 *
 * A worker runs well under a millisecond of JavaScript a second. TurboFan compiles its hot
 * functions anyway, and its code, its compile zones and the compiler's own pages of the node
 * binary were a good part of an every-device worker's resident memory, and of what kept growing
 * after start-up (the soak's heap snapshots found only code). Side by side, 90 s, every simulated
 * device each second: peak RSS 89.8–91.5 MB with both compilers, 79.6–79.7 MB interpreted.
 * Sparkplug, the baseline compiler, stays (issue 20): it translates bytecode one to one, without
 * feedback or zones, and where 32 gateways answer within a millisecond or two the worker has to
 * handle 32 replies back to back: interpreted ≈ 95 µs each, so the last waited ≈ 3 ms behind the
 * others; with Sparkplug ≈ 60 µs, and the worker keeps up with the replies as they arrive
 * (modbus-tcp, 32 gateways: the slowest poll 1.059× against 1.076× the lone gateway's, alternating
 * rounds). Its price, measured the same day: every simulated device, 45 s, peak RSS +0.7 to +1.6 MB
 * (65.5/66.8/67.2 against 64.8/66.1/65.6); poll-cpu the same (1.130 against 1.134 ms a poll).
 * The price of no TurboFan is bulk work inside a daemon: encoding a long backlog runs at ~100k
 * points/s instead of ~500k/s (encoder bench, interpreted), still several times what a Pi's worker
 * collects in a day per minute of catch-up. RegExps and WebAssembly (undici's HTTP parser) keep
 * their own compilers: this is not --jitless.
 *
 * Every other verb (drain, backfill, decode, itho convert-par ...) gets TurboFan back before it
 * starts (program.ts), and so does a daemon whose config has an `mqtt` section (run.ts): the MQTT
 * output formats every reading of each batch, and interpreted its share of the worker's CPU
 * tripled (mqtt-cpu, BENCH_INFLUX=0: 1.02× → 1.12×). A daemon started with `--turbofan`/`--opt`
 * or `--sparkplug`/`--no-sparkplug` keeps what it asked for: node's own flags (`node --turbofan
 * $(command -v wattline) run`); Node refuses V8 flags in NODE_OPTIONS.
 * main.ts imports this module before the CLI loads.
 */
import { setFlagsFromString } from 'node:v8';

const asked = `${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`;
const keep = /--(no-)?(turbofan|opt|sparkplug)\b/.test(asked);

if (!keep) setFlagsFromString('--no-opt');

/*
 * The daemons' old generation: V8 lets it grow by at least 8 MB past what the last major GC
 * kept before it collects again, and keeps those pages committed afterwards. An every-device
 * worker promotes ~50 KB/s of short-lived objects (a poll's promises, buffers, strings), so its
 * old space sat at ~22 MB committed for ~15.5 MB live, the largest part of its RSS above the
 * soak's target. With --optimize-for-size (V8 reads it at each GC) the step is 2 MB and the
 * growth factor at most 1.3: side by side it held ~17 MB committed for minutes at a time, CPU the
 * same within noise (7 minutes). It lowers V8's floor only: now and then V8 still lets it reach
 * 21-22 MB before collecting (README soak). Every other verb, and an MQTT daemon, gets V8's
 * default back (heapGrowsFreely); `node --no-optimize-for-size` keeps it for any daemon.
 * Since the fourth stop of issue 24 took ~6.5 MB of ICU and network-module pages off the worker
 * (core/zone.ts, lazy node:http/https/tls/zlib), this sawtooth's top is the every-device peak
 * (75.3 MB in 18 minutes, old space 19.5 MB committed for ~14.5 live). Measured beside the same
 * build, 7-13 minutes each, not kept: --heap-growing-percent=10 (peak 75.7 against 75.9 MB),
 * --min-semi-space-size=1/2 (76.7/75.9 against 76.5: a larger young generation promotes less but
 * costs what it saves). A full GC forced when the old space held 3 MB more than after the last
 * one (checked every 10 s; 3 GCs in 13.5 minutes) peaked at 72.9 against 75.9 MB, but with CPU
 * 9.70 against 9.48 s (+2.3 %): not kept; it would also need --expose-gc set at run time.
 */
const keepHeap = /--(no-)?optimize[-_]for[-_]size\b/.test(asked);
if (!keepHeap) setFlagsFromString('--optimize-for-size');

let restored = keep;
let heapRestored = keepHeap;

/** From now on V8 compiles hot code as it does by default (verbs that do bulk work). */
export function compilersBack(): void {
  if (restored) return;
  restored = true;
  setFlagsFromString('--opt --sparkplug');
}

/** From now on the old generation grows as V8 decides by default (verbs that do bulk work). */
export function heapGrowsFreely(): void {
  if (heapRestored) return;
  heapRestored = true;
  setFlagsFromString('--no-optimize-for-size');
}
