/**
 * The Itho codec and the pigpiod packing on every frame of docs/protocols/itho-wpu.md §4: the request
 * frames [verified there], the real node-id and 92-code datatype replies and the partial
 * real datalog of pommi/python-itho-wpu#2, and the byte-exact pigpiod socket examples.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameError } from '../../src/core/errors.js';
import { checkReply, checksum, compileLayout, decodeCounters, decodeDatalog, decodeManual, decodeNodeId, decodeSerial, decodeSetting, requests } from '../../src/devices/itho-wpu/codec.js';
import { dataType, knownDataTypes, readRaw, scale } from '../../src/devices/itho-wpu/tables.js';
import { bscSlaveControl, isEvent, pack, parseReport } from '../../src/devices/itho-wpu/link-pigpio.js';
import { datalogPoint, planFrom } from '../../src/devices/itho-wpu/points.js';
import { IntField } from '../../src/core/point.js';
import fc from 'fast-check';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const show = (b: Buffer) =>
  b
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1 ');

test('request frames are byte-exact (docs/protocols/itho-wpu.md §4.2, verified frames)', () => {
  assert.equal(show(requests.nodeid().frame), '80 90 E0 04 00 8A');
  assert.equal(show(requests.serial().frame), '80 90 E1 04 00 89');
  assert.equal(show(requests.datatype().frame), '80 A4 00 04 00 56');
  assert.equal(show(requests.datalog().frame), '80 A4 01 04 00 55');
  assert.equal(show(requests.counters().frame), '80 42 10 04 00 A8');
  assert.equal(show(requests.getSetting(1).frame), `80 A4 10 04 13 ${'00 '.repeat(16)}00 01 00 32`);
  assert.equal(show(requests.setSetting(139, 48).frame), `80 A4 10 06 13 00 00 00 30 ${'00 '.repeat(12)}00 8B 00 76`);
  assert.equal(show(requests.getManual(0).frame), '80 40 30 04 04 01 00 00 01 84');
  assert.equal(show(requests.setManual(37, 0, 1, true).frame), '80 40 30 06 07 01 00 25 00 00 01 01 59');
  assert.equal(requests.setSetting(139, 48).write, true);
  assert.equal(requests.datalog().write, false);
});

test('the request checksum includes the destination address byte 0x82', () => {
  const f = requests.datalog().frame;
  const sum = [0x82, ...f].reduce((a, b) => a + b, 0);
  assert.equal(sum % 256, 0);
  // Without the address byte the sum would be off by exactly 0x82.
  assert.notEqual([...f].reduce((a, b) => a + b, 0) % 256, 0);
  assert.equal(checksum(hex('80 A4 01 04 00'), 0x82), 0x55);
});

const NODEID = hex('82 90 E0 01 07 00 01 00 0D 3A 1F 00 1F');
const DATATYPE = hex(
  '82 A4 00 01 5C 92 92 92 92 92 92 92 92 92 92 92 92 92 92 0C 0C 0C 10 10 0C 00 00 00 10 10 0C 0C 0C 0C 0C 10 92 92 00 00 00 00 92 92 00 00 10 0C 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 10 00 20 00 00 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 0C 00 00 79',
);
const DATALOG_PARTIAL = hex('82 A4 01 01 88 FC 18 06 A4 11 5D 05 95 04 66 0F A8 0A 3B 04 45 03 50 09 A9 0B A8 00 96 00 00');

test('real node-id reply: HCCP WPU, product version 58, list version 31', () => {
  const id = decodeNodeId(checkReply(NODEID, 'nodeid'));
  assert.deepEqual(id, { manufacturerGroup: 1, manufacturer: 0, manufacturerName: 'HCCP', hardwareType: 13, hardwareName: 'WPU', productVersion: 58, listVersion: 31 });
});

test('real 92-code datatype reply: checks pass, the codes match the run-length form, widths sum to 0x88', () => {
  const codes = [...checkReply(DATATYPE, 'datatype')];
  assert.equal(codes.length, 92);
  const rle = '92×14 0C×3 10×2 0C 00×3 10×2 0C×5 10 92×2 00×4 92×2 00×2 10 0C 10×17 00 20 00×2 0C×26 00×2';
  const expanded = rle.split(' ').flatMap((t) => {
    const [c, n] = t.split('×');
    return new Array<number>(Number(n ?? 1)).fill(parseInt(c!, 16));
  });
  assert.deepEqual(codes, expanded);
  assert.equal(compileLayout(codes).length, 0x88);
});

test('partial real datalog: the twelve 0x92 fields decode to the documented values; the cut frame is refused as truncated', () => {
  const layout = compileLayout([...checkReply(DATATYPE, 'datatype')]);
  const payload = Buffer.alloc(0x88);
  DATALOG_PARTIAL.copy(payload, 0, 5);
  const values = decodeDatalog(payload, layout);
  assert.deepEqual(values.slice(0, 12), [-10.0, 17.0, 44.45, 14.29, 11.26, 40.08, 26.19, 10.93, 8.48, 24.73, 29.84, 1.5]);
  assert.throws(
    () => checkReply(DATALOG_PARTIAL, 'datalog'),
    (e: unknown) => e instanceof FrameError && e.reason === 'truncated' && /31 of 142 bytes/.test(e.message),
  );
});

test('the datalog must be exactly as long as the datatype widths say', () => {
  const layout = compileLayout([0x92, 0x00]);
  assert.throws(() => decodeDatalog(Buffer.alloc(4), layout), /datalog of 4 bytes, but the datatype list's 2 fields need 3/);
});

test('reply checks: source 0x82, checksum, length, type 0x01, and BOTH class bytes', () => {
  const fix = (f: Buffer) => {
    f[f.length - 1] = checksum(f, 0x80, f.length - 1);
    return f;
  };
  const other = fix(Buffer.from(NODEID));
  other[0] = 0x84;
  fix(other);
  assert.throws(() => checkReply(other, 'nodeid'), /source 0x84, not the WPU \(0x82\)/);
  const bad = Buffer.from(NODEID);
  bad[bad.length - 1] ^= 1;
  assert.throws(
    () => checkReply(bad, 'nodeid'),
    (e: unknown) => e instanceof FrameError && e.reason === 'checksum',
  );
  const long = fix(Buffer.concat([NODEID.subarray(0, -1), Buffer.from([0, 0])]));
  assert.throws(
    () => checkReply(long, 'nodeid'),
    (e: unknown) => e instanceof FrameError && e.reason === 'length',
  );
  const type = Buffer.from(NODEID);
  type[3] = 0x04;
  assert.throws(() => checkReply(fix(type), 'nodeid'), /message type 0x04/);
  // Only the second class byte differs: the original's AND accepted this.
  const cls = Buffer.from(NODEID);
  cls[2] = 0xe1;
  assert.throws(() => checkReply(fix(cls), 'nodeid'), /class 0x90 0xE1, asked for nodeid/);
  const cls1 = Buffer.from(NODEID);
  cls1[1] = 0x91;
  assert.throws(() => checkReply(fix(cls1), 'nodeid'), /class 0x91 0xE0/);
  assert.equal(checkReply(NODEID, 'nodeid').length, 7);
});

test('type-code table: widths, signs, decimals; 0x12/0x13/0x14 divide the whole 16-bit value', () => {
  const t12 = dataType(0x12)!;
  assert.equal(scale(readRaw(hex('09 77'), 0, t12), t12), 24.23); // the original gave 2305.19
  assert.equal(scale(readRaw(hex('09 77'), 0, dataType(0x13)!), dataType(0x13)!), 2.423);
  assert.equal(scale(readRaw(hex('09 77'), 0, dataType(0x14)!), dataType(0x14)!), 0.2423);
  assert.equal(scale(readRaw(hex('FF'), 0, dataType(0x80)!), dataType(0x80)!), -1);
  assert.equal(scale(readRaw(hex('FF'), 0, dataType(0x00)!), dataType(0x00)!), 255);
  assert.equal(scale(readRaw(hex('F6'), 0, dataType(0x81)!), dataType(0x81)!), -1);
  assert.equal(scale(readRaw(hex('85'), 0, dataType(0x8f)!), dataType(0x8f)!), -0.123);
  assert.equal(scale(readRaw(hex('FF FF FF FE'), 0, dataType(0xa0)!), dataType(0xa0)!), -2);
  assert.equal(scale(readRaw(hex('FF FF FF FE'), 0, dataType(0x20)!), dataType(0x20)!), 4294967294);
  assert.equal(scale(readRaw(hex('00 00 30 39'), 0, dataType(0x22)!), dataType(0x22)!), 123.45);
  const widths = Object.fromEntries(knownDataTypes().map((t) => [t.code, t.width]));
  for (const c of [0x00, 0x01, 0x02, 0x0c, 0x0f, 0x6c, 0x80, 0x81, 0x82, 0x8f]) assert.equal(widths[c], 1, `0x${c.toString(16)}`);
  for (const c of [0x10, 0x11, 0x12, 0x13, 0x14, 0x51, 0x90, 0x91, 0x92]) assert.equal(widths[c], 2, `0x${c.toString(16)}`);
  for (const c of [0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5]) assert.equal(widths[c], 4, `0x${c.toString(16)}`);
});

test('an unknown type code is an error naming the code and the field; a width-only code is skipped, not guessed', () => {
  assert.throws(() => compileLayout([0x92, 0x33], (i) => ['t_out', 't_boildwn'][i]!), /unknown type code 0x33 for t_boildwn \(position 1\)/);
  const layout = compileLayout([0x0f, 0x92]);
  assert.deepEqual(decodeDatalog(hex('AA 00 96'), layout), [undefined, 1.5]);
});

test('serial, setting, manual and counters payloads', () => {
  assert.equal(decodeSerial(hex('12 D6 87')), 1234567);
  const setting = hex(`00 00 00 30 00 00 00 1E 00 00 00 3C 00 00 00 01 10 8B 00`);
  assert.deepEqual(decodeSetting(setting), { id: 139, datatype: 0x10, value: 48, min: 30, max: 60, step: 1 });
  const s11 = hex(`00 00 00 19 00 00 00 05 00 00 00 64 00 00 00 05 11 02 00`);
  assert.deepEqual(decodeSetting(s11), { id: 2, datatype: 0x11, value: 2.5, min: 0.5, max: 10, step: 0.5 });
  assert.deepEqual(decodeManual(hex('01 00 25 00 00 01')), { id: 37, datatype: 0, value: 1 });
  assert.deepEqual(decodeManual(hex('01 00 05 92 FF 9C')), { id: 5, datatype: 0x92, value: -1 });
  assert.deepEqual(decodeCounters(hex('32 49 14 C9 00 25')), [12873, 5321, 37]);
});

test('pigpiod packings are byte-exact (docs/protocols/itho-wpu.md §4.7)', () => {
  assert.equal(show(pack.noib()), '63 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00');
  assert.equal(show(pack.evm(0, 0x80000000)), '73 00 00 00 00 00 00 00 00 00 00 80 00 00 00 00');
  assert.equal(bscSlaveControl(0x40), 0x00400305);
  assert.equal(show(pack.bscx(bscSlaveControl(0x40))), '72 00 00 00 05 03 40 00 00 00 00 00 00 00 00 00');
  assert.equal(show(pack.bscx(0)), '72 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00');
  assert.equal(show(pack.i2cOpen(1, 0x41, 0)), '36 00 00 00 01 00 00 00 41 00 00 00 04 00 00 00 00 00 00 00');
  assert.equal(show(pack.i2cWriteDevice(0, requests.datalog().frame)), '39 00 00 00 00 00 00 00 00 00 00 00 06 00 00 00 80 A4 01 04 00 55');
  assert.equal(show(pack.i2cClose(0)), '37 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00');
  assert.equal(show(pack.nc(3)), '15 00 00 00 03 00 00 00 00 00 00 00 00 00 00 00');
});

test('a BSC event report and a BSCX reply carrying the node-id frame', () => {
  const r = parseReport(hex('07 00 9F 00 10 27 00 00 00 00 00 00'));
  assert.deepEqual(r, { seq: 7, flags: 0x9f, tick: 10000, level: 0 });
  assert.equal(isEvent(r, 31), true);
  assert.equal(isEvent({ ...r, flags: 0xdf }, 31), false, 'keep-alive bit');
  const reply = hex('72 00 00 00 05 03 40 00 00 00 00 00 11 00 00 00 12 00 00 00 82 90 E0 01 07 00 01 00 0D 3A 1F 00 1F');
  const res = reply.readInt32LE(12);
  assert.equal(res, 4 + 13);
  assert.equal(reply.readUInt32LE(16) & 0xffff, 0x12);
  assert.equal(decodeNodeId(checkReply(reply.subarray(20, 16 + res), 'nodeid')).listVersion, 31);
});

test('the compiled datalog decoder of points.ts gives what decodeDatalog gives, for any type list and payload (fast-check)', () => {
  const codes = knownDataTypes().map((t) => t.code);
  const nodeid = decodeNodeId(checkReply(NODEID, 'nodeid'));
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...codes), { minLength: 1, maxLength: 40 }), fc.uint8Array({ minLength: 160, maxLength: 160 }), (list, bytes) => {
      const layout = compileLayout(list);
      const payload = Buffer.from(bytes.subarray(0, layout.length));
      const labels = list.map((_, i) => ({ key: `f${i}`, name: `F${i}`, title: null, tooltip: null, unit: null }));
      const built = datalogPoint(planFrom(nodeid, labels, layout, []), payload, 0, { device: 'd', tags: {} });
      const expected = decodeDatalog(payload, layout);
      const fields = built.points[0]!.fields;
      expected.forEach((v, i) => {
        const got = fields[`f${i}`];
        if (v === undefined) assert.equal(got, undefined);
        else if (layout.types[i]!.decimals > 0) assert.equal(got, v);
        else assert.ok(got instanceof IntField && got.value === BigInt(v), `f${i}: ${String(got)} vs ${v}`);
      });
      assert.equal(built.dropped.length, expected.filter((v) => v === undefined).length);
    }),
    { numRuns: 300 },
  );
});
