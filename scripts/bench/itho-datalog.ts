/**
 * Itho datalog decoding benchmark: 20,000 datalog reply frames of the simulated WPU (the
 * recorded 92-code datatype list, 142-byte frames) checked (source, length, checksum, type,
 * class), decoded with the type-code table and mapped to `itho_wpu` points with the demo
 * parameter map's labels, on one core. Baseline in the same run: the original tool's way
 * (docs/protocols/itho-wpu.md §4.4), frame bytes as a list of hex strings, each field's width found by an
 * if/elif chain and converted with int(x, 16) arithmetic, a dict of label → value, no checks.
 * Prints human lines, then one JSON line. Target: >= 100,000 datalogs/s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkReply } from '../../src/devices/itho-wpu/codec.js';
import { ParameterMap } from '../../src/devices/itho-wpu/tables-parameter-map.js';
import { datalogPoint, makePlan } from '../../src/devices/itho-wpu/points.js';
import { writeDemoParameterMap } from '../../src/simulators/itho-demo-map.js';
import { DATATYPE_REPLY, NODEID_REPLY } from '../../src/simulators/itho-wpu-data.js';
import { SimulatedWpu } from '../../src/simulators/itho-wpu.js';
import { loadAverage, met, printRow, runIfMain } from './common.js';

const FRAMES = 20_000;
const DATALOG_REQUEST = Buffer.from([0x80, 0xa4, 0x01, 0x04, 0x00, 0x55]);

function rate(fn: () => unknown, items: number, rounds = 5): number {
  fn(); // warm up
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    rates.push(items / (Number(process.hrtime.bigint() - t0) / 1e9));
  }
  rates.sort((a, b) => a - b);
  return rates[rates.length >> 1]!;
}

/** The original's format_datatype / process_datalog, transliterated (widths of the codes it knew). */
function naiveDecode(hexBytes: string[], codes: string[], labels: string[]): Record<string, number> {
  const message = hexBytes.slice(5);
  const out: Record<string, number> = {};
  let index = 0;
  for (let i = 0; i < codes.length; i++) {
    const dt = parseInt(codes[i]!, 16);
    let length = 1;
    if (dt === 0x0 || dt === 0xc) length = 1;
    else if (dt === 0x10 || dt === 0x12 || dt === 0x90 || dt === 0x92) length = 2;
    else if (dt === 0x20) length = 4;
    const m = message.slice(index, index + length);
    let num = 0;
    if (dt === 0x0 || dt === 0xc) num = parseInt(m[m.length - 1]!, 16);
    else if (dt === 0x10) num = (parseInt(m[m.length - 2]!, 16) << 8) + parseInt(m[m.length - 1]!, 16);
    else if (dt === 0x92) {
      num = (parseInt(m[m.length - 2]!, 16) << 8) + parseInt(m[m.length - 1]!, 16);
      if (num >= 32768) num -= 65536;
      num = Math.round((num / 100) * 100) / 100;
    } else if (dt === 0x20) num = (parseInt(m[0]!, 16) << 24) + (parseInt(m[1]!, 16) << 16) + (parseInt(m[2]!, 16) << 8) + parseInt(m[3]!, 16);
    out[labels[i]!] = num;
    index += length;
  }
  return out;
}

export async function run(): Promise<{ datalogs_per_s: number; baseline: number; ratio: number }> {
  const load = loadAverage();
  const dir = mkdtempSync(join(tmpdir(), 'wattline-bench-itho-'));
  try {
    const mapPath = join(dir, 'map.sqlite');
    writeDemoParameterMap(mapPath);
    const map = ParameterMap.open(mapPath);
    const plan = makePlan(map, checkReply(NODEID_REPLY, 'nodeid'), checkReply(DATATYPE_REPLY, 'datatype'));
    map.close();
    const wpu = new SimulatedWpu({ vary: true });
    const frames = Array.from({ length: FRAMES }, () => wpu.handle(DATALOG_REQUEST)!);
    const ctx = { device: 'bench', tags: { site: 'bench' } };

    let points = 0;
    const ours = () => {
      for (let i = 0; i < frames.length; i++) points += datalogPoint(plan, checkReply(frames[i]!, 'datalog'), i, ctx).points.length;
    };
    // Checked once, outside the timing: every frame gives a point with all 92 fields.
    for (const f of frames) {
      const n = Object.keys(datalogPoint(plan, checkReply(f, 'datalog'), 0, ctx).points[0]!.fields).length;
      if (n !== 92) throw new Error(`bench: a point with ${n} fields, expected 92`);
    }

    // The original got the reply as a list of hex strings from its I2C callback.
    const hexFrames = frames.map((f) => [...f].map((b) => `0x${b.toString(16).padStart(2, '0')}`));
    const codes = [...DATATYPE_REPLY.subarray(5, -1)].map((b) => `0x${b.toString(16)}`);
    const labels = plan.labels.map((l) => l.key);
    let same = 0;
    const naive = () => {
      for (const h of hexFrames) same += naiveDecode(h, codes, labels).t_out! < 100 ? 1 : 0;
    };

    const oursRate = rate(ours, FRAMES);
    const naiveRate = rate(naive, FRAMES);
    if (same === 0 || points === 0) throw new Error('unreachable');
    console.log(`itho-datalog: ${FRAMES} datalog frames of the simulated WPU (92 fields, ${frames[0]!.length} bytes), median of 5`);
    console.log(`  checks + type-code table + points (92 labelled fields): ${Math.round(oursRate).toLocaleString('en')} datalogs/s`);
    console.log(`  original's way (hex strings, if/elif widths, no checks): ${Math.round(naiveRate).toLocaleString('en')} datalogs/s`);
    console.log(`  ratio ours/original: ${(oursRate / naiveRate).toFixed(2)}; target >= 100,000 datalogs/s: ${oursRate >= 100_000 ? 'met' : 'NOT met'}`);
    const result = { datalogs_per_s: Math.round(oursRate), baseline: Math.round(naiveRate), ratio: Number((oursRate / naiveRate).toFixed(3)) };
    printRow(
      [
        `\`itho-datalog\`: ${FRAMES / 1000}k datalog frames (92 fields), reply checks + type-code table + labelled points`,
        `${Math.round(oursRate / 1000)}k datalogs/s`,
        `the original's decoding (hex strings, if/elif widths, no checks), ${Math.round(naiveRate / 1000)}k/s`,
        `${(oursRate / naiveRate).toFixed(1)}×`,
        `≥ 100k/s ${met(oursRate >= 100_000)} (issue 6)`,
      ],
      load,
    );
    console.log(JSON.stringify({ bench: 'itho-datalog', ...result }));
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, run);
