/**
 * PowerWalker PDU/ATS codec: wire bytes checked by hand against docs/protocols/powerwalker.md §1.4/§1.6 (the
 * ASCII table, not the code), the decoded sample replies of §1.7, and the bad inputs §1.9
 * asks a careful port to refuse.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameError } from '../../src/core/errors.js';
import { decodeAts, decodeAtsMemory, decodeAtsStatus, decodeRatings, atsMemoryCommand } from '../../src/devices/powerwalker-ats/codec.js';
import { cancelCommand, decodeCountdowns, decodeEnergy, decodeMemory, decodeModel, decodePowers, decodeStatus, memoryCommand, shutdownCommand, shutdownDelayCode } from '../../src/devices/powerwalker-pdu/codec.js';
import { decodeFirmware, decodeProtocolId, encodeCommand, replyPayload, tokens } from '../../src/devices/powerwalker/codec.js';
import { ReplyFramer } from '../../src/devices/powerwalker/framer.js';

const hex = (b: Buffer) => [...b].map((x) => x.toString(16).padStart(2, '0').toUpperCase()).join(' ');
const frameError = (reason: FrameError['reason']) => (e: unknown) => e instanceof FrameError && e.reason === reason;

test('wire bytes as in docs/protocols/powerwalker.md §1.4 and §1.6', () => {
  assert.equal(hex(encodeCommand('QGS')), '51 47 53 0D');
  assert.equal(hex(encodeCommand(shutdownCommand(8, 1, 0))), '53 2C 38 2E 31 52 30 30 30 30 0D'); // S,8.1R0000
  assert.equal(hex(encodeCommand(cancelCommand(8))), '43 53 2C 38 0D'); // CS,8
  assert.equal(hex(encodeCommand(memoryCommand(10))), '51 47 4D 30 3A 0D'); // QGM0:
  assert.throws(() => encodeCommand('QG S'), RangeError);
});

test('immediate shutdown is S,<o>00 (the original sent S,8 for "0"); every delay form', () => {
  assert.equal(shutdownCommand(8, 0), 'S,800');
  assert.equal(shutdownCommand('A', 0, 5), 'S,A00R0005');
  assert.equal(shutdownCommand(3, 5), 'S,3.5');
  assert.equal(shutdownCommand(1, 20), 'S,102');
  assert.equal(shutdownCommand(2, 990, 9999), 'S,299R9999');
  assert.equal(shutdownDelayCode(9), '.9');
  assert.throws(() => shutdownDelayCode(15), RangeError); // 1.5 min: not expressible in two characters
  assert.throws(() => shutdownDelayCode(1000), RangeError);
  assert.throws(() => shutdownCommand(9, 1), RangeError);
  assert.throws(() => shutdownCommand(1, 1, 10_000), RangeError);
  assert.equal(memoryCommand(0), 'QGM00');
  assert.equal(memoryCommand(14), 'QGM0>');
  assert.throws(() => memoryCommand(15), RangeError);
  assert.equal(atsMemoryCommand(0), 'GM0000');
  assert.equal(atsMemoryCommand(20), 'GM0020');
});

test('§1.7 PDU samples decode to the documented values', () => {
  const s = decodeStatus(replyPayload('(0000000011111111 225.5 49.8 2.1 0.4 0.5 0.3 0.1 0.2 0.2 0.3 0.0 36.0', 'QGS'));
  assert.deepEqual(s.outletStatus, [1, 1, 1, 1, 1, 1, 1, 1]);
  assert.equal(s.alarmBits, 0);
  assert.ok(Object.values(s.alarms).every((v) => v === 0));
  assert.deepEqual([s.inputV, s.inputHz, s.inputA, s.temperatureC], [225.5, 49.8, 2.1, 36]);
  assert.deepEqual(s.outletA, [0.4, 0.5, 0.3, 0.1, 0.2, 0.2, 0.3, 0.0]);

  assert.deepEqual(decodePowers(replyPayload('(441 62 108 74 37 39 33 57 0', 'QPW'), 'QPW'), { input: 441, outlets: [62, 108, 74, 37, 39, 33, 57, 0] });
  assert.deepEqual(decodePowers(replyPayload('(478 108 123 83 47 43 65 70 0', 'QPVA'), 'QPVA').outlets[1], 123);
  const e = decodeEnergy(replyPayload('(725.9 4.3 103.4 17.4 114.0 201.9 106.8 47.6 19.8', 'QEC'));
  assert.equal(e.input, 725.9);
  assert.equal(e.outlets[7], 19.8);

  const m = decodeModel(replyPayload('(############PDU 1/1 230 230 1 8', 'QMD'));
  assert.deepEqual(m, { model: '############PDU', inOutPhase: '1/1', nominalInputV: 230, nominalOutputV: 230, inputSockets: 1, outputSockets: 8 });
  assert.equal(decodeProtocolId(replyPayload('(PI90\r', 'QPI')), 'PI90');
  assert.equal(decodeFirmware(replyPayload('(VERFW:00.15', 'QVFW')), '00.15');
});

test('alarm flags and outlet codes by position (§1.5)', () => {
  const s = decodeStatus('1001010003215064 190.0 50.0 9.9 1 1 1 1 1 1 1 1 40');
  assert.equal(s.alarms.alarm_low_input_v, 1);
  assert.equal(s.alarms.alarm_high_input_v, 0);
  assert.equal(s.alarms.alarm_high_input_a, 1);
  assert.equal(s.alarms.alarm_aux2_power_fail, 1);
  assert.equal(s.alarmBits, 0b10010100);
  assert.deepEqual(s.outletStatus, [0, 3, 2, 1, 5, 0, 6, 4]);
});

test('QSR: the first 4 / 6 characters of the 2nd / 3rd token of each triplet are the countdowns', () => {
  const triplets = Array.from({ length: 8 }, (_, i) => (i === 2 ? '0 0042x 000180yy' : '0 0000 000000')).join(' ');
  const c = decodeCountdowns(triplets);
  assert.deepEqual(c[2], { shutdownS: 42, restoreS: 180 });
  assert.deepEqual(c[0], { shutdownS: 0, restoreS: 0 });
  assert.throws(() => decodeCountdowns(triplets.replace('0042x', 'ab12')), frameError('syntax'));
});

test('memory map: hex digits sent as :;<=>? and the per-outlet config byte (§1.6)', () => {
  const o = decodeMemory('01??14', 1);
  assert.equal(o.kind, 'outlet');
  if (o.kind === 'outlet') {
    assert.equal(o.config, 0xff);
    assert.equal(o.currentAlarmA, 2);
    assert.deepEqual([o.onAtPowerOn, o.overloadDisconnect, o.buttonEnabled], [true, false, true]);
  }
  const w = decodeMemory('0;0114', 11);
  assert.deepEqual([w.kind, w.kind === 'word' && w.key, w.kind === 'word' && w.value], ['word', 'max_input_voltage_shutoff', 276]);
  const off = decodeMemory('0;????', 11);
  assert.ok(off.kind === 'word' && off.disabled && off.raw === 0xffff);
  assert.equal((decodeMemory('0=00;=', 13) as { value: number }).value, 18.9); // 0xBD = 189 tenths of an ampere, with B and D in quirk form
  assert.throws(() => decodeMemory('0;01', 11), frameError('length'));
  assert.throws(() => decodeMemory('0;0G14', 11), frameError('syntax'));
});

test('§1.7 ATS samples: QATS, QAS (only on_src1), QRI with ---.-, GM', () => {
  const a = decodeAts(replyPayload('(227.3 50.0 227.3 50.0 14.0 2.2 1.0 35.0', 'QATS'));
  assert.deepEqual(a, {
    sources: [
      { voltageV: 227.3, frequencyHz: 50 },
      { voltageV: 227.3, frequencyHz: 50 },
    ],
    loadPct: 14,
    outputA: 2.2,
    syncAngleDeg: 1,
    temperatureC: 35,
  });
  const st = decodeAtsStatus(replyPayload('(000000010000000000000000', 'QAS'));
  assert.equal(st.flags.on_src1, 1);
  assert.equal(
    Object.values(st.flags).reduce((x, y) => x + y, 0),
    1,
  );
  assert.equal(st.bits, 1 << 16);
  assert.deepEqual(decodeRatings(replyPayload('(230.0 016 ---.- 50.0', 'QRI')), { ratedOutputV: 230, ratedOutputA: 16, ratedOutputHz: 50 });
  assert.deepEqual(decodeAtsMemory('258', 0), { address: 0, key: 'src1_voltage_high_loss', value: 258 });
  assert.equal(decodeFirmware('VERFW:181.0'), '181.0');
});

test('bad replies: no "(", wrong field count, wrong status length, garbage, non-numbers', () => {
  assert.throws(() => replyPayload('PI90', 'QPI'), frameError('syntax'));
  assert.throws(() => replyPayload(Buffer.from([0x28, 0xff, 0x41]), 'QPI'), frameError('syntax'));
  assert.throws(() => decodePowers('441 62 108', 'QPW'), frameError('length'));
  // A stale QPVA reply read as QGS: 9 fields, not 13.
  assert.throws(() => decodeStatus('478 108 123 83 47 43 65 70 0'), frameError('length'));
  assert.throws(() => decodeStatus('000000001111111 225.5 49.8 2.1 0.4 0.5 0.3 0.1 0.2 0.2 0.3 0.0 36.0'), /15 characters, expected 16/);
  // An unknown outlet status digit is no longer a bad reply: powerwalker.never-lie.test.ts.
  assert.throws(() => decodeStatus('0000000211111111 225.5 49.8 2.1 0.4 0.5 0.3 0.1 0.2 0.2 0.3 0.0 36.0'), /alarm flag 7/);
  assert.throws(() => decodeStatus('0000000011111111 225.5 49.8 2.1 0.4 0.5 x 0.1 0.2 0.2 0.3 0.0 36.0'), frameError('syntax'));
  assert.throws(() => decodeAtsStatus('00000001000000000000000'), /23 characters, expected 24/);
  assert.throws(() => decodeAtsStatus('000000010000000000000002'), frameError('syntax'));
  assert.throws(() => decodeAts('227.3 50.0 227.3 50.0 14.0 2.2 1.0'), frameError('length'));
  assert.throws(() => decodeProtocolId('NAK'), frameError('syntax'));
  assert.throws(() => decodeFirmware('0.15'), frameError('syntax'));
  assert.deepEqual(tokens(' a  b ', 2, 'X'), ['a', 'b']);
});

test('framer: replies end at CR, split at every byte, NUL padding of HID reports dropped', () => {
  const wire = Buffer.from('(PI90\r\0\0(441 62 108 74 37 39 33 57 0\r', 'latin1');
  for (let cut = 0; cut <= wire.length; cut++) {
    const f = new ReplyFramer();
    const frames = [...f.push(wire.subarray(0, cut)), ...f.push(wire.subarray(cut))].map((b) => b.toString('latin1'));
    assert.deepEqual(frames, ['(PI90', '(441 62 108 74 37 39 33 57 0'], `cut at ${cut}`);
    assert.equal(f.pending, 0);
  }
  const f = new ReplyFramer();
  assert.deepEqual(f.push(Buffer.alloc(600, 0x41)), []);
  assert.equal(f.overflows, 1);
});
