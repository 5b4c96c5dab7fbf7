/** planReload: what a config reload changes, decided before anything is touched. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validate, type LoadedConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { drivers } from '../../src/devices/index.js';
import { planReload } from '../../src/runtime/reload-plan.js';

const device = (name: string, extra: Record<string, unknown> = {}) => ({ name, driver: 'powerwalker-pdu', simulate: true, schedule: '* * * * *', ...extra });
function loaded(raw: Record<string, unknown>, dir = '/etc/wattline'): LoadedConfig {
  return { config: validate({ outbox: { path: 'o.sqlite' }, ...raw }, drivers, 'test config'), path: null, dir, demo: false };
}
const names = (plan: ReturnType<typeof planReload>) => ({
  added: plan.added.map((d) => d.name),
  removed: plan.removed,
  changed: plan.changed.map((d) => d.name),
  unchanged: plan.unchanged.map((d) => d.name),
});

test('devices: added, removed (also by enabled: false), changed by schedule, tags or port, unchanged', () => {
  const before = loaded({ devices: [device('a'), device('b'), device('c'), device('d'), device('e', { port: { path: '/dev/ttyUSB0' }, simulate: false })] });
  const after = loaded({
    devices: [
      device('a'),
      device('b', { schedule: '*/5 * * * *' }),
      device('c', { tags: { room: 'attic' } }),
      device('d', { enabled: false }),
      device('e', { port: { path: '/dev/ttyUSB1' }, simulate: false }),
      device('f'),
    ],
  });
  assert.deepEqual(names(planReload(before, after)), { added: ['f'], removed: ['d'], changed: ['b', 'c', 'e'], unchanged: ['a'] });
  assert.deepEqual(names(planReload(before, before)), { added: [], removed: [], changed: [], unchanged: ['a', 'b', 'c', 'd', 'e'] });
});

test('site, host or timezone reach every device: all of them change', () => {
  const plan = planReload(loaded({ devices: [device('a'), device('b')] }), loaded({ site: 'barn', devices: [device('a'), device('b')] }));
  assert.deepEqual(names(plan).changed, ['a', 'b']);
  assert.deepEqual(names(planReload(loaded({ devices: [device('a')] }), loaded({ timezone: 'Europe/Amsterdam', devices: [device('a')] }))).changed, ['a']);
});

test('influx and outbox limits are noticed', () => {
  const influx = (batchSize: number) => ({ version: 1, url: 'http://127.0.0.1:8086', database: 'w', batchSize });
  const plan = planReload(loaded({ influx: influx(10) }), loaded({ influx: influx(20), outbox: { path: 'o.sqlite', maxRows: 99 } }));
  assert.equal(plan.influxChanged, true);
  assert.equal(plan.limitsChanged, true);
  const same = planReload(loaded({ influx: influx(10) }), loaded({ influx: influx(10) }));
  assert.deepEqual([same.influxChanged, same.limitsChanged], [false, false]);
  // The free-space margin is a limit too (issue 23), set or back to its default.
  const margin = (minFreeBytes?: number) => loaded({ outbox: { path: 'o.sqlite', ...(minFreeBytes === undefined ? {} : { minFreeBytes }) } });
  assert.equal(planReload(margin(), margin(1_000_000)).limitsChanged, true);
  assert.equal(planReload(margin(1_000_000), margin()).limitsChanged, true);
  assert.equal(planReload(margin(1_000_000), margin(1_000_000)).limitsChanged, false);
});

test('what only a restart can change is refused, naming every such key', () => {
  const refused = (raw: Record<string, unknown>, message: RegExp) =>
    assert.throws(
      () => planReload(loaded({}), loaded(raw)),
      (e: unknown) => e instanceof ConfigError && message.test(e.message),
    );
  refused({ outbox: { path: 'other.sqlite', synchronous: 'normal' } }, /^outbox\.path, outbox\.synchronous: changed, which needs a restart/);
  refused({ capture: { path: 'elsewhere' } }, /^capture: changed/);
  refused({ log: { format: 'json' } }, /^log\.format: changed/);
  assert.throws(() => planReload(loaded({}), loaded({}, '/srv/other')), /config file moved/);
  // The level is not among them.
  assert.doesNotThrow(() => planReload(loaded({}), loaded({ log: { level: 'debug' } })));
});
