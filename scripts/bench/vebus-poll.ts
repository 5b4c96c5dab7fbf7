/**
 * VE.Bus poll benchmark: the real VebusSession (victronVebusDriver.createSession) polling
 * the Multiplus simulator over a paced sim link at 2400 8N1 (src/simulators/paced-link.ts:
 * every byte takes its wire time, and the link keeps a 3.5-character idle gap before every
 * frame), the simulator answering each request after REPLY_DELAY_MS.
 *
 * Baseline, same run: the wire time of the frames the poll actually put on the line (both
 * directions, counted by the link) plus, before each frame but the first, the pause the line
 * imposes anyway: the simulator's reply delay (or the gap, if longer) before a reply, the
 * gap before a request. Target: poll ≤ 1.15 × that. The original slept 0.1 s between steps
 * (§3.7), which alone adds ≥ 300 ms to a poll. Median of ROUNDS polls after a connecting
 * warm-up poll. Prints human lines, then one JSON line.
 */
import { performance } from 'node:perf_hooks';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/log.js';
import { victronVebusDriver } from '../../src/devices/victron-vebus/index.js';
import { createPacedSimLink } from '../../src/simulators/paced-link.js';
import { startVebusSimulator } from '../../src/simulators/victron-vebus.js';
import { loadAverage, median, met, printRow, runIfMain } from './common.js';

const ROUNDS = 9;
const REPLY_DELAY_MS = 20;
const LINE = { baudRate: 2400, dataBits: 8 as const, parity: 'none' as const, stopBits: 1 as const };

export async function run(): Promise<Record<string, number>> {
  const load = loadAverage();
  const link = createPacedSimLink('sim:bench-mp2', LINE);
  await link.device.open();
  const sim = startVebusSimulator(link.device, { idleVersionMs: 0, replyDelayMs: REPLY_DELAY_MS, snapshotMs: 130 });
  const options = victronVebusDriver.options.parse({ requestTimeoutMs: 1000 });
  const session = victronVebusDriver.createSession({ device: 'mp2', options, tags: {}, transport: link.host, clock: systemClock, log: silentLogger() });
  const signal = new AbortController().signal;
  try {
    await session.start();
    const t0 = performance.now();
    await session.collect(signal); // connect: version, address, 11 scales, ESS scan
    const connectMs = performance.now() - t0;

    const times: number[] = [];
    const traffic: { frames: number; bytes: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const before = link.traffic();
      const start = performance.now();
      const res = await session.collect(signal);
      times.push(performance.now() - start);
      const after = link.traffic();
      traffic.push({ frames: after.frames - before.frames, bytes: after.bytes - before.bytes });
      if (res.points.length !== 2) throw new Error(`bench: expected 2 points, got ${res.points.length}`);
    }
    const { frames, bytes } = traffic[0]!;
    if (traffic.some((t) => t.frames !== frames || t.bytes !== bytes)) throw new Error(`bench: traffic differs between polls ${JSON.stringify(traffic)}`);
    // One request without a reply (the F 06 trigger), then request/reply pairs.
    const replies = (frames - 1) / 2;
    const requests = frames - replies;
    const wireMs = bytes * link.charMs + replies * Math.max(REPLY_DELAY_MS, link.gapMs) + (requests - 1) * link.gapMs;
    const pollMs = median(times);
    const ratio = pollMs / wireMs;
    console.log(`vebus-poll: 2400 8N1, char ${link.charMs.toFixed(3)} ms, gap ${link.gapMs.toFixed(2)} ms, reply delay ${REPLY_DELAY_MS} ms, median of ${ROUNDS}`);
    console.log(`  per poll ${frames} frames, ${bytes} bytes; connect (first poll) ${connectMs.toFixed(0)} ms`);
    console.log(`  poll ${pollMs.toFixed(1)} ms; wire + reply delays ${wireMs.toFixed(1)} ms; ratio ${ratio.toFixed(3)} (target <= 1.15: ${ratio <= 1.15 ? 'met' : 'NOT met'})`);
    console.log(`  the original's three 0.1 s sleeps alone: 300 ms more (≈ ${((wireMs + 300) / wireMs).toFixed(2)}× the wire time)`);
    const result = { poll_ms: round(pollMs), wire_ms: round(wireMs), ratio_vs_wire: Number(ratio.toFixed(3)), connect_ms: round(connectMs), frames, bytes };
    printRow(
      [
        `\`vebus-poll\`: one Multiplus poll (${frames} frames, ${bytes} bytes) at 2400 8N1, paced simulator answering after ${REPLY_DELAY_MS} ms`,
        `${pollMs.toFixed(0)} ms`,
        `wire time of those frames + reply delays + line gaps, ${wireMs.toFixed(0)} ms`,
        `${ratio.toFixed(2)}×`,
        `≤ 1.15× ${met(ratio <= 1.15)} (issue 5)`,
      ],
      load,
    );
    console.log(JSON.stringify({ bench: 'vebus-poll', ...result }));
    if (sim.requests.get('V') !== 1) throw new Error('bench: the session reconnected');
    return result;
  } finally {
    sim.stop();
    await session.close();
  }
}

function round(ms: number): number {
  return Number(ms.toFixed(1));
}

runIfMain(import.meta.url, run);
