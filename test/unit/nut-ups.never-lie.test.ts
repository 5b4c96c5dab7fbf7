/**
 * Issue 16: NUT's USB ids are hexadecimal text. `ups.productid: 0601` became the number 601,
 * while `051d` (APC's vendor id) gave no field at all. Both stay text, like the firmware.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeVariables } from '../../src/devices/nut-ups/mapping.js';

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
