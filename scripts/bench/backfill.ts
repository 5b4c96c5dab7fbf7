/**
 * Backfill throughput (docs/capture.md): a day of one-second P1 telegrams (86,400; DSMR 5, meter
 * clock set, one `p1` point each) imported with `wattline backfill --driver dsmr-p1 --input`
 * into a real influxd 1.6.7, against a baseline in the same run: `wattline drain` sending the
 * same 86,400 points, pre-encoded (the backfill's own --dry-run output) and already in the
 * outbox. Both are the real CLI end to end; every run gets a fresh influxd; the order
 * alternates between rounds; the points are counted in InfluxDB after each run.
 *
 * Rates are given gross (the whole command) and net of the CLI's start-up (a `drain` of an
 * empty outbox, measured in the same round); the ratio is taken net, per round, median.
 *
 *   npx tsc -p . && node dist/scripts/bench/backfill.js
 *   BENCH_TELEGRAMS=20000 BENCH_ROUNDS=1 node dist/scripts/bench/backfill.js
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openSqliteOutbox } from '../../src/outbox/sqlite-outbox.js';
import { CLI } from '../../test/helpers/cli.js';
import { count, createDatabase, startInfluxd } from '../../test/helpers/influxd.js';
import { p1Log } from '../../test/helpers/p1-log.js';
import { loadAverage, median, met, printRow } from './common.js';

function config(folder: string, url: string, db: string): string {
  mkdirSync(folder, { recursive: true });
  const path = join(folder, 'wattline.yaml');
  writeFileSync(
    path,
    [
      'log: { level: warn }',
      'outbox: { path: outbox.sqlite, synchronous: normal }',
      `influx: { version: 1, url: "${url}", database: ${db}, gzip: false }`,
      'devices:',
      '  - { name: meter, driver: dsmr-p1, port: { path: /dev/ttyP1 } }',
      '',
    ].join('\n'),
  );
  return path;
}

/** Run the CLI to its end; seconds. */
function timed(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`wattline ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return s;
}

export async function run(telegrams = Number(process.env.BENCH_TELEGRAMS ?? 86_400), rounds = Number(process.env.BENCH_ROUNDS ?? 3)): Promise<Record<string, unknown>> {
  const load = loadAverage();
  const dir = mkdtempSync(join(tmpdir(), 'wattline-bench-backfill-'));
  try {
    const log = join(dir, 'p1-day.log');
    writeFileSync(log, p1Log(telegrams));
    // The pre-encoded points: exactly what the backfill writes.
    const dry = spawnSync(process.execPath, [CLI, '--config', config(join(dir, 'dry'), 'http://127.0.0.1:9', 'x'), 'backfill', '--driver', 'dsmr-p1', '--input', log, '--dry-run'], {
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    const lines = dry.stdout.trim().split('\n');
    if (lines.length !== telegrams) throw new Error(`dry run gave ${lines.length} lines for ${telegrams} telegrams: ${dry.stderr}`);

    const rows: { drain_s: number; backfill_s: number; startup_s: number; ratio: number }[] = [];
    for (let round = 0; round < rounds; round++) {
      const influxd = await startInfluxd();
      try {
        await createDatabase(influxd.url, 'drained');
        await createDatabase(influxd.url, 'backfilled');
        const drainCfg = config(join(dir, `r${round}`, 'drain'), influxd.url, 'drained');
        const backfillCfg = config(join(dir, `r${round}`, 'backfill'), influxd.url, 'backfilled');
        const outbox = openSqliteOutbox(join(dir, `r${round}`, 'drain', 'outbox.sqlite'), { maxRows: telegrams * 2, maxBytes: Number.MAX_SAFE_INTEGER });
        for (let i = 0; i < lines.length; i += 10_000) outbox.append(lines.slice(i, i + 10_000), 'ms');
        outbox.close();
        spawnSync('sync');

        const drain = () => timed(['--config', drainCfg, 'drain', '--no-progress']);
        const backfill = () => timed(['--config', backfillCfg, 'backfill', '--driver', 'dsmr-p1', '--input', log, '--no-progress']);
        let drain_s: number;
        let backfill_s: number;
        if (round % 2 === 0) {
          drain_s = drain();
          backfill_s = backfill();
        } else {
          backfill_s = backfill();
          drain_s = drain();
        }
        const startup_s = timed(['--config', drainCfg, 'drain', '--no-progress']); // empty by now
        for (const db of ['drained', 'backfilled']) {
          const n = await count(influxd.url, db, 'p1', 'power_import_w');
          if (n !== telegrams) throw new Error(`${db}: ${n} points in InfluxDB, expected ${telegrams}`);
        }
        const ratio = (drain_s - startup_s) / (backfill_s - startup_s);
        rows.push({ drain_s, backfill_s, startup_s, ratio });
        console.log(
          `round ${round + 1}: drain ${drain_s.toFixed(2)} s, backfill ${backfill_s.toFixed(2)} s, CLI start-up ${startup_s.toFixed(2)} s; ` +
            `net: drain ${Math.round(telegrams / (drain_s - startup_s))} points/s, backfill ${Math.round(telegrams / (backfill_s - startup_s))} telegrams/s, ratio ${ratio.toFixed(2)}`,
        );
      } finally {
        await influxd.stop();
      }
    }
    const m = (k: 'drain_s' | 'backfill_s' | 'startup_s') => median(rows.map((r) => r[k]));
    const result = {
      telegrams,
      rounds,
      drain_pps_net: Math.round(telegrams / (m('drain_s') - m('startup_s'))),
      backfill_tps_net: Math.round(telegrams / (m('backfill_s') - m('startup_s'))),
      drain_pps_gross: Math.round(telegrams / m('drain_s')),
      backfill_tps_gross: Math.round(telegrams / m('backfill_s')),
      startup_s: Math.round(m('startup_s') * 100) / 100,
      ratio: Math.round(median(rows.map((r) => r.ratio)) * 100) / 100,
      target: 0.7,
    };
    const ratios = rows.map((r) => r.ratio);
    const k = (x: number) => `${(x / 1000).toFixed(1)}k`;
    printRow(
      [
        `\`backfill\`: ${telegrams.toLocaleString('en')} one-second P1 telegrams (\`backfill --driver dsmr-p1 --input\` into influxd 1.6.7), net of CLI start-up`,
        `${k(result.backfill_tps_net)} telegrams/s (${k(result.backfill_tps_gross)} gross)`,
        `\`wattline drain\` of the same ${telegrams.toLocaleString('en')} points pre-encoded, ${k(result.drain_pps_net)}/s (${k(result.drain_pps_gross)} gross)`,
        `${result.ratio.toFixed(2)} (rounds ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
        `≥ 0.7 ${met(result.ratio >= 0.7)} (issue 7)`,
      ],
      load,
    );
    console.log(JSON.stringify(result));
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await run();
