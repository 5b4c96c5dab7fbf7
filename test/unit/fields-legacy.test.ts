/**
 * Issue 22 moved what MQTT discovery knows about fields from src/mqtt's tables (name suffixes,
 * per-measurement overrides, makers by driver id, series tags by measurement) into each
 * driver's metadata. The MQTT snapshot proves the payloads of the demo devices unchanged; this
 * proves the same for every field the drivers declare (all OBIS rows, all NUT variables and
 * status words, ...), against the old rules kept in test/helpers/legacy-mqtt-fields.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { int, type FieldValue } from '../../src/core/point.js';
import { declaredFields, describeField, seriesTags } from '../../src/devices/fields.js';
import { drivers } from '../../src/devices/index.js';
import type { FieldSpec } from '../../src/devices/types.js';
import { fieldMeta } from '../../src/mqtt/fields.js';
import * as legacy from '../helpers/legacy-mqtt-fields.js';

/** A value of the type the driver writes for such a field (the old rules looked at the type only). */
function sample(spec: FieldSpec): FieldValue {
  if (spec.quantity === 'text') return 'x';
  return spec.quantity === 'flag' || spec.quantity === 'state' || spec.quantity === 'count' ? int(1) : 1.5;
}

/** What reaches a discovery payload (JSON leaves out undefined; `diagnostic` only counts when true). */
const payload = (m: { component: string; unit?: string; deviceClass?: string; stateClass?: string; diagnostic?: boolean }) =>
  JSON.stringify({ component: m.component, unit: m.unit, deviceClass: m.deviceClass, stateClass: m.stateClass, diagnostic: m.diagnostic === true });

test('every declared field: the same Home Assistant component, unit, device class, state class, category and name as the old rules', () => {
  let checked = 0;
  for (const d of drivers) {
    for (const [measurement, field, spec] of declaredFields(d.fields!)) {
      for (const tags of spec.quantityByTag
        ? [
            {},
            ...Object.keys(spec.quantityByTag.values)
              .concat('heat')
              .map((v) => ({ [spec.quantityByTag!.tag]: v })),
          ]
        : [{}]) {
        const value = sample(spec);
        const now = describeField(d.fields, measurement, field, value, tags);
        const where = `${d.id} ${measurement}.${field} ${JSON.stringify(tags)}`;
        assert.equal(payload(fieldMeta(now, value)), payload(legacy.fieldMeta(measurement, field, value, tags)), where);
        assert.equal(now.name, legacy.fieldLabel(field), where);
        checked++;
      }
    }
  }
  assert.ok(checked > 250, `only ${checked} fields`);
});

test('every declared measurement: the same series tags; every driver: the same maker', () => {
  for (const d of drivers) {
    for (const m of Object.keys(d.fields!.measurements)) assert.deepEqual(seriesTags(d.fields, m), legacy.seriesTags(m), `${d.id} ${m}`);
    assert.equal(d.fields!.manufacturer, legacy.MANUFACTURERS[d.id], d.id);
  }
});
