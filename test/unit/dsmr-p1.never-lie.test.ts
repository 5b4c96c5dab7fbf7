/**
 * Issue 16: P1 lines from real meters (an acceptance corpus of other projects' recordings)
 * that the decoder read wrongly or dropped. Each telegram is built around the line the issue
 * quotes, with its CRC computed by the test's own CRC-16/ARC (test/helpers/p1-log.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../src/core/clock.js';
import { encodePoints } from '../../src/core/line-protocol.js';
import { decodeTelegram } from '../../src/devices/dsmr-p1/codec.js';
import { dsmrP1Driver } from '../../src/devices/dsmr-p1/index.js';
import { P1Framer } from '../../src/devices/dsmr-p1/framer.js';
import { telegramToPoints } from '../../src/devices/dsmr-p1/points.js';
import type { FieldProblem } from '../../src/devices/problems.js';
import { crc16arc } from '../helpers/p1-log.js';
import { FakeClock } from '../helpers/fake-clock.js';

const AMS = { timezone: 'Europe/Amsterdam' };
const withCrc = (body: string) =>
  `${body}!${crc16arc(body + '!')
    .toString(16)
    .toUpperCase()
    .padStart(4, '0')}\r\n`;
const telegram = (lines: string[]) => withCrc(lines.join('\r\n') + '\r\n');
const fixedClock = (ms: number): Clock => new FakeClock(ms);
const decodeLog = (text: string | Buffer, options: Record<string, unknown> = {}, nowMs = Date.UTC(2024, 0, 1)) =>
  dsmrP1Driver.decode!(Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1'), {
    device: 'm',
    options: dsmrP1Driver.options.parse({ timestamps: 'meter', ...options }),
    tags: {},
    clock: fixedClock(nowMs),
  });

/** Landis+Gyr E350 (DSMR 4.0): its gas reading time carries a lower-case DST flag. */
const E350 = telegram([
  '/XMX5LGBBFFB231215493',
  '',
  '1-3:0.2.8(40)',
  '0-0:1.0.0(150701192959S)',
  '1-0:1.8.1(000123.456*kWh)',
  '0-1:24.1.0(003)',
  '0-1:96.1.0(4730303139333430323231313938343135)',
  '0-1:24.2.1(150701190000s)(00845.206*m3)',
]);

test('E350: 0-1:24.2.1(150701190000s) is 17:00:00Z (lower-case s = summer time, UTC+2), not the telegram clock 17:29:59Z', () => {
  const t = decodeTelegram(new P1Framer().feed(Buffer.from(E350, 'latin1')).map((e) => (e.kind === 'telegram' ? e.text : ''))[0]!, AMS);
  assert.deepEqual(t.errors, []);
  assert.equal(t.mbus[0]!.readingTime, Date.UTC(2015, 6, 1, 17, 0, 0));
  const r = decodeLog(E350, {}, Date.UTC(2015, 6, 1, 17, 30));
  assert.deepEqual(r.errors, []);
  const gas = r.points.find((p) => p.measurement === 'p1_mbus')!;
  assert.equal(gas.time, BigInt(Date.UTC(2015, 6, 1, 17, 0, 0)) * 1_000_000n);
  assert.equal(gas.fields.reading_m3, 845.206);
});

test('an M-Bus reading time that does not parse is a line error (counted), and the reading still goes out', () => {
  const t = decodeTelegram(telegram(['/X', '', '0-1:24.1.0(003)', '0-1:96.1.0(4730)', '0-1:24.2.1(150701190000X)(00845.206*m3)']), AMS);
  assert.equal(t.mbus[0]!.reading, 845.206);
  assert.equal(t.mbus[0]!.readingTime, undefined);
  assert.deepEqual(t.errors, [{ line: 5, message: '0-1:24.2.1: not a timestamp: "150701190000X"; the telegram\'s time is used' }]);
});

test('Kamstrup (SE): kVArh and kVAr are the reactive units whatever their case; decode reports nothing', () => {
  const text = telegram(['/KAM5', '', '0-0:1.0.0(230101120000W)', '1-0:3.8.0(00000012.345*kVArh)', '1-0:4.8.0(00000321.000*kVArh)', '1-0:3.7.0(0000.123*kVAr)', '1-0:4.7.0(0000.000*kVAr)', '1-0:23.7.0(0000.045*kVAr)']);
  const r = decodeLog(text, { timezone: 'Europe/Stockholm' });
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.points[0]!.fields, {
    reactive_energy_import_kvarh: 12.345,
    reactive_energy_export_kvarh: 321,
    reactive_power_import_var: 123,
    reactive_power_export_var: 0,
    reactive_power_import_l1_var: 45,
  });
});

test('a log that ends right after the last CRC (no CR LF) still gives its last telegram', () => {
  const one = telegram(['/ISK5', '', '0-0:1.0.0(231015120000S)', '1-0:1.8.1(000001.000*kWh)']);
  const two = telegram(['/ISK5', '', '0-0:1.0.0(231015120001S)', '1-0:1.8.1(000002.000*kWh)']);
  for (const cut of [2, 1]) {
    const r = decodeLog(one + two.slice(0, two.length - cut));
    assert.deepEqual(r.errors, [], `cut ${cut}`);
    assert.deepEqual(
      r.points.map((p) => p.fields.energy_import_t1_kwh),
      [1, 2],
      `cut ${cut}`,
    );
  }
  // A trailer that really is cut is still reported, and says what it saw.
  const r = decodeLog(one + two.slice(0, two.length - 5));
  assert.equal(r.points.length, 1);
  assert.equal(r.errors.length, 1);
});

test('DSMR 2.2: the equipment id loses the leading space the meter pads it with', () => {
  const t = decodeTelegram(['/ISk5\\2MT382-1004', '', '0-0:96.1.1( ZABF001587315111)', '1-0:1.8.1(00001.001*kWh)', '!', ''].join('\r\n'), AMS);
  assert.deepEqual(t.errors, []);
  assert.equal(t.values.find((v) => v.field === 'equipment_id')!.value, 'ZABF001587315111');
});

test('timestamps: meter: a meter clock outside the plausibility window is replaced by the arrival time, counted and said', () => {
  const arrival = Date.UTC(2024, 5, 1, 12, 0, 0);
  for (const clock of ['000101000000W', '991231235959W']) {
    const t = decodeTelegram(telegram(['/X', '', `0-0:1.0.0(${clock})`, '1-0:1.8.1(000001.000*kWh)']), AMS);
    const problems: FieldProblem[] = [];
    const points = telegramToPoints(t, { device: 'm', tags: {}, options: dsmrP1Driver.options.parse({ timestamps: 'meter' }), receivedAtMs: arrival, problems });
    assert.equal(points[0]!.time, BigInt(arrival) * 1_000_000n, clock);
    assert.deepEqual(
      problems.map((p) => p.reason),
      ['implausible meter clock'],
    );
    assert.match(problems[0]!.detail, new RegExp(clock.slice(0, 6)));
  }
  // Within the window (default 2 h): the meter's clock, no problem.
  const t = decodeTelegram(telegram(['/X', '', '0-0:1.0.0(240601135930S)', '1-0:1.8.1(000001.000*kWh)']), AMS);
  const problems: FieldProblem[] = [];
  const points = telegramToPoints(t, { device: 'm', tags: {}, options: dsmrP1Driver.options.parse({ timestamps: 'meter' }), receivedAtMs: arrival, problems });
  assert.equal(points[0]!.time, BigInt(Date.UTC(2024, 5, 1, 11, 59, 30)) * 1_000_000n);
  assert.deepEqual(problems, []);
  // The window is configurable; 0 turns the check off.
  assert.equal(dsmrP1Driver.options.parse({}).meterClockWindowMs, 7_200_000);
  assert.throws(() => dsmrP1Driver.options.parse({ meterClockWindowMs: -1 }));
});

test('timestamps: meter in a log (no arrival time): a clock in 2000 or later than now is reported with the telegram, not stored', () => {
  const r = decodeLog(telegram(['/X', '', '0-0:1.0.0(000101000000W)', '1-0:1.8.1(000001.000*kWh)']));
  assert.equal(r.errors.length, 1);
  assert.match(r.errors[0]!, /^telegram 1 \(line 3\): 0-0:1\.0\.0 .*000101000000W.*arrival/);
  const { lines } = encodePoints(r.points, 'ms');
  assert.deepEqual(lines, ['p1,device=m energy_import_t1_kwh=1 1704067200000']);
});

test('fuzz finding: a DSMR 2.2/3 gas header whose unit is spelled M3 (or names no unit at all) is read or refused, never a TypeError', () => {
  const gas = (unit: string) =>
    decodeTelegram(['/ISk5\\2MT382-1000', '', '0-1:24.1.0(3)', '0-1:96.1.0(3232323241424344313233343536373839)', `0-1:24.3.0(090212160000)(00)(60)(1)(0-1:24.2.1)(${unit})`, '(00001.001)', '!', ''].join('\r\n'), AMS);
  const upper = gas('M3');
  assert.deepEqual(upper.errors, []);
  assert.equal(upper.mbus[0]!.reading, 1.001);
  assert.equal(upper.mbus[0]!.readingField, 'reading_m3');
  for (const unit of ['constructor', 'toString', 'furlongs']) {
    assert.deepEqual(gas(unit).errors, [{ line: 6, message: `0-1:24.3.0: unknown unit "${unit}"` }], unit);
  }
});

test('fuzz finding: an M-Bus valve position or device type beyond an exact integer is a line error, not an int64-overflowing field', () => {
  const t = decodeTelegram(telegram(['/X', '', '0-1:24.1.0(003)', '0-1:96.1.0(4730)', '0-1:24.2.1(150701190000S)(00845.206*m3)', '0-1:24.4.0(1111111111111111111111)', '0-2:24.1.0(99999999999999999999)']), AMS);
  assert.equal(t.mbus[0]!.valve, undefined);
  assert.equal(t.mbus[0]!.reading, 845.206);
  assert.deepEqual(t.errors, [
    { line: 6, message: '0-1:24.4.0: not a valve position: "1111111111111111111111"' },
    { line: 7, message: '0-2:24.1.0: not a device type: "99999999999999999999"' },
  ]);
});
