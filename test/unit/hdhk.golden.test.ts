/**
 * Golden folder test/fixtures/hdhk (issue 16; SOURCES.md there): the vendor sheet's example
 * frames, and one poll built from the vendor screenshot's values (synthetic — no public HDHK
 * recording exists), decoded the way `wattline decode` / `backfill` do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decodeGroup, groupRecords } from '../../src/backfill/replay.js';
import { parseInput } from '../../src/backfill/input.js';
import { encodePoints } from '../../src/core/line-protocol.js';
import { systemClock } from '../../src/core/clock.js';
import { hdhkDriver } from '../../src/devices/hdhk/index.js';
import { fixture } from '../helpers/paths.js';

/** CRC-16/MODBUS written here from the spec (poly 0xA001 reflected, init 0xFFFF), not the driver's. */
function modbusCrc(b: Buffer): Buffer {
  let c = 0xffff;
  for (const x of b) {
    c ^= x;
    for (let i = 0; i < 8; i++) c = c & 1 ? (c >>> 1) ^ 0xa001 : c >>> 1;
  }
  return Buffer.from([c & 0xff, c >> 8]);
}

const lines = (t: string) => t.split('\n').filter((l) => l.length > 0);

test('hdhk golden: vendor-screenshot-poll (synthetic from the vendor sheet) decodes to the hand-written points', () => {
  const dir = fixture('hdhk', 'vendor-screenshot-poll');
  const options = hdhkDriver.options.parse(JSON.parse(readFileSync(`${dir}/options.json`, 'utf8')));
  const input = parseInput(readFileSync(`${dir}/capture.jsonl`), 'capture.jsonl', hdhkDriver);
  assert.equal(input.kind, 'captures');
  if (input.kind !== 'captures') return;
  for (const r of input.records) assert.deepEqual(modbusCrc(r.data.subarray(0, -2)), r.data.subarray(-2), `${r.where}: CRC`);
  const ctx = { device: 'board', options, tags: {}, clock: systemClock };
  const groups = [...groupRecords(hdhkDriver, input.records)];
  assert.equal(groups.length, 1);
  const r = decodeGroup(hdhkDriver, groups[0]!, ctx);
  assert.deepEqual(r.errors, []);
  const { lines: got, dropped } = encodePoints(r.points, 'ns');
  assert.deepEqual(dropped, []);
  assert.deepEqual(got, lines(readFileSync(`${dir}/expected.lp`, 'utf8')));
});

test("hdhk golden: the vendor sheet's example frames carry good CRCs, and the driver's capture decoder agrees", () => {
  const { frames } = JSON.parse(readFileSync(fixture('hdhk', 'vendor-frames.json'), 'utf8')) as { frames: { id: string; hex: string }[] };
  const options = hdhkDriver.options.parse({ units: [{ id: 1, channels: { '1': { circuit: 'a' } } }] });
  const ctx = { device: 'board', options, tags: {}, clock: systemClock };
  for (const f of frames) {
    const b = Buffer.from(f.hex.replace(/ /g, ''), 'hex');
    assert.deepEqual(modbusCrc(b.subarray(0, -2)), b.subarray(-2), f.id);
    const r = hdhkDriver.decodeCapture!([{ timeMs: 0, direction: 'tx', data: b }], ctx);
    // The FC03 read is a well-formed request (no reply captured); the writes are not FC03 reads.
    const want = b[1] === 3 ? 'unit 1, registers 0-55: no reply in the capture' : `record 1 (tx ${b.toString('hex')}): not an FC03 request with a good CRC`;
    assert.deepEqual(r.errors, [want], f.id);
  }
});
