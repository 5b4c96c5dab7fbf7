/**
 * Outbox throughput (README "Benchmarks"): inserts in batches of 1000 lines with
 * synchronous=full and =normal, and read-and-ack of the backlog in batches of 5000,
 * beside a baseline measured in the same run: a bare better-sqlite3 insert loop into a
 * one-column WAL table, one transaction per batch. The ratio is outbox/baseline inserts.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/bench/outbox.js [points] [rounds]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { SqliteOutbox } from '../../src/outbox/sqlite-outbox.js';
import { loadAverage, met, printRow } from './common.js';

const INSERT_BATCH = 1000;
const DRAIN_BATCH = 5000;
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
/** Distinct batches cycled through, so the lines vary without holding a million strings. */
const POOL_BATCHES = 20;

/** ~150-byte lines shaped like the PDU driver's. */
export function makeBatches(): string[][] {
  const t0 = 1_717_171_717_000_000_000n;
  const batches: string[][] = [];
  for (let b = 0; b < POOL_BATCHES; b++) {
    const lines: string[] = [];
    for (let i = 0; i < INSERT_BATCH; i++) {
      const n = b * INSERT_BATCH + i;
      lines.push(
        `pdu_outlet,device=pdu-rack-${n % 3},outlet=${(n % 8) + 1},site=home ` +
          `current_a=${((n % 1600) / 100).toFixed(2)},power_w=${((n * 7.3) % 3600).toFixed(1)},apparent_va=${((n * 7.9) % 3700).toFixed(1)},` +
          `energy_kwh=${(1234.567 + n / 1000).toFixed(3)},state=1i ${t0 + BigInt(n) * 1_000_000_000n}`,
      );
    }
    batches.push(lines);
  }
  return batches;
}

function perSecond(count: number, startNs: bigint): number {
  return Math.round(count / (Number(process.hrtime.bigint() - startNs) / 1e9));
}

function benchInsert(file: string, batches: string[][], points: number, synchronous: 'full' | 'normal'): number {
  const outbox = new SqliteOutbox(file, { maxRows: points * 2, maxBytes: Number.MAX_SAFE_INTEGER }, { synchronous });
  const start = process.hrtime.bigint();
  for (let done = 0, b = 0; done < points; done += INSERT_BATCH, b++) outbox.append(batches[b % batches.length]!, 'ns');
  const pps = perSecond(points, start);
  outbox.close();
  return pps;
}

/** Drain what benchInsert left in `file`. */
function benchDrain(file: string, points: number): number {
  const outbox = new SqliteOutbox(file, { maxRows: points * 2, maxBytes: Number.MAX_SAFE_INTEGER });
  const start = process.hrtime.bigint();
  let drained = 0;
  for (let batch = outbox.peek(DRAIN_BATCH, DRAIN_MAX_BYTES); batch; batch = outbox.peek(DRAIN_BATCH, DRAIN_MAX_BYTES)) {
    outbox.ack(batch.rows.map((r) => r.id));
    drained += batch.rows.length;
  }
  const pps = perSecond(drained, start);
  if (drained !== points) throw new Error(`drained ${drained} of ${points} points`);
  outbox.close();
  return pps;
}

/** Baseline: the same lines into a bare one-column table, one transaction per batch. */
function benchBaselineInsert(file: string, batches: string[][], points: number): number {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE lines (line TEXT)');
  const insert = db.prepare('INSERT INTO lines (line) VALUES (?)');
  const insertBatch = db.transaction((lines: string[]) => {
    for (const line of lines) insert.run(line);
  });
  const start = process.hrtime.bigint();
  for (let done = 0, b = 0; done < points; done += INSERT_BATCH, b++) insertBatch(batches[b % batches.length]!);
  const pps = perSecond(points, start);
  db.close();
  return pps;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

/**
 * Each round measures everything side by side; figures are medians over the rounds, and
 * the ratio is the median of each round's own ratio, so a noisy neighbour skews less.
 */
export async function run(points = 1_000_000, rounds = 3): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'wattline-bench-outbox-'));
  try {
    const batches = makeBatches();
    const avgBytes = Math.round(batches.flat().reduce((n, l) => n + l.length, 0) / (POOL_BATCHES * INSERT_BATCH));
    console.log(`outbox: ${points} points of ~${avgBytes} bytes, inserts in batches of ${INSERT_BATCH}, drain in batches of ${DRAIN_BATCH}, ${rounds} rounds`);

    const load = loadAverage();
    const seen = { baseline: [] as number[], full: [] as number[], normal: [] as number[], drain: [] as number[], ratio: [] as number[] };
    for (let round = 1; round <= rounds; round++) {
      const baseline = benchBaselineInsert(join(dir, `baseline-${round}.sqlite`), batches, points);
      const full = benchInsert(join(dir, `full-${round}.sqlite`), batches, points, 'full');
      const normal = benchInsert(join(dir, `normal-${round}.sqlite`), batches, points, 'normal');
      const drain = benchDrain(join(dir, `full-${round}.sqlite`), points);
      for (const name of ['baseline', 'full', 'normal']) rmSync(join(dir, `${name}-${round}.sqlite`), { force: true });
      console.log(`  round ${round}: baseline ${fmt(baseline)}, append full ${fmt(full)}, append normal ${fmt(normal)}, peek+ack ${fmt(drain)} points/s`);
      seen.baseline.push(baseline);
      seen.full.push(full);
      seen.normal.push(normal);
      seen.drain.push(drain);
      seen.ratio.push(full / baseline);
    }

    const ratio = Math.round(median(seen.ratio.map((r) => r * 1000))) / 1000;
    console.log(`  baseline (bare better-sqlite3 insert loop, 1 column, synchronous=full): ${fmt(median(seen.baseline))} points/s`);
    console.log(`  outbox append, synchronous=full:   ${fmt(median(seen.full))} points/s`);
    console.log(`  outbox append, synchronous=normal: ${fmt(median(seen.normal))} points/s`);
    console.log(`  outbox peek+ack (drain):           ${fmt(median(seen.drain))} points/s`);
    console.log(`  append(full) / baseline:           ${ratio}`);

    const spread = `${Math.min(...seen.ratio).toFixed(2)}–${Math.max(...seen.ratio).toFixed(2)}`;
    printRow(
      [
        `\`outbox\`: ${points / 1e6}M lines appended in batches of ${INSERT_BATCH}, \`synchronous=full\`, ${rounds} rounds`,
        `${fmtK(median(seen.full))} points/s (normal ${fmtK(median(seen.normal))}/s; peek+ack ${fmtK(median(seen.drain))}/s)`,
        `bare better-sqlite3 insert loop into a one-column table, ${fmtK(median(seen.baseline))}/s`,
        `${ratio.toFixed(2)}× (rounds ${spread})`,
        `≥ 200k/s ${met(median(seen.full) >= 200_000)}`,
      ],
      load,
    );
    const result = {
      bench: 'outbox',
      insert_pps: median(seen.full),
      insert_pps_normal: median(seen.normal),
      drain_pps: median(seen.drain),
      baseline_insert_pps: median(seen.baseline),
      ratio,
    };
    console.log(JSON.stringify(result));
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fmtK(n: number): string {
  return `${Math.round(n / 1000)}k`;
}

function fmt(n: number): string {
  return n.toLocaleString('en');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [points, rounds] = process.argv.slice(2).map(Number);
  await run(points || undefined, rounds || undefined);
}
