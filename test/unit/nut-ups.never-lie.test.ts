/**
 * Issue 16: NUT's USB ids are hexadecimal text. `ups.productid: 0601` became the number 601,
 * while `051d` (APC's vendor id) gave no field at all. Both stay text, like the firmware.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeVariables } from '../../src/devices/nut-ups/tables.js';

test('ups.productid 0601 and ups.vendorid 051d are kept as the text upsd sent', () => {
  const d = decodeVariables(
    new Map([
      ['ups.productid', '0601'],
      ['ups.vendorid', '051d'],
      ['ups.firmware.aux', '0.18'],
      ['ups.status', 'OL'],
    ]),
  );
  assert.deepEqual(d.fields.ups_productid, { type: 'string', value: '0601' });
  assert.deepEqual(d.fields.ups_vendorid, { type: 'string', value: '051d' });
  assert.deepEqual(d.fields.ups_firmware_aux, { type: 'string', value: '0.18' });
  assert.deepEqual(d.bad, []);
});

test('fuzz finding: an integer variable beyond what a double holds exactly (battery.runtime 2.46e22 s) is reported, not a field', () => {
  const d = decodeVariables(
    new Map([
      ['battery.runtime', '24611111111111111111111'],
      ['battery.runtime.low', '-8888888888888888888'],
      ['battery.charge', '1e400'],
      ['ups.status', 'OL'],
    ]),
  );
  assert.equal('battery_runtime_s' in d.fields, false);
  assert.equal('battery_runtime_low_s' in d.fields, false);
  assert.equal('battery_charge_pct' in d.fields, false);
  assert.deepEqual(
    d.bad.map((b) => b.name),
    ['battery.runtime', 'battery.runtime.low', 'battery.charge'],
  );
});
