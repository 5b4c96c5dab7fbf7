/**
 * P1 decode benchmark: a long stream of recorded telegrams (src/simulators/dsmr-p1-recordings)
 * framed (CRC checked), decoded and mapped to points on one core, in 1 KiB chunks as a serial
 * port delivers them. Baselines in the same run, since machines are noisy:
 * - naive: the original tool's approach (split lines, an if/else chain of substring searches,
 *   value = characters 11 up to '*', no CRC, no framing);
 * - crc: CRC-16/ARC alone over the same bytes (the floor any checked framer pays).
 * Prints human lines, then one JSON line. Target: >= 20,000 telegrams/s.
 */
import { decodeTelegram } from '../../src/devices/dsmr-p1/codec.js';
import { crc16arc } from '../../src/devices/dsmr-p1/framer-crc.js';
import { P1Framer } from '../../src/devices/dsmr-p1/framer.js';
import { telegramToPoints } from '../../src/devices/dsmr-p1/points.js';
import { P1_RECORDINGS } from '../../src/simulators/dsmr-p1-recordings.js';
import { loadAverage, met, printRow, runIfMain } from './common.js';

const TELEGRAMS = 30_000;
const CHUNK = 1024;
const OPTIONS = { timestamps: 'meter' as const, exclude: [], meterClockWindowMs: 0 }; // receivedAtMs 0: no window

function buildStream(n: number): { bytes: Buffer; count: number } {
  const recordings = Object.values(P1_RECORDINGS);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(recordings[i % recordings.length]);
  return { bytes: Buffer.from(parts.join(''), 'latin1'), count: n };
}

/** Ours: framer -> codec -> points. Returns telegrams that became points. */
function decodeAll(bytes: Buffer): number {
  const framer = new P1Framer();
  let telegrams = 0;
  let points = 0;
  for (let pos = 0; pos < bytes.length; pos += CHUNK) {
    for (const ev of framer.feed(bytes.subarray(pos, pos + CHUNK))) {
      if (ev.kind !== 'telegram') continue;
      const t = decodeTelegram(ev.text, { timezone: 'Europe/Amsterdam' });
      points += telegramToPoints(t, { device: 'bench', tags: {}, options: OPTIONS, receivedAtMs: 0 }).length;
      telegrams++;
    }
  }
  if (points < telegrams) throw new Error('bench: telegrams without points');
  return telegrams;
}

// The original tool's if/elif chain (docs/protocols/dsmr-p1.md §5.4-5.5), minimal.
const NAIVE_CODES = [
  '1-0:1.8.0',
  '1-0:2.8.0',
  '1-0:3.8.0',
  '1-0:4.8.0',
  '1-0:1.7.0',
  '1-0:2.7.0',
  '1-0:3.7.0',
  '1-0:4.7.0',
  '1-0:21.7.0',
  '1-0:41.7.0',
  '1-0:61.7.0',
  '1-0:22.7.0',
  '1-0:42.7.0',
  '1-0:62.7.0',
  '1-0:23.7.0',
  '1-0:43.7.0',
  '1-0:63.7.0',
  '1-0:24.7.0',
  '1-0:44.7.0',
  '1-0:64.7.0',
  '1-0:32.7.0',
  '1-0:52.7.0',
  '1-0:72.7.0',
  '1-0:31.7.0',
  '1-0:51.7.0',
  '1-0:71.7.0',
];

function naiveAll(bytes: Buffer): number {
  let telegrams = 0;
  let sum = 0;
  for (const line of bytes.toString('latin1').split('\n')) {
    if (line.startsWith('!')) {
      telegrams++;
      continue;
    }
    for (const code of NAIVE_CODES) {
      if (line.includes(code)) {
        sum += parseFloat(line.substring(11, line.indexOf('*')));
        break;
      }
    }
  }
  if (Number.isNaN(sum)) throw new Error('unreachable');
  return telegrams;
}

function crcAll(bytes: Buffer): number {
  return crc16arc(bytes);
}

function rate(fn: () => unknown, items: number, rounds = 5): number {
  fn(); // warm up
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    rates.push(items / s);
  }
  rates.sort((a, b) => a - b);
  return rates[rates.length >> 1]; // median
}

export async function run(): Promise<{ telegrams_per_s: number; baseline: number; ratio: number }> {
  const load = loadAverage();
  const { bytes, count } = buildStream(TELEGRAMS);
  if (decodeAll(bytes) !== count) throw new Error('bench: not every telegram decoded');
  const ours = rate(() => decodeAll(bytes), count);
  const naive = rate(() => naiveAll(bytes), count);
  const crcMBps = rate(() => crcAll(bytes), bytes.length) / 1e6;
  const perTelegram = bytes.length / count;

  console.log(`p1-decode: ${count} recorded telegrams (${(bytes.length / 1e6).toFixed(1)} MB, ${perTelegram.toFixed(0)} bytes each), ${CHUNK}-byte chunks, median of 5`);
  console.log(`  framer + CRC + codec + points: ${Math.round(ours).toLocaleString('en')} telegrams/s`);
  console.log(`  naive substring parse (no CRC): ${Math.round(naive).toLocaleString('en')} telegrams/s`);
  console.log(`  CRC-16/ARC alone:               ${crcMBps.toFixed(0)} MB/s = ${Math.round((crcMBps * 1e6) / perTelegram).toLocaleString('en')} telegrams/s`);
  console.log(`  ratio ours/naive: ${(ours / naive).toFixed(2)}; target >= 20,000 telegrams/s: ${ours >= 20_000 ? 'met' : 'NOT met'}`);
  printRow(
    [
      `\`p1-decode\`: ${(count / 1000).toFixed(0)}k recorded telegrams, frame + CRC + decode + points`,
      `${Math.round(ours / 1000)}k telegrams/s`,
      `the original tool's substring parse without CRC, ${Math.round(naive / 1000)}k/s`,
      `${(ours / naive).toFixed(1)}×`,
      `≥ 20k/s ${met(ours >= 20_000)}`,
    ],
    load,
  );
  const result = { telegrams_per_s: Math.round(ours), baseline: Math.round(naive), ratio: Number((ours / naive).toFixed(3)) };
  console.log(JSON.stringify({ bench: 'p1-decode', ...result, crc_mb_per_s: Number(crcMBps.toFixed(1)) }));
  return result;
}

runIfMain(import.meta.url, run);
