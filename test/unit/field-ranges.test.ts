/**
 * Readings outside the physical range their driver declares: left out of the point,
 * counted and said, the rest of the reading kept; the same rule for live collection (the
 * worker) and for backfill (decodeGroup). Ranges from the drivers' own metadata.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { int, type Point } from '../../src/core/point.js';
import { decodeGroup } from '../../src/backfill/replay.js';
import { victronVebusDriver } from '../../src/devices/victron-vebus/index.js';
import { nutUpsDriver } from '../../src/devices/nut-ups/index.js';
import { tally, withoutImplausible } from '../../src/devices/problems.js';
import type { Driver } from '../../src/devices/types.js';

const point = (measurement: string, fields: Point['fields'], tags: Record<string, string> = {}): Point => ({ measurement, tags: { device: 'inv', ...tags }, fields, time: 1_700_000_000_000_000_000n });

test('VE.Bus: 655.34 A (a signed -0.02 A read unsigned) and a 120 % SOC are left out as problems; the other fields go out', () => {
  const points = [point('vebus', { soc_pct: 120, battery_v: 52.4, state: int(9) }), point('vebus', { inverter_a: 655.34, inverter_v: 229.7, mains_a: -1.48 }, { phase: 'L1' })];
  const r = withoutImplausible(points, victronVebusDriver.fields);
  assert.deepEqual(
    r.points.map((p) => Object.keys(p.fields).sort()),
    [
      ['battery_v', 'state'],
      ['inverter_v', 'mains_a'],
    ],
  );
  assert.deepEqual(tally(r.problems), [{ reason: 'out of range', count: 2 }]);
  assert.match(r.problems[1]!.detail, /^vebus\.inverter_a=655\.34 is outside -100…100 A$/);
  assert.deepEqual(points[0]!.fields.soc_pct, 120, 'the points passed in are not changed');
});

test('in range, at the bounds, and fields without a declared range stay; a point with nothing left goes', () => {
  const points = [point('vebus', { soc_pct: 100, battery_w: -99_999 }), point('vebus', { soc_pct: -1 })];
  const r = withoutImplausible(points, victronVebusDriver.fields);
  assert.equal(r.points.length, 1);
  assert.deepEqual(r.points[0]!.fields, { soc_pct: 100, battery_w: -99_999 });
  assert.equal(r.problems.length, 1);
  // An integer field (NUT battery charge is declared 0-100 %).
  const ups = withoutImplausible([point('ups', { battery_charge_pct: int(250), input_voltage_v: 230 })], nutUpsDriver.fields);
  assert.deepEqual(Object.keys(ups.points[0]!.fields), ['input_voltage_v']);
});

test('backfill applies the same rule: decodeGroup leaves the implausible field out and lists it among the errors', () => {
  const driver: Driver = {
    ...victronVebusDriver,
    decodeCapture: () => ({ points: [point('vebus', { inverter_a: 655.34, inverter_v: 230 }, { phase: 'L1' })], errors: [] }),
  };
  const r = decodeGroup(driver, { records: [], cycle: 1, position: 0 } as never, { device: 'inv', options: {}, tags: {}, clock: { now: () => 0 } } as never);
  assert.deepEqual(r.points[0]!.fields, { inverter_v: 230 });
  assert.deepEqual(r.errors, ['out of range: vebus.inverter_a=655.34 is outside -100…100 A']);
});
