/**
 * `npm run bench`: every benchmark, one after another, each printing its own lines and a
 * final JSON summary of all. Ratios are measured against a baseline in the same run.
 *   BENCH_ONLY=encoder,outbox npm run bench
 * Each prints its README table row(s) ("README row: | ... |", with the date and load average).
 */
import { pathToFileURL } from 'node:url';

const BENCHES: Record<string, () => Promise<{ run: () => Promise<unknown> }>> = {
  encoder: () => import('./encoder.js'),
  outbox: () => import('./outbox.js'),
  'outbox-check': () => import('./outbox-check.js'),
  'p1-decode': () => import('./p1-decode.js'),
  'hdhk-bus': () => import('./hdhk-bus.js'),
  'modbus-tcp': () => import('./modbus-tcp.js'),
  'vebus-poll': () => import('./vebus-poll.js'),
  'pdu-poll': () => import('./pdu-poll.js'),
  drain: () => import('./drain.js'),
  'run-memory': () => import('./run-memory.js'),
  'itho-datalog': () => import('./itho-datalog.js'),
  'itho-convert': () => import('./itho-convert.js'),
  backfill: () => import('./backfill.js'),
  'mqtt-cpu': () => import('./mqtt-cpu.js'),
  'observe-cost': () => import('./observe-cost.js'),
  'poll-cpu': () => import('./poll-cpu.js'),
  // An hour by default (BENCH_SOAK_S): last, so the quick figures come first.
  soak: () => import('./soak.js'),
};

export async function runAll(only?: string[]): Promise<Record<string, unknown>> {
  const results: Record<string, unknown> = {};
  for (const [name, load] of Object.entries(BENCHES)) {
    if (only && !only.includes(name)) continue;
    console.log(`\n== ${name}`);
    results[name] = await (await load()).run();
  }
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  console.log(JSON.stringify(await runAll(only), null, 2));
}
