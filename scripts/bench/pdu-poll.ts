/**
 * PowerWalker PDU poll benchmark: the real PduSession (powerwalkerPduDriver.createSession)
 * polling QGS, QPW, QPVA, QEC, QSR against the PDU simulator on a paced sim link at 2400 8N1
 * (src/simulators/paced-link.ts: every byte takes its wire time, no inter-frame gap on this
 * line) with a fixed reply delay in the simulator.
 *
 * Baseline, same run: the wire time of the bytes that actually crossed the line during the
 * timed polls (counted by the link) plus the simulator's reply delay per command. Target
 * ratio <= 1.15. Also the speed-up over the original library, which waited for
 * its 1 s read timeout on every command (docs/protocols/powerwalker.md §1.1): 5 commands = 5 s a poll.
 * Medians of several rounds; the first poll (QPI, QMD, QVFW) is a warm-up.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/log.js';
import { powerwalkerPduDriver } from '../../src/devices/powerwalker-pdu/index.js';
import { createPacedSimLink } from '../../src/simulators/paced-link.js';
import { startPduSimulator } from '../../src/simulators/powerwalker-pdu.js';
import { loadAverage, median, met, printRow } from './common.js';

const ROUNDS = 7;
const COMMANDS = 5;
const REPLY_DELAY_MS = 10;
const ORIGINAL_MS_PER_COMMAND = 1000;
const LINE = { baudRate: 2400, dataBits: 8 as const, parity: 'none' as const, stopBits: 1 as const, gapMs: 0 };

export async function run(): Promise<Record<string, number | string>> {
  const load = loadAverage();
  const link = createPacedSimLink('sim:pdu-bench', LINE);
  await link.device.open();
  const sim = startPduSimulator(link.device, { replyDelayMs: REPLY_DELAY_MS });
  const session = powerwalkerPduDriver.createSession({
    device: 'pdu',
    options: powerwalkerPduDriver.options.parse({ requestTimeoutMs: 3000 }),
    tags: {},
    transport: link.host,
    clock: systemClock,
    log: silentLogger(),
  });
  await session.start();
  const poll = async () => {
    const res = await session.collect(new AbortController().signal);
    if (res.dropped?.length || res.points.length < 9) throw new Error(`bench: bad poll ${JSON.stringify(res.dropped)}`);
  };
  try {
    await poll(); // warm-up: QPI, QMD, QVFW as well
    const times: number[] = [];
    const before = link.traffic();
    const requestsBefore = sim.requests.length;
    for (let r = 0; r < ROUNDS; r++) {
      const t0 = performance.now();
      await poll();
      times.push(performance.now() - t0);
    }
    const after = link.traffic();
    if (sim.requests.length - requestsBefore !== ROUNDS * COMMANDS) throw new Error('bench: unexpected number of requests');
    const bytesPerPoll = (after.bytes - before.bytes) / ROUNDS;
    const baselineMs = bytesPerPoll * link.charMs + COMMANDS * REPLY_DELAY_MS;
    const pollMs = median(times);
    const originalMs = COMMANDS * ORIGINAL_MS_PER_COMMAND;
    const ratio = pollMs / baselineMs;
    console.log(`pdu-poll: ${bytesPerPoll} bytes a poll at 2400 8N1 (${link.charMs.toFixed(3)} ms a byte) + ${COMMANDS} × ${REPLY_DELAY_MS} ms reply delay = ${baselineMs.toFixed(1)} ms`);
    console.log(`pdu-poll: one full poll ${pollMs.toFixed(1)} ms (median of ${ROUNDS}): ${ratio.toFixed(3)}× the wire (target <= 1.15)`);
    console.log(`pdu-poll: the original's 1 s per command: ${originalMs} ms a poll; ${(originalMs / pollMs).toFixed(1)}× faster`);
    printRow(
      [
        `\`pdu-poll\`: one PowerWalker PDU poll (QGS, QPW, QPVA, QEC, QSR) at 2400 8N1, paced simulator, ${REPLY_DELAY_MS} ms reply delay`,
        `${pollMs.toFixed(0)} ms a poll`,
        `wire time of the ${bytesPerPoll} bytes + ${COMMANDS} × ${REPLY_DELAY_MS} ms, ${baselineMs.toFixed(0)} ms`,
        `${ratio.toFixed(3)}×`,
        `≤ 1.15× ${met(ratio <= 1.15)} (issue 3)`,
      ],
      load,
    );
    printRow([`\`pdu-poll\`, against the original library (1 s read timeout per command)`, `${pollMs.toFixed(0)} ms`, `${COMMANDS} × 1 s = ${originalMs} ms`, `${(originalMs / pollMs).toFixed(1)}× faster`, ''], load);
    return { pollMs: Number(pollMs.toFixed(1)), wireMs: Number(baselineMs.toFixed(1)), ratio: Number(ratio.toFixed(3)), bytesPerPoll, originalMs, speedup: Number((originalMs / pollMs).toFixed(2)) };
  } finally {
    await session.close();
    sim.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await run()));
}
