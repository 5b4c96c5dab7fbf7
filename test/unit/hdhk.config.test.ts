/** hdhk options: defaults, and bad input gives clear errors with a path. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hdhkOptionsSchema } from '../../src/devices/hdhk/config.js';
import { hdhkDriver } from '../../src/devices/hdhk/index.js';

function issues(input: unknown): { path: string; message: string }[] {
  const r = hdhkOptionsSchema.safeParse(input);
  assert.equal(r.success, false, 'expected a config error');
  return r.error!.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
}

const ok = { units: [{ id: 1, channels: { '1': { circuit: 'oven' } } }] };

test('defaults', () => {
  const o = hdhkOptionsSchema.parse(ok);
  assert.equal(o.pauseMs, 20);
  assert.equal(o.requestTimeoutMs, 1000);
  assert.equal(o.frequency, 'skip');
  assert.equal(o.units[0]!.ctRatio, 0.01);
  assert.equal(o.units[0]!.channels['1']!.enabled, true);
  assert.deepEqual(hdhkDriver.defaultSerial!(o), { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 });
  assert.equal(hdhkDriver.kind, 'poll');
});

test('unit id out of range', () => {
  for (const id of [0, 248, 1.5]) {
    const i = issues({ units: [{ id, channels: { '1': { circuit: 'a' } } }] });
    assert.equal(i[0]!.path, 'units.0.id');
  }
});

test('channel numbers out of range', () => {
  for (const ch of ['0', '17', 'a', '01']) {
    const i = issues({ units: [{ id: 1, channels: { [ch]: { circuit: 'a' } } }] });
    assert.equal(i[0]!.path, `units.0.channels.${ch}`);
    assert.match(i[0]!.message, /channel must be 1-16/);
  }
});

test('duplicate circuit names, across units too', () => {
  const i = issues({
    units: [
      { id: 1, channels: { '1': { circuit: 'oven' } } },
      { id: 2, channels: { '4': { circuit: 'oven' } } },
    ],
  });
  assert.deepEqual(i, [{ path: 'units.1.channels.4.circuit', message: 'circuit name "oven" is already used by units[0].channels.1' }]);
});

test('duplicate unit ids and names', () => {
  const i = issues({
    units: [
      { id: 3, name: 'x', channels: { '1': { circuit: 'a' } } },
      { id: 3, name: 'x', channels: { '1': { circuit: 'b' } } },
    ],
  });
  assert.deepEqual(
    i.map((x) => x.path),
    ['units.1.id', 'units.1.name'],
  );
});

test('unknown keys, bad phase, no units, no channels', () => {
  assert.equal(issues({ ...ok, pause: 5 })[0]!.path, '');
  assert.equal(issues({ units: [{ id: 1, channels: { '1': { circuit: 'a', phase: 'L4' } } }] })[0]!.path, 'units.0.channels.1.phase');
  assert.equal(issues({ units: [] })[0]!.path, 'units');
  assert.equal(issues({ units: [{ id: 1, channels: {} }] })[0]!.path, 'units.0.channels');
});
