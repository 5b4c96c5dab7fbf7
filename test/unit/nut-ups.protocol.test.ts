/**
 * upsd protocol parsing on recorded exchanges. Sources: NUT developer guide, "Network
 * protocol information" (docs/net-protocol.txt: LIST VAR, LIST UPS, quoting, ERR replies),
 * and a session with upsd 2.8.0 + dummy-ups on Debian 12 (the LIST VAR below, trimmed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameError } from '../../src/core/errors.js';
import { ListReader, NutError, parseErr, parseList, quote, tokenize } from '../../src/devices/nut-ups/codec.js';
import { LineFramer, MAX_LINE } from '../../src/devices/nut-ups/framer.js';
import { decodeStatus, decodeVariables, deviceInfo, sanitiseName, STATUS_FLAGS, VARIABLES } from '../../src/devices/nut-ups/tables.js';
import { readingToPoint } from '../../src/devices/nut-ups/points.js';
import { encodePoint } from '../../src/core/line-protocol.js';

const toLineProtocol = (p: Parameters<typeof encodePoint>[0]) => encodePoint(p, 'ns');

// Recorded from upsd 2.8.0 (dummy-ups), plus a model with escaped quotes and a backslash.
const LIST_VAR = [
  'BEGIN LIST VAR myups',
  'VAR myups battery.charge "80"',
  'VAR myups battery.runtime "3600"',
  'VAR myups device.mfr "APC"',
  'VAR myups device.model "Smart-UPS \\"1500\\" C:\\\\ups"',
  'VAR myups device.serial "AS1234"',
  'VAR myups driver.parameter.pollinterval "2"',
  'VAR myups input.voltage "230.4"',
  'VAR myups ups.load "23"',
  'VAR myups ups.power-factor "0.91"',
  'VAR myups ups.status "OB DISCHRG"',
  'VAR myups ups.test.result "Done and passed"',
  'END LIST VAR myups',
  '',
].join('\n');

test('tokenize: plain words, quoted values with spaces, escaped quotes and backslashes', () => {
  assert.deepEqual(tokenize('VAR su700 ups.mfr "American Power Conversion"'), ['VAR', 'su700', 'ups.mfr', 'American Power Conversion']);
  assert.deepEqual(tokenize('VAR u x "say \\"hi\\""'), ['VAR', 'u', 'x', 'say "hi"']);
  assert.deepEqual(tokenize('VAR u x "C:\\\\dir"'), ['VAR', 'u', 'x', 'C:\\dir']);
  assert.deepEqual(tokenize('VAR u x ""'), ['VAR', 'u', 'x', '']);
  assert.deepEqual(tokenize('  OK   Goodbye '), ['OK', 'Goodbye']);
  assert.throws(() => tokenize('VAR u x "open'), FrameError);
  assert.throws(() => tokenize('VAR u x \\'), FrameError);
});

test('quote: round-trips through tokenize', () => {
  for (const s of ['plain', 'with space', 'q"uote', 'back\\slash', '']) assert.deepEqual(tokenize(`USERNAME ${quote(s)}`), ['USERNAME', s]);
  assert.throws(() => quote('a\nb'), RangeError);
});

test('ERR replies become NutError with the code', () => {
  for (const code of ['ACCESS-DENIED', 'UNKNOWN-UPS', 'DATA-STALE', 'VAR-NOT-SUPPORTED']) {
    const err = parseErr(`ERR ${code}`);
    assert.ok(err instanceof NutError);
    assert.equal(err.nutCode, code);
    assert.equal(err.code, `nut.${code}`);
  }
  assert.equal(parseErr('ERR INVALID-ARGUMENT extra words')?.extra, 'extra words');
  assert.equal(parseErr('OK'), undefined);
  assert.throws(
    () => parseList('VAR', 'myups', 'ERR UNKNOWN-UPS\n'),
    (e: unknown) => e instanceof NutError && e.nutCode === 'UNKNOWN-UPS',
  );
  assert.throws(
    () => parseList('VAR', 'myups', 'ERR DATA-STALE\n'),
    (e: unknown) => e instanceof NutError && e.nutCode === 'DATA-STALE',
  );
});

test('LIST VAR block parses every variable', () => {
  const vars = parseList('VAR', 'myups', LIST_VAR);
  assert.equal(vars.size, 11);
  assert.equal(vars.get('device.model'), 'Smart-UPS "1500" C:\\ups');
  assert.equal(vars.get('ups.status'), 'OB DISCHRG');
});

test('LIST UPS block', () => {
  const ups = parseList('UPS', undefined, 'BEGIN LIST UPS\nUPS su700 "Development box"\nUPS other ""\nEND LIST UPS\n');
  assert.deepEqual(
    [...ups.entries()],
    [
      ['su700', 'Development box'],
      ['other', ''],
    ],
  );
});

test('LIST VAR for another UPS or a truncated block is an error', () => {
  assert.throws(() => parseList('VAR', 'myups', 'BEGIN LIST VAR other\nEND LIST VAR other\n'), FrameError);
  assert.throws(() => parseList('VAR', 'myups', 'BEGIN LIST VAR myups\nVAR myups a "1"\n'), FrameError);
  assert.throws(() => parseList('VAR', 'myups', 'BEGIN LIST VAR myups\nVAR myups a\nEND LIST VAR myups\n'), FrameError);
});

test('framer: the LIST VAR reply split at every position gives the same lines (CRLF too)', () => {
  const whole = new LineFramer().push(LIST_VAR);
  for (const text of [LIST_VAR, LIST_VAR.replace(/\n/g, '\r\n')]) {
    const bytes = Buffer.from(text, 'utf8');
    for (let i = 0; i <= bytes.length; i++) {
      const f = new LineFramer();
      const lines = [...f.push(bytes.subarray(0, i)), ...f.push(bytes.subarray(i))];
      assert.deepEqual(lines, whole, `split at ${i}`);
    }
  }
});

test('framer: an oversize line is dropped and counted, the next one survives', () => {
  const f = new LineFramer();
  const lines = [...f.push('x'.repeat(10_000)), ...f.push('yy\nOK\n')];
  assert.deepEqual(lines, ['OK']);
  assert.equal(f.oversize, 1);
});

test('framer: 100 MB without a line break is counted once and never held (issue 23)', () => {
  const f = new LineFramer();
  const chunk = Buffer.alloc(64 * 1024, 'z');
  const held = () => (f as unknown as { buf: string }).buf.length;
  let most = 0;
  for (let sent = 0; sent < 100 * 1024 * 1024; sent += chunk.length) {
    assert.deepEqual(f.push(chunk), []);
    most = Math.max(most, held());
  }
  assert.deepEqual(f.push('tail\nOK\n'), ['OK']);
  assert.equal(f.oversize, 1);
  assert.ok(most <= MAX_LINE + chunk.length, `held ${most} characters`);
});

test('ListReader: ERR in place of BEGIN', () => {
  const r = new ListReader('VAR', 'u');
  const out = r.push('ERR ACCESS-DENIED');
  assert.ok(out.done && !out.ok && out.error.nutCode === 'ACCESS-DENIED');
});

test('status flags: every word in the table, unknown words kept aside', () => {
  const s = decodeStatus('OB LB DISCHRG ECO');
  assert.equal(s.flags.on_battery, 1);
  assert.equal(s.flags.low_battery, 1);
  assert.equal(s.flags.discharging, 1);
  assert.equal(s.flags.on_line, 0);
  assert.deepEqual(s.unknown, ['ECO']);
  const all = decodeStatus(STATUS_FLAGS.map((f) => f.word).join(' '));
  assert.ok(Object.values(all.flags).every((v) => v === 1));
});

test('every descriptor has a unit suffix matching its unit', () => {
  const suffix: Record<string, string> = { '%': '_pct', s: '_s', V: '_v', A: '_a', Hz: '_hz', W: '_w', VA: '_va', '°C': '_c' };
  for (const v of VARIABLES) {
    if (v.type === 'string') continue;
    assert.ok(v.field.endsWith(suffix[v.unit]!), `${v.nut} -> ${v.field} (${v.unit})`);
  }
  assert.equal(sanitiseName('ups.power-factor'), 'ups_power_factor');
});

test('recorded LIST VAR -> one ups point (golden line)', () => {
  const vars = parseList('VAR', 'myups', LIST_VAR);
  const decoded = decodeVariables(vars);
  assert.deepEqual(decoded.bad, []);
  const info = deviceInfo(vars);
  assert.deepEqual(info, { mfr: 'APC', model: 'Smart-UPS "1500" C:\\ups', serial: 'AS1234' });
  const point = readingToPoint({ ups: 'myups', decoded, info, timeMs: 1_700_000_000_000 }, { device: 'rack', tags: {}, infoTags: true })!;
  assert.equal(
    toLineProtocol(point),
    'ups,device=rack,mfr=APC,model=Smart-UPS\\ "1500"\\ C:\\ups,serial=AS1234,ups=myups ' +
      'alarm_active=0i,battery_charge_pct=80,battery_runtime_s=3600i,boosting=0i,bypass=0i,calibrating=0i,charging=0i,discharging=1i,forced_shutdown=0i,' +
      'high_battery=0i,input_voltage_v=230.4,low_battery=0i,offline=0i,on_battery=1i,on_line=0i,overload=0i,replace_battery=0i,' +
      'status="OB DISCHRG",test_result="Done and passed",testing=0i,trimming=0i,ups_load_pct=23,ups_power_factor=0.91 1700000000000000000',
  );
});

test('a mapped variable that is not a number is reported, not a field', () => {
  const d = decodeVariables(
    new Map([
      ['battery.charge', 'n/a'],
      ['ups.status', 'OL'],
    ]),
  );
  assert.deepEqual(d.bad, [{ name: 'battery.charge', value: 'n/a' }]);
  assert.equal('battery_charge_pct' in d.fields, false);
});
