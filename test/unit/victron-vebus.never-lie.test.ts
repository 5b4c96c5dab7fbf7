/**
 * Issue 16: VE.Bus values the decoder must not invent. The frames are the ones quoted in
 * the issue from a MultiPlus 24/3000 (an acceptance corpus of real recordings): its AC
 * frame carries inverter current fe ff (−0.02 A) and state byte 0xB7, after the unit
 * answered RAM variable 3's info with an unsigned 1/100 scale.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameError } from '../../src/core/errors.js';
import { IntField } from '../../src/core/point.js';
import { buildFrame, decodeAcInfo, decodeDcInfo, decodeVarInfo, parseFrame, varInfoRequest } from '../../src/devices/victron-vebus/codec.js';
import { DEFAULT_VAR_INFO, LETTER_X, SIGNED_RAM_IDS } from '../../src/devices/victron-vebus/tables.js';
import { PollAssembler, readingToPoints, type VebusReading } from '../../src/devices/victron-vebus/points.js';
import type { FieldProblem } from '../../src/devices/problems.js';

const hex = (s: string) => Buffer.from(s.replaceAll(' ', ''), 'hex');
const frame = (s: string) => parseFrame(hex(s));

const AC_MP24_3000 = '0f 20 01 01 6d b7 08 77 5b 21 00 77 5b fe ff c3 1e';
const VARINFO_3_UNSIGNED = '08 ff 57 8e 9c 7f 8f 00 00 6a';
const DC = buildFrame([0x20, 1, 1, 1, 9, 0x0c, 0x6e, 0x14, 71, 0, 0, 0, 0, 0, 135]);

test('MultiPlus 24/3000: inverter current fe ff is −0.02 A even after the unit says RAM id 3 is unsigned', () => {
  const info = decodeVarInfo(frame(VARINFO_3_UNSIGNED));
  assert.deepEqual(info, { scale: 1 / 100, signed: false, offset: 0 }, 'the unit really answers unsigned');
  const ac = decodeAcInfo(frame(AC_MP24_3000), { ...DEFAULT_VAR_INFO, 3: info! });
  assert.equal(ac.inverterA, -0.02);
  assert.equal(ac.mainsV, 234.15);
  assert.equal(ac.mainsA, 0.33);
  assert.equal(ac.inverterV, 234.15);
  // The mains current too (Victron's own code casts it to sn16: units report it unsigned).
  assert.deepEqual([...SIGNED_RAM_IDS].sort(), [1, 3]);
  const mains = decodeAcInfo(parseFrame(buildFrame([0x20, 1, 1, 1, 9, 8, 0x77, 0x5b, 0x5f, 0xff, 0x77, 0x5b, 0, 0, 0xc3])), {
    ...DEFAULT_VAR_INFO,
    1: { scale: 0.01, signed: false, offset: 0 },
  });
  assert.equal(mains.mainsA, -1.61);
});

test('MultiPlus 24/3000: the whole poll through the assembler gives inverter_a=-0.02, and state 0xB7 is a counted problem, not state=183', () => {
  const asm = new PollAssembler();
  asm.exchange(varInfoRequest(LETTER_X, 3), frame(VARINFO_3_UNSIGNED));
  const reading: VebusReading = {
    ac: [decodeAcInfo(frame(AC_MP24_3000), asm.infos)],
    dc: decodeDcInfo(parseFrame(DC)),
    snapshot: new Map([[4, 52.3]]),
    leds: { on: 1, blink: 0 },
  };
  const problems: FieldProblem[] = [];
  const [dev, l1] = readingToPoints(reading, { device: 'mp', tags: {} }, 1_700_000_000_000, problems);
  assert.equal(l1!.fields.inverter_a, -0.02);
  assert.equal('state' in dev!.fields, false, 'an unknown state byte is not stored as a state');
  assert.ok(dev!.fields.battery_v === 52.3, 'the rest of the reading still goes out');
  assert.deepEqual(
    problems.map((p) => p.reason),
    ['unknown state'],
  );
  assert.match(problems[0]!.detail, /0xB7/);
  // A known state still is one.
  const ok = { ...reading, ac: [{ ...reading.ac[0]!, state: 9 }] };
  const p2: FieldProblem[] = [];
  assert.deepEqual(readingToPoints(ok, { device: 'mp', tags: {} }, 0, p2)[0]!.fields.state, new IntField(9n));
  assert.equal(p2.length, 0);
});

test('RAM-variable info with scale word 0x8000 (fuzz finding): a FrameError, and the assembler keeps the default scale with a counted problem', () => {
  const bad = parseFrame(buildFrame([0xff, 0x58, 0x8e, 0x00, 0x80, 0x8f, 0x00, 0x00]));
  assert.throws(
    () => decodeVarInfo(bad),
    (e) => e instanceof FrameError && /scale word 0x8000/.test(e.message),
  );
  const asm = new PollAssembler();
  asm.exchange(varInfoRequest(LETTER_X, 3), bad);
  assert.deepEqual(asm.infos[3], DEFAULT_VAR_INFO[3]);
  assert.deepEqual(
    asm.problems.map((p) => p.reason),
    ['bad scale'],
  );
  assert.equal(decodeAcInfo(frame(AC_MP24_3000), asm.infos).inverterA, -0.02);
});
