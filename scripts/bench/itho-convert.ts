/**
 * Itho .par → SQLite converter benchmark, on a generated Access database of realistic size
 * (60 list versions, each with 150 data labels, 100 parameters, 40 manual operations and
 * 20 counters; written by the test Jet 4 writer). Whole conversions (read the file, open,
 * write every table in one transaction, fsync, rename), median and best of 7, interleaved
 * with the first baseline so that load from other work hits both alike.
 * Baselines in the same run:
 * - mdb-reader alone reading the same tables' rows, writing nothing (the floor of our reader);
 * - the mdbtools way: `mdb-export <file> <table> | sqlite3 <out> ".import --csv /dev/stdin <table>"`
 *   for every table, as a shell user would do it (median of 2).
 * Target: >= 50,000 rows/s.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import MDBReader from 'mdb-reader';
import { convertPar } from '../../src/itho-par/index.js';
import { VERSIEBEHEER, VERSION_TABLES } from '../../src/itho-par/tables.js';
import { generatedItho, rowCount } from '../../test/helpers/itho-par-fixture.js';
import { writeJet4 } from '../../test/helpers/jet4-writer.js';
import { loadAverage, met, printRow, runIfMain } from './common.js';

const SIZE = { versions: 60, labels: 150, parameters: 100, handbed: 40, counters: 20 };

interface Timing {
  median: number;
  best: number;
  /** Median CPU seconds of this process (user + system): less sensitive to other work on the machine. */
  cpu: number;
}

/** Seconds per call of each function, rounds interleaved so that load from other work hits all alike. */
function timeInterleaved(fns: (() => void)[], rounds: number): Timing[] {
  for (const fn of fns) fn(); // warm up
  const times: number[][] = fns.map(() => []);
  const cpu: number[][] = fns.map(() => []);
  for (let r = 0; r < rounds; r++) {
    fns.forEach((fn, i) => {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      fn();
      times[i].push(Number(process.hrtime.bigint() - t0) / 1e9);
      const c = process.cpuUsage(c0);
      cpu[i].push((c.user + c.system) / 1e6);
    });
  }
  const mid = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
  return times.map((t, i) => ({ median: mid(t), best: Math.min(...t), cpu: mid(cpu[i]) }));
}

function readOnly(file: string): number {
  const reader = new MDBReader(readFileSync(file));
  let rows = 0;
  for (const name of reader.getTableNames()) {
    const lower = name.toLowerCase();
    const spec = lower === VERSIEBEHEER.name.toLowerCase() ? VERSIEBEHEER : VERSION_TABLES.find((s) => s.prefixes.some((p) => lower.startsWith(p.toLowerCase())));
    if (!spec) continue;
    rows += reader.getTable(name).getData({ columns: spec.columns.map((c) => c.access) }).length;
  }
  return rows;
}

function mdbExportImport(file: string, tables: string[], out: string): void {
  rmSync(out, { force: true });
  const script = tables.map((t) => `mdb-export "$1" ${t} | sqlite3 "$2" ".import --csv /dev/stdin ${t.toLowerCase()}"`).join('\n');
  execFileSync('bash', ['-euo', 'pipefail', '-c', script, 'bench', file, out], { stdio: ['ignore', 'ignore', 'inherit'] });
}

export async function run(): Promise<Record<string, number>> {
  const load = loadAverage();
  const dir = mkdtempSync(join(tmpdir(), 'wattline-bench-itho-'));
  try {
    const tables = generatedItho(SIZE);
    const rows = rowCount(tables);
    const file = join(dir, '$_parameters_HeatPump.par');
    const bytes = writeJet4(tables);
    writeFileSync(file, bytes);
    const out = join(dir, 'heatpump.sqlite');

    let written = 0;
    let read = 0;
    const [ours, readSecs] = timeInterleaved(
      [
        () => {
          written = convertPar(file, { out, force: true }).rows;
        },
        () => {
          read = readOnly(file);
        },
      ],
      7,
    );
    if (written !== rows) throw new Error(`bench: converted ${written} rows, expected ${rows}`);
    if (read !== rows) throw new Error(`bench: mdb-reader read ${read} rows, expected ${rows}`);
    const [mdbSecs] = timeInterleaved(
      [
        () =>
          mdbExportImport(
            file,
            tables.map((t) => t.name),
            join(dir, 'mdbtools.sqlite'),
          ),
      ],
      2,
    );
    const check = new Database(join(dir, 'mdbtools.sqlite'), { readonly: true });
    const imported = (check.prepare('SELECT name FROM sqlite_master WHERE type = ?').pluck().all('table') as string[]).reduce((n, t) => n + (check.prepare(`SELECT count(*) FROM "${t}"`).pluck().get() as number), 0);
    check.close();
    if (imported !== rows) throw new Error(`bench: mdb-export | sqlite3 imported ${imported} rows, expected ${rows}`);

    const r = (s: number) => Math.round(rows / s);
    const line = (t: Timing, cpu = true) =>
      `${r(t.median).toLocaleString('en')} rows/s median (${(t.median * 1000).toFixed(0)} ms), best ${r(t.best).toLocaleString('en')} rows/s` + (cpu ? `, ${r(t.cpu).toLocaleString('en')} rows per CPU-second` : '');
    console.log(
      `itho-convert: generated .par, ${SIZE.versions} versions × (${SIZE.labels} labels, ${SIZE.parameters} parameters, ${SIZE.handbed} manual, ${SIZE.counters} counters) = ${tables.length} tables, ${rows.toLocaleString('en')} rows, ${(bytes.length / 1e6).toFixed(1)} MB; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs`,
    );
    console.log(`  convertPar (read + write + fsync + rename): ${line(ours)}`);
    console.log(`  mdb-reader alone, no writing:               ${line(readSecs)}`);
    console.log(`  mdb-export | sqlite3 .import, per table:    ${line(mdbSecs, false)} (CPU in child processes)`);
    console.log(`  target >= 50,000 rows/s (median): ${r(ours.median) >= 50_000 ? 'met' : 'NOT met'}`);
    const result = {
      rows_per_s: r(ours.median),
      best_rows_per_s: r(ours.best),
      rows_per_cpu_s: r(ours.cpu),
      baseline_read_only_per_cpu_s: r(readSecs.cpu),
      baseline_read_only: r(readSecs.median),
      baseline_mdbtools: r(mdbSecs.median),
      ratio_read_only: Number((readSecs.median / ours.median).toFixed(3)),
      ratio_mdbtools: Number((mdbSecs.median / ours.median).toFixed(3)),
    };
    const k = (x: number) => `${(x / 1000).toFixed(1)}k`;
    printRow(
      [
        `\`itho-convert\`: generated \`.par\`, ${SIZE.versions} list versions × (${SIZE.labels} labels, ${SIZE.parameters} parameters, ${SIZE.handbed} manual, ${SIZE.counters} counters) = ${tables.length} tables, ${rows.toLocaleString('en')} rows, whole conversion incl. fsync + rename`,
        `${k(r(ours.median))} rows/s (median of 7; best ${k(r(ours.best))})`,
        `mdb-reader alone reading the same rows, writing nothing: ${k(r(readSecs.median))}/s; \`mdb-export \\| sqlite3 .import\` per table: ${k(r(mdbSecs.median))}/s`,
        `${(readSecs.median / ours.median).toFixed(2)}× the bare read; ${(mdbSecs.median / ours.median).toFixed(0)}× the mdbtools pipeline`,
        `≥ 50k rows/s ${met(r(ours.median) >= 50_000)} (issue 6)`,
      ],
      load,
    );
    console.log(JSON.stringify({ bench: 'itho-convert', rows, tables: tables.length, ...result }));
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, run);
