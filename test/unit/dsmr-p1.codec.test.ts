/**
 * The codec: every OBIS variant the descriptors know, the units they arrive in, timestamps
 * on both sides of DST and in the repeated hour, M-Bus placeholders and the DSMR 2.2/3 gas
 * format. Lines are taken from the real captures in test/fixtures/dsmr-p1 (SOURCES.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeHexText, decodeTelegram, scaleDecimal, type Telegram } from '../../src/devices/dsmr-p1/codec.js';
import { OBIS, UNITS } from '../../src/devices/dsmr-p1/tables.js';
import { localToUtc, parseP1Time } from '../../src/devices/dsmr-p1/codec-time.js';

const AMS = 'Europe/Amsterdam';
const tg = (...lines: string[]) => ['/TST5\\test', '', ...lines, '!0000', ''].join('\r\n');
const decode = (...lines: string[]) => decodeTelegram(tg(...lines), { timezone: AMS });
const fields = (t: Telegram) => Object.fromEntries(t.values.map((v) => [v.field, v.value]));
const utc = (iso: string) => Date.parse(iso);

test('kW -> W and kvar -> var by moving the decimal point: exact, no float noise', () => {
  const t = decode('1-0:1.7.0(0001.727*kW)', '1-0:21.7.0(02.010*kW)', '1-0:4.7.0(0000.309*kvar)', '1-0:24.7.0(0000.009*kvar)', '1-0:2.7.0(01.005*kW)');
  assert.deepEqual(fields(t), { power_import_w: 1727, power_import_l1_w: 2010, reactive_power_export_var: 309, reactive_power_export_l1_var: 9, power_export_w: 1005 });
  assert.notEqual(2.01 * 1000, 2010, 'the naive multiplication this avoids gives 2009.9999999999998');
});

test('Wh / varh / W / var (Sagemcom T210-D) land in the same kWh / kvarh / W / var fields', () => {
  const t = decode('1-0:1.8.0(006545766*Wh)', '1-0:1.7.0(000000286*W)', '1-0:4.8.0(003897726*varh)', '1-0:4.7.0(000000166*var)');
  assert.deepEqual(fields(t), { energy_import_kwh: 6545.766, power_import_w: 286, reactive_energy_export_kvarh: 3897.726, reactive_power_export_var: 166 });
});

test('every descriptor: field name, type and unit as declared', () => {
  for (const d of OBIS.values()) {
    const unit = d.unit && d.unit !== 'auto' ? `*${d.unit}` : '';
    let line: string;
    if (d.kind === 'eventlog') line = `${d.code}(2)(0-0:96.7.19)(101208152415W)(0000000240*s)(101208151004W)(0000000301*s)`;
    else if (d.kind === 'stamped') line = `${d.code}(200509134558S)(02.589${unit})`;
    else if (d.kind === 'peaks') line = `${d.code}(1)(1-0:1.6.0)(1-0:1.6.0)(200501000000S)(200423192538S)(03.695${unit})`;
    else if (d.kind === 'string') line = `${d.code}(50)`;
    else if (d.kind === 'hextext') line = `${d.code}(4B384547)`;
    else if (d.kind === 'int') line = `${d.code}(00013)`;
    else line = `${d.code}(012.345${d.unit === 'auto' ? '*kW' : unit})`;
    const t = decode(line);
    assert.deepEqual(t.errors, [], d.code);
    assert.equal(t.values.length, 1, d.code);
    const v = t.values[0];
    const expected: Record<string, [string, number | string]> = {
      eventlog: ['int', 2],
      stamped: ['float', 2589],
      peaks: ['float', 3695],
      string: ['string', '50'],
      hextext: ['string', 'K8EG'],
      int: ['int', 13],
    };
    const [type, value] = expected[d.kind] ?? ['float', d.unit && d.unit !== 'auto' ? 12.345 * 10 ** UNITS[d.unit].pow10 : d.unit === 'auto' ? 12345 : 12.345];
    assert.equal(v.type, type, d.code);
    assert.equal(v.value, value, d.code);
    assert.equal(v.field, d.unit === 'auto' ? `${d.field}_w` : d.field, d.code);
    if (d.unit && d.unit !== 'auto') assert.ok(d.field.endsWith(`_${UNITS[d.unit].suffix}`), `${d.code}: field ${d.field} names its unit`);
  }
});

test('limiter threshold (0-0:17.0.0) is named by the unit it arrives in', () => {
  assert.deepEqual(fields(decode('0-0:17.0.0(0999.00*kW)')), { limiter_threshold_w: 999000 });
  assert.deepEqual(fields(decode('0-0:17.0.0(016*A)')), { limiter_threshold_a: 16 });
  assert.deepEqual(fields(decode('0-0:17.0.0(027.6*kVA)')), { limiter_threshold_va: 27600 });
});

test('a value without a unit is read in the unit the standard sends', () => {
  assert.deepEqual(fields(decode('1-0:1.7.0(0001.01)')), { power_import_w: 1010 });
});

test('counters, tariff, event log (count only), text messages (hex decoded), ids, version', () => {
  const t = decode(
    '1-3:0.2.8(50)',
    '0-0:96.1.1(4B384547303034303436333935353037)',
    '0-0:96.14.0(0002)',
    '0-0:96.7.21(00013)',
    '0-0:96.7.9(00007)',
    '1-0:99.97.0(3)(0-0:96.7.19)(000104180320W)(0000237126*s)(000101000001W)(2147583646*s)(000102000003W)(2317482647*s)',
    '1-0:32.32.0(00002)',
    '1-0:72.36.0(00003)',
    '0-0:96.13.0(303132333435363738393A3B3C3D3E3F)',
    '0-0:96.13.1()',
  );
  assert.equal(t.version, '50');
  assert.deepEqual(fields(t), {
    p1_version: '50',
    equipment_id: 'K8EG004046395507',
    tariff: 2,
    power_failures: 13,
    long_power_failures: 7,
    power_failure_log_entries: 3,
    voltage_sags_l1: 2,
    voltage_swells_l3: 3,
    text_message: '0123456789:;<=>?',
  });
  assert.ok(t.values.filter((v) => v.field !== 'p1_version' && v.field !== 'equipment_id' && v.field !== 'text_message').every((v) => v.type === 'int'));
});

test('hex text: printable ASCII is decoded, anything else kept as sent; all-zero ids give no field', () => {
  assert.equal(decodeHexText('73657450315F6D61785F317068'), 'setP1_max_1ph');
  assert.equal(decodeHexText('3960221976967177082151037881335713'), '3960221976967177082151037881335713'); // 0x19
  assert.equal(decodeHexText('09610'), '09610'); // odd length
  assert.equal(decodeHexText('ADC3100000158491'), 'ADC3100000158491');
  assert.equal(decodeHexText('4G'), '4G');
  assert.deepEqual(fields(decode('0-0:96.1.1(00000000000000)', '0-0:96.13.0()')), {});
});

test('e-MUCS capacity tariff: average demand, month peak, newest closed month from 98.1.0 in either order', () => {
  const newestFirst = decode(
    '1-0:1.4.0(02.351*kW)',
    '1-0:1.6.0(200509134558S)(02.589*kW)',
    '0-0:98.1.0(3)(1-0:1.6.0)(1-0:1.6.0)(200501000000S)(200423192538S)(03.695*kW)(200401000000S)(200305122139S)(05.980*kW)(200301000000S)(200210035421W)(04.318*kW)',
  );
  assert.deepEqual(fields(newestFirst), { demand_avg_w: 2351, demand_month_max_w: 2589, demand_last_month_max_w: 3695 });
  const oldestFirst = decode(
    '0-0:98.1.0(4)(1-0:1.6.0)(1-0:1.6.0)(230801000000S)(632525252525W)(00.000*kW)(230901000000S)(230831181500S)(01.862*kW)(231001000000S)(230910183000S)(04.229*kW)(231101000000W)(231016130000S)(04.927*kW)',
  );
  assert.deepEqual(fields(oldestFirst), { demand_last_month_max_w: 4927 });
  const onlyPlaceholder = decode('0-0:98.1.0(1)(1-0:1.6.0)(1-0:1.6.0)(230801000000S)(632525252525W)(00.000*kW)');
  assert.deepEqual(fields(onlyPlaceholder), {});
  const eonLayout = decode('0-0:98.1.0(230701000000S)(000040.777*kWh)(000008.950*kWh)');
  assert.deepEqual(eonLayout.values, []);
  assert.deepEqual(eonLayout.errors, []);
});

test('unknown OBIS codes are counted, not turned into fields; EasyMeter "*255" suffixes are tolerated', () => {
  const t = decode('1-0:96.5.5*255(80)', '0-0:96.13.2()', '1-1:31.4.0(040*A)(-040*A)', '7-0:3.0.0(1)', '1-0:1.8.0*255(00052185.7825309*kWh)');
  assert.equal(t.unknown, 4);
  assert.deepEqual(fields(t), { energy_import_kwh: 52185.7825309 });
});

test('bad lines become per-line errors with line numbers; the rest still decodes', () => {
  const t = decode(
    '1-0:1.7.0(0001.727*kW)',
    'garbage line',
    '1-0:2.7.0(abc*kW)',
    '1-0:32.7.0(230.1*kW)',
    '1-0:31.7.0(1.0*furlong)',
    '(00001.001)',
    '0-0:96.7.21(x)',
    '0-0:1.0.0(991399999999W)',
    '1-0:1.8(5)',
    '1-0:1.8.1(5)x(6)',
    '1-0:52.7.0(230.2*V)',
  );
  assert.deepEqual(fields(t), { power_import_w: 1727, voltage_l2_v: 230.2 });
  assert.deepEqual(t.errors, [
    { line: 4, message: 'not an OBIS line: "garbage line"' },
    { line: 5, message: '1-0:2.7.0: not a number: "abc"' },
    { line: 6, message: '1-0:32.7.0: unit kW where V was expected' },
    { line: 7, message: '1-0:31.7.0: unknown unit "furlong"' },
    { line: 8, message: 'value without an OBIS code: (00001.001)' },
    { line: 9, message: '0-0:96.7.21: not an integer: "x"' },
    { line: 10, message: '0-0:1.0.0: not a timestamp: "991399999999W"' },
    { line: 11, message: 'not an OBIS code: "1-0:1.8"' },
    { line: 12, message: 'not an OBIS line: "1-0:1.8.1(5)x(6)"' },
  ]);
});

test('the codec never throws, whatever the text', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.string(), fc.constantFrom('1-0:1.7.0(', '0-1:24.2.1(', ')(', '*kW)', '(', '0-1:24.3.0(1)(2)(3)(4)(5)(m3)', '0-0:98.1.0(3)(1-0:1.6.0)')), { maxLength: 20 }), (parts) => {
      decodeTelegram(tg(parts.join(''), ...parts), { timezone: AMS });
    }),
    { numRuns: 300 },
  );
});

test('meter time: W in winter and S in summer (Amsterdam: +01:00 / +02:00)', () => {
  assert.equal(decode('0-0:1.0.0(210115120000W)').meterTime, utc('2021-01-15T11:00:00Z'));
  assert.equal(decode('0-0:1.0.0(210630120000S)').meterTime, utc('2021-06-30T10:00:00Z'));
});

test('meter time: the repeated autumn hour is settled by S/W (2021-10-31 02:30 in Amsterdam)', () => {
  assert.equal(parseP1Time('211031023000S', AMS), utc('2021-10-31T00:30:00Z'));
  assert.equal(parseP1Time('211031023000W', AMS), utc('2021-10-31T01:30:00Z'));
  assert.equal(parseP1Time('211031023000', AMS), utc('2021-10-31T00:30:00Z'), 'no flag: the first pass');
  // Just around it: the last summer second and the first winter second after it.
  assert.equal(parseP1Time('211031025959S', AMS), utc('2021-10-31T00:59:59Z'));
  assert.equal(parseP1Time('211031030000W', AMS), utc('2021-10-31T02:00:00Z'));
});

test('meter time: around the spring change (2021-03-28, 02:xx does not exist in Amsterdam)', () => {
  assert.equal(parseP1Time('210328015959W', AMS), utc('2021-03-28T00:59:59Z'));
  assert.equal(parseP1Time('210328030000S', AMS), utc('2021-03-28T01:00:00Z'));
  assert.equal(parseP1Time('210328023000', AMS), utc('2021-03-28T01:30:00Z'), 'the skipped hour, no flag: winter offset');
});

test('meter time: a meter on standard time all year (T211 says W in August) is read as standard time', () => {
  assert.equal(parseP1Time('210828152453W', 'Europe/Stockholm'), utc('2021-08-28T14:24:53Z'));
  assert.equal(localToUtc('Europe/Stockholm', Date.UTC(2021, 7, 28, 15, 24, 53)), utc('2021-08-28T13:24:53Z'), 'without the flag: the zone');
});

test('meter time: other zones, and no DST zone ignores the flag', () => {
  assert.equal(parseP1Time('200512135409S', 'Europe/Brussels'), utc('2020-05-12T11:54:09Z'));
  assert.equal(parseP1Time('250628011453S', 'Europe/Vilnius'), utc('2025-06-27T22:14:53Z'));
  assert.equal(parseP1Time('210115120000S', 'UTC'), utc('2021-01-15T12:00:00Z'));
});

test('meter time: placeholders and impossible dates are not times', () => {
  for (const s of ['632525252525W', '210431120000W', '211301000000S', '2101151200', '210115120000X', 'abcdefghijklW']) assert.equal(parseP1Time(s, AMS), undefined, s);
});

test('M-Bus: gas, water and heat devices with their own timestamps; the type names the device', () => {
  const t = decode(
    '0-1:24.1.0(003)',
    '0-1:96.1.1(37464C4F32313139303333373333)',
    '0-1:24.4.0(1)',
    '0-1:24.2.3(200512134558S)(00112.384*m3)',
    '0-2:24.1.0(007)',
    '0-2:96.1.0(3853414731323334353637383930)',
    '0-2:24.2.1(200512134558S)(00872.234*m3)',
    '0-3:24.1.0(004)',
    '0-3:96.1.0(621848012D2C0B0C)',
    '0-3:24.2.1(260215200523W)(240.860*GJ)',
  );
  assert.deepEqual(t.mbus, [
    { channel: 1, deviceType: 3, equipmentId: '7FLO2119033733', valve: 1, reading: 112.384, readingField: 'reading_m3', readingTime: utc('2020-05-12T11:45:58Z') },
    { channel: 2, deviceType: 7, equipmentId: '8SAG1234567890', reading: 872.234, readingField: 'reading_m3', readingTime: utc('2020-05-12T11:45:58Z') },
    { channel: 3, deviceType: 4, equipmentId: '621848012D2C0B0C', reading: 240.86, readingField: 'reading_gj', readingTime: utc('2026-02-15T19:05:23Z') },
  ]);
});

test('M-Bus placeholders mean "no device": empty id, all-zero id, 632525252525 or 700101 time, no reading', () => {
  const t = decode(
    '0-1:24.1.0(003)',
    '0-1:96.1.0()',
    '0-1:24.2.1(700101010000W)(00000000)',
    '0-2:24.1.0(003)',
    '0-2:96.1.0(000000000000)',
    '0-2:24.2.1(200426223001S)(00246.138*m3)',
    '0-3:24.1.0(003)',
    '0-3:96.1.0(4730303339303031393336393930363139)',
    '0-3:24.2.1(632525252525W)(00000.000*m3)',
    '0-4:24.1.0(003)',
    '0-4:96.1.0(4730303339303031393336393930363139)',
  );
  assert.deepEqual(t.mbus, []);
  assert.deepEqual(t.errors, []);
});

test('DSMR 2.2/3 gas: 0-n:24.3.0 header, the value on the next line', () => {
  const t = decode('0-1:24.1.0(03)', '0-1:96.1.0(3232323241424344313233343536373839)', '0-1:24.3.0(090212160000)(00)(60)(1)(0-1:24.2.1)(m3)', '(00001.001)', '0-1:24.4.0(1)');
  assert.deepEqual(t.mbus, [{ channel: 1, deviceType: 3, equipmentId: '2222ABCD123456789', reading: 1.001, readingField: 'reading_m3', readingTime: utc('2009-02-12T15:00:00Z'), valve: 1 }]);
  assert.deepEqual(t.errors, []);
});

test('scaleDecimal: correctly rounded, signs, bad input', () => {
  assert.equal(scaleDecimal('0001.727', 3), 1727);
  assert.equal(scaleDecimal('000000058', -3), 0.058);
  assert.equal(scaleDecimal('-040', 0), -40);
  assert.equal(scaleDecimal('00052185.7825309', 0), 52185.7825309);
  for (const bad of ['', '.', '1.2.3', '1e3', '12a', '1234567890123456']) assert.equal(scaleDecimal(bad, 0), undefined, bad);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 99_999_999 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: -3, max: 3 }), (m, frac, p) => {
      const s = (m / 10 ** frac).toFixed(frac);
      assert.equal(scaleDecimal(s, p), Number(`${s}e${p}`));
    }),
  );
});
