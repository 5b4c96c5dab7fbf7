/**
 * HDHK bus benchmark: the real HdhkSession (hdhkDriver.createSession, its Modbus client over
 * the transport port) polling 8 units on one RS-485 bus at 9600 8N1, against the HDHK
 * simulator on a paced sim link (src/simulators/paced-link.ts: every byte takes its wire
 * time, a 3.5-character gap before every frame).
 *
 * (a) one bus: measured poll time against the theoretical wire time of the same frames:
 *     per unit a request (8 bytes) and a reply (3 + 2 × registers + 2 bytes), a 3.5-char
 *     gap before every frame but the first, and max(pauseMs, gap) before every request
 *     but the first (pauseMs is 0 here). Target ratio <= 1.2.
 * (b) two buses, 8 units each, polled together through Scheduler.runOnce (two jobs, two
 *     port keys) against the slower bus polled alone. Target ratio <= 1.10.
 * Medians of several rounds; the first poll (registers 0-2 per unit) is a warm-up.
 * Prints human lines, then one JSON line.
 */
import { performance } from 'node:perf_hooks';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/log.js';
import { hdhkDriver } from '../../src/devices/hdhk/index.js';
import { Scheduler } from '../../src/scheduler/index.js';
import { startHdhkSimulator, vendorExampleRegisters, type HdhkSimulator } from '../../src/simulators/hdhk.js';
import { createPacedSimLink, type PacedLink } from '../../src/simulators/paced-link.js';
import type { DeviceSession } from '../../src/devices/types.js';
import { loadAverage, median, met, printRow, runIfMain } from './common.js';

const UNITS = 8;
const ROUNDS = 7;
const REGISTERS = 16; // currents, registers 8-23 (frequency: skip)
const PAUSE_MS = 0;
const LINE = { baudRate: 9600, dataBits: 8 as const, parity: 'none' as const, stopBits: 1 as const };

interface Bus {
  name: string;
  link: PacedLink;
  sim: HdhkSimulator;
  session: DeviceSession;
}

async function bus(name: string): Promise<Bus> {
  const link = createPacedSimLink(`sim:${name}`, LINE);
  await link.device.open();
  const ids = Array.from({ length: UNITS }, (_, i) => i + 1);
  const sim = startHdhkSimulator(link.device, { units: ids.map((id) => ({ id, registers: vendorExampleRegisters() })) });
  const options = hdhkDriver.options.parse({
    pauseMs: PAUSE_MS,
    requestTimeoutMs: 1000,
    units: ids.map((id) => ({ id, channels: { '1': { circuit: `${name}-u${id}-a`, phase: 'L1', voltageV: 230 }, '9': { circuit: `${name}-u${id}-i`, phase: 'L2' } } })),
  });
  const session = hdhkDriver.createSession({ device: name, options, tags: {}, transport: link.host, clock: systemClock, log: silentLogger() });
  await session.start();
  return { name, link, sim, session };
}

async function poll(b: Bus, signal: AbortSignal = new AbortController().signal): Promise<void> {
  const res = await b.session.collect(signal);
  if (res.dropped?.length) throw new Error(`bench: ${b.name} dropped ${JSON.stringify(res.dropped)}`);
  if (res.points.filter((p) => p.measurement === 'hdhk').length !== 2 * UNITS) throw new Error(`bench: ${b.name}: wrong number of points`);
}

/** Theoretical wire time of one poll of `units` units (currents only), ms. */
export function wireTimeMs(link: Pick<PacedLink, 'charMs' | 'gapMs'>, units: number, registers: number, pauseMs: number): number {
  const bytesPerUnit = 8 + (3 + 2 * registers + 2);
  const frames = link.charMs * bytesPerUnit * units;
  const gapsBeforeReplies = units * link.gapMs;
  const gapsBeforeRequests = (units - 1) * Math.max(link.gapMs, pauseMs);
  return frames + gapsBeforeReplies + gapsBeforeRequests;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export async function run(): Promise<Record<string, number | string>> {
  const load = loadAverage();
  const a = await bus('bus-a');
  const b = await bus('bus-b');
  try {
    // Warm-up: the first poll also reads registers 0-2 of every unit.
    await poll(a);
    await poll(b);

    // (a) one bus against the wire.
    const oneBus: number[] = [];
    const before = a.link.traffic();
    for (let r = 0; r < ROUNDS; r++) oneBus.push(await timed(() => poll(a)));
    const after = a.link.traffic();
    const perPoll = { frames: (after.frames - before.frames) / ROUNDS, bytes: (after.bytes - before.bytes) / ROUNDS };
    if (perPoll.frames !== 2 * UNITS || perPoll.bytes !== UNITS * (8 + 5 + 2 * REGISTERS)) throw new Error(`bench: unexpected traffic per poll ${JSON.stringify(perPoll)}`);
    const wire = wireTimeMs(a.link, UNITS, REGISTERS, PAUSE_MS);
    const oneBusMs = median(oneBus);

    // (b) two buses through the scheduler, against each alone.
    const scheduler = new Scheduler({ clock: systemClock, log: silentLogger() });
    for (const x of [a, b]) {
      scheduler.add({ name: x.name, cron: '0 0 1 1 *', portKey: x.link.host.key, timeoutMs: 10_000, run: (signal) => poll(x, signal) });
    }
    const polls = (x: Bus) => x.sim.requests.get(1) ?? 0;
    const runJobs = async (names?: string[]) => {
      const want = [a, b].filter((x) => !names || names.includes(x.name)).map((x) => [x, polls(x) + 1] as const);
      const results = await scheduler.runOnce(names);
      for (const r of results) if (!r.ok) throw new Error(`bench: job ${r.name}: ${r.error}`);
      for (const [x, n] of want) if (polls(x) !== n) throw new Error(`bench: job ${x.name} did not poll afresh`);
    };
    // runOnce reports a job's result before the job has let go of its port and of its
    // "running" slot; a runOnce in that window joins the finished run (its stale result).
    // Wait until the scheduler shows nothing running before the next timed run.
    const settled = async () => {
      while (scheduler.status().some((s) => s.running)) await new Promise((r) => setImmediate(r));
    };
    const both: number[] = [];
    const aAlone: number[] = [];
    const bAlone: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      await settled();
      aAlone.push(await timed(() => runJobs([a.name])));
      await settled();
      bAlone.push(await timed(() => runJobs([b.name])));
      await settled();
      both.push(await timed(() => runJobs()));
    }
    const twoBusesMs = median(both);
    const slowerAloneMs = Math.max(median(aAlone), median(bAlone));

    const ratioWire = oneBusMs / wire;
    const ratioParallel = twoBusesMs / slowerAloneMs;
    console.log(`hdhk-bus: ${UNITS} units per bus, 9600 8N1, ${REGISTERS} registers per unit, pauseMs ${PAUSE_MS}, median of ${ROUNDS}`);
    console.log(`  char ${a.link.charMs.toFixed(3)} ms, gap ${a.link.gapMs.toFixed(3)} ms; per poll ${perPoll.frames} frames, ${perPoll.bytes} bytes`);
    console.log(`  one bus:  ${oneBusMs.toFixed(1)} ms per poll; wire time ${wire.toFixed(1)} ms; ratio ${ratioWire.toFixed(3)} (target <= 1.2: ${ratioWire <= 1.2 ? 'met' : 'NOT met'})`);
    console.log(
      `  two buses via Scheduler.runOnce: ${twoBusesMs.toFixed(1)} ms; alone: ${median(aAlone).toFixed(1)} / ${median(bAlone).toFixed(1)} ms; ratio ${ratioParallel.toFixed(3)} (target <= 1.10: ${ratioParallel <= 1.1 ? 'met' : 'NOT met'})`,
    );
    const result = {
      one_bus_ms: round(oneBusMs),
      wire_ms: round(wire),
      ratio_vs_wire: Number(ratioWire.toFixed(3)),
      two_buses_ms: round(twoBusesMs),
      slower_alone_ms: round(slowerAloneMs),
      ratio_parallel: Number(ratioParallel.toFixed(3)),
    };
    printRow(
      [
        `\`hdhk-bus\`: ${UNITS} units on one bus at 9600 8N1, paced simulator`,
        `${oneBusMs.toFixed(0)} ms a poll`,
        `wire time of the frames + 3.5-char gaps, ${wire.toFixed(0)} ms`,
        `${ratioWire.toFixed(3)}×`,
        `≤ 1.2× ${met(ratioWire <= 1.2)} (issue 4)`,
      ],
      load,
    );
    printRow(
      [
        `\`hdhk-bus\`: two such buses polled together`,
        `${twoBusesMs.toFixed(0)} ms`,
        `the slower bus alone, ${slowerAloneMs.toFixed(0)} ms`,
        `${ratioParallel.toFixed(3)}×`,
        `≤ 1.1× ${met(ratioParallel <= 1.1)} (issue 4)`,
      ],
      load,
    );
    console.log(JSON.stringify({ bench: 'hdhk-bus', ...result }));
    return result;
  } finally {
    for (const x of [a, b]) {
      x.sim.stop();
      await x.session.close();
    }
  }
}

function round(ms: number): number {
  return Number(ms.toFixed(1));
}

runIfMain(import.meta.url, run);
