/**
 * Two HDHK buses (two device entries, each `simulate: true` with two units) through the
 * real `wattline test --format json`: both buses answer, every configured channel comes
 * back with its unit id, circuit and typed fields, and nothing is written. No timing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

interface JsonPoint {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, unknown>;
  time: string;
}
interface JsonReport {
  devices: { device: string; ok: boolean; points: JsonPoint[]; error?: string }[];
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-hdhk2-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const CONFIG = [
  'outbox: { path: two.sqlite }',
  'devices:',
  '  - name: bus-a',
  '    driver: hdhk',
  '    simulate: true',
  '    options:',
  '      pauseMs: 5',
  '      units:',
  '        - id: 3',
  '          name: board-a',
  '          channels:',
  '            "1": { circuit: oven, phase: L1, voltageV: 230 }',
  '            "9": { circuit: fridge, phase: L2 }',
  '        - id: 7',
  '          channels:',
  '            "16": { circuit: garage, phase: L1, voltageV: 230 }',
  '  - name: bus-b',
  '    driver: hdhk',
  '    simulate: true',
  '    options:',
  '      units:',
  '        - id: 1',
  '          channels:',
  '            "2": { circuit: heat-pump, phase: L3, voltageV: 230 }',
  '        - id: 12',
  '          name: board-c',
  '          channels:',
  '            "5": { circuit: ev-charger, phase: L3 }',
  '            "6": { circuit: lighting }',
  '',
].join('\n');

// circuit -> [device, unit, channel, unit_name?, voltage set?]
const EXPECTED: Record<string, { device: string; unit: string; channel: string; unitName?: string; power: boolean }> = {
  oven: { device: 'bus-a', unit: '3', channel: '1', unitName: 'board-a', power: true },
  fridge: { device: 'bus-a', unit: '3', channel: '9', unitName: 'board-a', power: false },
  garage: { device: 'bus-a', unit: '7', channel: '16', power: true },
  'heat-pump': { device: 'bus-b', unit: '1', channel: '2', power: true },
  'ev-charger': { device: 'bus-b', unit: '12', channel: '5', unitName: 'board-c', power: false },
  lighting: { device: 'bus-b', unit: '12', channel: '6', unitName: 'board-c', power: false },
};

test('wattline test --format json reads both simulated hdhk buses', async () => {
  const path = join(dir, 'two-buses.yaml');
  writeFileSync(path, CONFIG);
  const r = await runCli(['--config', path, 'test', '--format', 'json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as JsonReport;
  assert.deepEqual(report.devices.map((d) => d.device).sort(), ['bus-a', 'bus-b']);
  for (const d of report.devices) assert.equal(d.ok, true, `${d.device}: ${d.error ?? ''}`);

  const channels = report.devices.flatMap((d) => d.points.filter((p) => p.measurement === 'hdhk').map((p) => ({ device: d.device, p })));
  assert.deepEqual(channels.map((c) => c.p.tags.circuit).sort(), Object.keys(EXPECTED).sort());
  for (const { device, p } of channels) {
    const want = EXPECTED[p.tags.circuit]!;
    const where = `circuit ${p.tags.circuit}`;
    assert.equal(device, want.device, where);
    assert.equal(p.tags.device, want.device, where);
    assert.equal(p.tags.unit, want.unit, where);
    assert.equal(p.tags.channel, want.channel, where);
    assert.equal(p.tags.unit_name, want.unitName, where);
    assert.equal(typeof p.fields.current_a, 'number', where);
    assert.ok(Number.isFinite(p.fields.current_a) && (p.fields.current_a as number) >= 0, where);
    assert.equal(typeof p.fields.firmware, 'string', where);
    assert.equal(typeof p.fields.range_a, 'number', where);
    assert.ok(Number.isInteger(p.fields.range_a), where);
    if (want.power) {
      assert.equal(typeof p.fields.apparent_power_va, 'number', where);
      assert.ok(Math.abs((p.fields.apparent_power_va as number) - (p.fields.current_a as number) * 230) < 0.5, where);
    } else {
      assert.equal(p.fields.apparent_power_va, undefined, where);
    }
    assert.ok(!Number.isNaN(Date.parse(p.time)), where);
  }

  // Per-phase sums, per bus: bus-a has L1 (oven, garage) and L2; bus-b only L3.
  const phases = (device: string) =>
    report.devices
      .find((d) => d.device === device)!
      .points.filter((p) => p.measurement === 'hdhk_phase')
      .map((p) => [p.tags.phase, p.fields.channels])
      .sort();
  assert.deepEqual(phases('bus-a'), [
    ['L1', 2],
    ['L2', 1],
  ]);
  assert.deepEqual(phases('bus-b'), [['L3', 2]]);

  assert.equal(existsSync(join(dir, 'two.sqlite')), false, 'test must not create the outbox');
});
