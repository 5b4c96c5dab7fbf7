/**
 * Encoder benchmark: our encodePoints() against Point.toLineProtocol() of the official client,
 * on the same realistic points, side by side in one run (README "Benchmarks": ratios, not
 * absolute figures, since these machines are noisy). Checks byte equality first.
 *
 * The baseline is timed on client Points built beforehand, so only toLineProtocol() is timed
 * (the client formats field values when they are added; that work is not counted against it).
 * Ours is timed from our Point objects, value formatting included.
 *
 *   node dist/scripts/bench/encoder.js [points]
 */
import { pathToFileURL } from 'node:url';
import { Point as ClientPoint } from '@influxdata/influxdb-client';
import { encodePoints } from '../../src/core/line-protocol.js';
import { int, UintField, type FieldValue, type Point, type Precision } from '../../src/core/point.js';
import { loadAverage, median, met, printRow } from './common.js';

const BASELINE = '@influxdata/influxdb-client Point.toLineProtocol()';

/** Small seeded PRNG (mulberry32) so every run encodes the same points. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

/** PDU outlets and P1 meters as the drivers emit them: fields in driver order, not sorted. */
export function realisticPoints(n: number, seed = 1): Point[] {
  const r = rng(seed);
  const t0 = 1_735_689_600_000_000_000n; // 2025-01-01T00:00:00Z
  const points: Point[] = [];
  for (let i = 0; i < n; i++) {
    const time = t0 + BigInt(i) * 1_000_000_000n + BigInt(Math.floor(r() * 1e9));
    const fields: Record<string, FieldValue> = {};
    const tags: Record<string, string> = {};
    const nFields = 5 + Math.floor(r() * 11); // 5..15
    if (i % 2 === 0) {
      tags.device = `pdu-rack${1 + Math.floor(r() * 3)}`;
      tags.outlet = String(1 + Math.floor(r() * 8));
      if (r() < 0.7) tags.site = 'home';
      if (r() < 0.5) tags.host = 'pi-fusebox';
      const all: [string, () => FieldValue][] = [
        ['current_a', () => round(r() * 16, 3)],
        ['power_w', () => round(r() * 3600, 1)],
        ['apparent_power_va', () => round(r() * 3700, 1)],
        ['energy_kwh', () => round(r() * 99999, 3)],
        ['voltage_v', () => round(225 + r() * 10, 1)],
        ['frequency_hz', () => round(49.9 + r() * 0.2, 2)],
        ['power_factor', () => round(r(), 3)],
        ['on', () => r() < 0.9],
        ['status', () => int(Math.floor(r() * 256))],
        ['shutdown_countdown_s', () => int(Math.floor(r() * 600))],
        ['restore_countdown_s', () => int(-1)],
        ['load_pct', () => round(r() * 100, 1)],
        ['temperature_c', () => round(20 + r() * 25, 1)],
        ['alarm', () => r() < 0.05],
        ['name', () => `Outlet ${i % 8} "rack"`],
      ];
      for (const [k, f] of all.slice(0, nFields)) fields[k] = f();
    } else {
      tags.device = 'p1-meter';
      tags.phase = `l${1 + (i % 3)}`;
      if (r() < 0.5) tags.site = 'home';
      const all: [string, () => FieldValue][] = [
        ['energy_import_t1_kwh', () => round(1e4 + r() * 1e4, 3)],
        ['energy_import_t2_kwh', () => round(1e4 + r() * 1e4, 3)],
        ['energy_export_t1_kwh', () => round(r() * 5e3, 3)],
        ['energy_export_t2_kwh', () => round(r() * 5e3, 3)],
        ['power_import_w', () => round(r() * 5000, 0)],
        ['power_export_w', () => round(r() * 3000, 0)],
        ['voltage_v', () => round(228 + r() * 6, 1)],
        ['current_a', () => round(r() * 25, 0)],
        ['tariff', () => int(1 + Math.floor(r() * 2))],
        ['gas_m3', () => round(4000 + r() * 100, 3)],
        ['power_failures', () => int(Math.floor(r() * 20))],
        ['long_power_failures', () => int(Math.floor(r() * 5))],
        ['voltage_sags', () => int(Math.floor(r() * 5))],
        ['equipment_id', () => 'E0043007052870318'],
        ['text', () => ''],
      ];
      for (const [k, f] of all.slice(0, nFields)) fields[k] = f();
    }
    points.push({ measurement: i % 2 === 0 ? 'pdu_outlet' : 'p1', tags, fields, time });
  }
  return points;
}

/** The same point as the client's Point, timestamp already in `precision` (floor division). */
export function toClientPoint(p: Point, precision: Precision): ClientPoint {
  const cp = new ClientPoint(p.measurement);
  for (const [k, v] of Object.entries(p.tags)) cp.tag(k, v);
  for (const [k, v] of Object.entries(p.fields)) {
    if (typeof v === 'number') cp.floatField(k, v);
    // booleanField() writes T/F; we write true/false (the corpus's spelling; InfluxDB reads
    // both). The client's public `fields` holds value text, so give it ours: same cost to it.
    else if (typeof v === 'boolean') cp.fields[k] = v ? 'true' : 'false';
    else if (typeof v === 'string') cp.stringField(k, v);
    else if (v instanceof UintField) cp.uintField(k, v.value.toString());
    else cp.intField(k, Number(v.value));
  }
  const m = { ns: 1n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n }[precision];
  const t = p.time;
  cp.timestamp(((t - (((t % m) + m) % m)) / m).toString());
  return cp;
}

export async function run(opts: { points?: number; rounds?: number } = {}): Promise<Record<string, unknown>> {
  const n = opts.points ?? 200_000;
  const rounds = opts.rounds ?? 9;
  const precision: Precision = 'ns';
  const load = loadAverage();
  const points = realisticPoints(n);
  const clientPoints = points.map((p) => toClientPoint(p, precision));

  // Same bytes first, or the speed means nothing.
  const ours = encodePoints(points, precision);
  if (ours.dropped.length > 0) throw new Error(`bench: encoder dropped ${ours.dropped[0].reason}`);
  for (let i = 0; i < n; i++) {
    const theirs = clientPoints[i].toLineProtocol();
    if (ours.lines[i] !== theirs) {
      throw new Error(`bench: point ${i} differs\n  ours:   ${ours.lines[i]}\n  client: ${theirs}`);
    }
  }

  // Timed in batches, each batch's lines kept until the next one as the outbox would hold
  // them: retaining all 200k lines at once would mostly measure the old-generation GC.
  const BATCH = 5_000;
  const batches: Point[][] = [];
  for (let i = 0; i < n; i += BATCH) batches.push(points.slice(i, i + BATCH));
  let sink = 0;
  const timeOurs = () => {
    const t = process.hrtime.bigint();
    for (const batch of batches) sink += encodePoints(batch, precision).lines.length;
    return n / (Number(process.hrtime.bigint() - t) / 1e9);
  };
  const timeTheirs = () => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i += BATCH) {
      const end = Math.min(n, i + BATCH);
      const lines: string[] = [];
      for (let j = i; j < end; j++) lines.push(clientPoints[j].toLineProtocol() as string);
      sink += lines.length;
    }
    return n / (Number(process.hrtime.bigint() - t) / 1e9);
  };

  for (let i = 0; i < 2; i++) {
    timeOurs();
    timeTheirs();
  }
  const oursPps: number[] = [];
  const theirsPps: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    // Alternate who goes first so GC debt and CPU boost do not favour one side; the ratio is
    // the median of each round's pair, so load from other processes mostly cancels out.
    let o: number, t: number;
    if (i % 2 === 0) {
      o = timeOurs();
      t = timeTheirs();
    } else {
      t = timeTheirs();
      o = timeOurs();
    }
    oursPps.push(o);
    theirsPps.push(t);
    ratios.push(o / t);
  }
  if (sink !== (rounds + 2) * 2 * n) throw new Error('bench: lost lines');
  const ours_pps = Math.round(median(oursPps));
  const baseline_pps = Math.round(median(theirsPps));
  const ratio = Math.round(median(ratios) * 100) / 100;
  const result = { bench: 'encoder', ours_pps, baseline_pps, ratio, baseline: BASELINE, points: n, rounds, precision };
  const k = (v: number) => `${Math.round(v / 1000)}k`;
  console.log(`encoder: ours ${k(ours_pps)} points/s, client ${k(baseline_pps)} points/s, ratio ${ratio}x ` + `(${n} points, median of ${rounds} rounds, same bytes checked)`);
  printRow(
    [
      `\`encoder\`: ${k(n)} points, 3 tags, ~10 fields`,
      `${k(ours_pps)} points/s`,
      `\`Point.toLineProtocol()\` of \`@influxdata/influxdb-client\`, ${k(baseline_pps)}/s (same bytes checked)`,
      `${ratio.toFixed(1)}× (rounds ${Math.min(...ratios).toFixed(1)}–${Math.max(...ratios).toFixed(1)})`,
      `≥ 2× ${met(ratio >= 2)}`,
    ],
    load,
  );
  console.log(JSON.stringify(result));
  return result;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = Number(process.argv[2]);
  await run(Number.isInteger(arg) && arg > 0 ? { points: arg } : {});
}
