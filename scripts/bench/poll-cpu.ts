/**
 * CPU per HDHK poll: `wattline run` polling one HDHK unit (16 channels, one
 * Modbus request for registers 8-23, 16 points plus the phase sums) every second over a
 * socat PTY from Debian's pymodbus RTU slave, with the outbox at `synchronous: full` and at
 * `normal`, side by side with collectd 5.12's modbus plugin reading the same 16 registers from
 * its own identical slave over its own PTY, every second, as four UInt64 blocks of four
 * registers (its largest type: four requests a poll), writing them with its csv plugin.
 * CPU is every thread's run time (/proc/<pid>/task/<tid>/schedstat) over the same window after a warm-up; polls
 * are the worker's device_status runs and collectd's csv rows.
 * Beside them, for each `synchronous`, poll-floor.ts: the same request and the same commit with no
 * project code, on its own slave — how much of a poll is Node plus a durable SQLite commit, and
 * how much is wattline's own code (printed as "above its floor").
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench/poll-cpu.js
 *   BENCH_SECONDS=60 BENCH_WARMUP_S=10 node dist/scripts/bench/poll-cpu.js
 *   BENCH_COMPARE_ROOT=/tmp/main-build node dist/scripts/bench/poll-cpu.js   (adds that build's workers, A/B;
 *     BENCH_COMPARE_LABEL="main (abc1234)" names them in the rows)
 *   BENCH_COMPARE_FLAGS=--lite-mode node dist/scripts/bench/poll-cpu.js      (adds workers run with those node flags, A/B)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { hdhkRegisters, startHdhkSlave } from '../../test/helpers/hdhk-slave.js';
import { ROOT } from '../../test/helpers/paths.js';
import { startPtyPair, type PtyPair } from '../../test/helpers/pty.js';
import { cpuSeconds, hdhkSixteenChannels, loadAverage, met, printRow, runIfMain, stopChild } from './common.js';

const COLLECTD = '/usr/sbin/collectd';
const CURRENTS = Array.from({ length: 16 }, (_, i) => 100 * (i + 1));

interface Contender {
  name: string;
  child: ChildProcess;
  polls: () => number;
}

/**
 * `root`: the project folder whose dist/ runs (another build for an A/B run: BENCH_COMPARE_ROOT).
 * `schedule`: the job's cron (the idle worker's is due once a year).
 */
function startWattline(dir: string, port: string, synchronous: 'full' | 'normal', root = ROOT, label = 'wattline', nodeFlags = process.env.BENCH_NODE_FLAGS, schedule = '* * * * * *'): Contender {
  mkdirSync(dir);
  const config = join(dir, 'wattline.yaml');
  writeFileSync(
    config,
    stringify({
      outbox: { path: 'outbox.sqlite', synchronous },
      devices: [{ name: 'board', driver: 'hdhk', port: { path: port }, schedule, options: hdhkSixteenChannels() }],
    }),
  );
  // BENCH_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the workers.
  const flags = (nodeFlags ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...flags, join(root, 'dist/src/cli/main.js'), '--config', config, '--log-level', 'warn', 'run'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  return { name: `${label}, synchronous: ${synchronous}`, child, polls: () => statusRuns(join(dir, 'outbox.sqlite')) };
}

/** poll-floor.ts: the same poll and commit with no project code, on the daemon's V8 flags (daemon-v8.ts). */
function startFloor(dir: string, port: string, synchronous: 'full' | 'normal'): Contender {
  mkdirSync(dir);
  const outbox = join(dir, 'outbox.sqlite');
  const child = spawn(process.execPath, ['--no-opt', '--no-sparkplug', '--optimize-for-size', join(ROOT, 'dist/scripts/bench/poll-floor.js'), port, outbox, synchronous], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { name: `${FLOOR}, synchronous: ${synchronous}`, child, polls: () => statusRuns(outbox) };
}

const FLOOR = 'floor (poll-floor.ts: Node + better-sqlite3, the same request and commit, no project code)';

/** Successful runs so far in an outbox's device_status ('board'). */
function statusRuns(path: string): number {
  if (!existsSync(path)) return 0;
  const db = new Database(path, { readonly: true });
  try {
    const row = db.prepare("SELECT runs, failures FROM device_status WHERE device = 'board'").get() as { runs: number; failures: number } | undefined;
    return row ? row.runs - row.failures : 0;
  } finally {
    db.close();
  }
}

function startCollectd(dir: string, port: string): Contender {
  mkdirSync(dir);
  const csv = join(dir, 'csv');
  const blocks = [0, 1, 2, 3].map((b) => `  <Data "block${b}">\n    RegisterBase ${8 + 4 * b}\n    RegisterType UInt64\n    RegisterCmd ReadHolding\n    Type gauge\n    Instance "block${b}"\n  </Data>`);
  const conf = `Hostname "bench"
FQDNLookup false
BaseDir "${dir}"
PIDFile "${join(dir, 'collectd.pid')}"
TypesDB "/usr/share/collectd/types.db"
Interval 1
AutoLoadPlugin false
LoadPlugin modbus
LoadPlugin csv
<Plugin csv>
  DataDir "${csv}"
  StoreRates false
</Plugin>
<Plugin modbus>
${blocks.join('\n')}
  <Host "hdhk">
    Device "${port}"
    Baudrate 9600
    Interval 1
    <Slave 1>
      Instance "board"
${[0, 1, 2, 3].map((b) => `      Collect "block${b}"`).join('\n')}
    </Slave>
  </Host>
</Plugin>
`;
  writeFileSync(join(dir, 'collectd.conf'), conf);
  const child = spawn(COLLECTD, ['-f', '-C', join(dir, 'collectd.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d: Buffer) => {
    const text = d.toString();
    if (/error|fail/i.test(text)) process.stderr.write(`collectd: ${text}`);
  });
  // The csv plugin writes one row per value into a file per data block (and per day).
  const polls = (): number => {
    const folder = join(csv, 'hdhk', 'modbus-board');
    if (!existsSync(folder)) return 0;
    const block0 = readdirSync(folder).filter((f) => f.startsWith('gauge-block0'));
    return block0.reduce(
      (n, f) =>
        n +
        readFileSync(join(folder, f), 'utf8')
          .split('\n')
          .filter((l) => /^\d/.test(l)).length,
      0,
    );
  };
  return { name: 'collectd 5.12 modbus + csv', child, polls };
}

export async function run(): Promise<Record<string, unknown>> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 300);
  const warmupS = Number(process.env.BENCH_WARMUP_S ?? 30);
  const root = mkdtempSync(join(tmpdir(), 'wattline-bench-poll-cpu-'));
  const pairs: PtyPair[] = [];
  const slaves: ChildProcess[] = [];
  const contenders: Contender[] = [];
  try {
    const port = async (name: string): Promise<string> => {
      const pair = await startPtyPair(mkdtempSync(join(root, `${name}-pty-`)));
      pairs.push(pair);
      slaves.push(await startHdhkSlave(pair.a, { '1': hdhkRegisters(628, CURRENTS) }));
      return pair.b;
    };
    contenders.push(startWattline(join(root, 'full'), await port('full'), 'full'));
    contenders.push(startWattline(join(root, 'normal'), await port('normal'), 'normal'));
    contenders.push(startCollectd(join(root, 'collectd'), await port('collectd')));
    for (const sync of ['full', 'normal'] as const) contenders.push(startFloor(join(root, `floor-${sync}`), await port(`floor-${sync}`), sync));
    // Before/after side by side: BENCH_COMPARE_ROOT=<another build's project folder>, and/or
    // BENCH_COMPARE_FLAGS=<node flags for the compared workers>.
    const compareRoot = process.env.BENCH_COMPARE_ROOT;
    const compareFlags = process.env.BENCH_COMPARE_FLAGS;
    if (compareRoot || compareFlags) {
      // BENCH_COMPARE_LABEL names the compared build in the printed rows (e.g. "main before this stop (aafcb94)").
      const label = process.env.BENCH_COMPARE_LABEL ?? `compare (${[compareRoot, compareFlags].filter(Boolean).join(' ')})`;
      for (const sync of ['full', 'normal'] as const) {
        contenders.push(startWattline(join(root, `compare-${sync}`), await port(`compare-${sync}`), sync, compareRoot ?? ROOT, label, compareFlags ?? process.env.BENCH_NODE_FLAGS));
      }
    }
    // What "ms a poll" holds that is not the poll: the same worker, port open, its job due once a year.
    const idle = startWattline(join(root, 'idle'), await port('idle'), 'full', ROOT, 'wattline idle (port open, job due once a year)', process.env.BENCH_NODE_FLAGS, '0 0 0 1 1 *');
    contenders.push(idle);
    const polling = contenders.filter((c) => c !== idle);
    await new Promise((r) => setTimeout(r, warmupS * 1000));
    const load = loadAverage();
    const idleStart = cpuSeconds(idle.child.pid!) * 1000;
    const start = polling.map((c) => ({ cpu: cpuSeconds(c.child.pid!) * 1000, polls: c.polls() }));
    await new Promise((r) => setTimeout(r, seconds * 1000));
    for (const c of contenders) if (c.child.exitCode !== null) throw new Error(`poll-cpu: ${c.name} exited with ${c.child.exitCode}`);
    const idleMsPerS = Math.round(((cpuSeconds(idle.child.pid!) * 1000 - idleStart) / seconds) * 1000) / 1000;
    const results = polling.map((c, i) => {
      const polls = c.polls() - start[i]!.polls;
      const cpu = cpuSeconds(c.child.pid!) * 1000 - start[i]!.cpu;
      return { name: c.name, polls, cpu_ms: Math.round(cpu), ms_per_poll: polls > 0 ? Math.round((cpu / polls) * 1000) / 1000 : Number.NaN };
    });
    const collectd = results[2]!;
    for (const r of results) console.log(`${r.name}: ${r.cpu_ms} ms CPU over ${r.polls} polls = ${r.ms_per_poll} ms a poll`);
    console.log(`${idle.name}: ${idleMsPerS} ms CPU a second`);
    for (const [i, sync] of (['full', 'normal'] as const).entries()) {
      const above = results[i]!.ms_per_poll - results[3 + i]!.ms_per_poll;
      console.log(`wattline above its floor, synchronous: ${sync}: ${above.toFixed(3)} ms a poll (the floor is ${(results[3 + i]!.ms_per_poll / collectd.ms_per_poll).toFixed(2)}× collectd)`);
    }
    for (const r of [...results.slice(0, 2), ...results.slice(3)]) {
      const ratio = r.ms_per_poll / collectd.ms_per_poll;
      const mine = r.name.startsWith('wattline');
      printRow(
        [
          `\`poll-cpu\`: one HDHK unit (16 channels, one request) every second over a socat PTY from pymodbus, CPU over ${seconds} s, ${r.name}`,
          `${r.ms_per_poll} ms a poll`,
          `${collectd.name}, same run, its own identical slave: ${collectd.ms_per_poll} ms a poll (4 requests)`,
          `${ratio.toFixed(2)}×`,
          mine && r.name.endsWith('full') ? `≤ 2× ${met(ratio <= 2)}` : '',
        ],
        load,
      );
    }
    return { bench: 'poll-cpu', seconds, warmup_s: warmupS, load_start: load, load_end: loadAverage(), results, idle_ms_per_s: idleMsPerS };
  } finally {
    await Promise.all(contenders.map((c) => stopChild(c.child)));
    await Promise.all(slaves.map((s) => stopChild(s)));
    for (const p of pairs) await p.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, async () => console.log(JSON.stringify(await run())));
