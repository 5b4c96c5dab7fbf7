/**
 * itho-wpu control verbs (prepare + session.control, as the CLI and the control endpoint
 * call them) against the simulated pigpiod — no real pigpiod on these machines — and the
 * parameter-map reader's lookups and refusals.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, InputError } from '../../src/core/errors.js';
import { validate } from '../../src/config/load.js';
import { drivers } from '../../src/devices/index.js';
import { ithoWpuDriver, ParameterMap, ParameterMapError } from '../../src/devices/itho-wpu/index.js';
import { labelsFor, SQL } from '../../src/devices/itho-wpu/tables-parameter-map.js';
import { startPigpiodServer, type PigpiodSimulator } from '../../src/simulators/pigpiod.js';
import { TcpTransport } from '../../src/transports/tcp.js';
import { ithoDir, ithoOptions, ithoSession, type IthoDir } from '../helpers/itho.js';

let d: IthoDir;
let sim: PigpiodSimulator & { port: number };
before(async () => {
  d = ithoDir();
  sim = await startPigpiodServer({});
});
after(() => {
  sim.stop();
  d.remove();
});

const control = ithoWpuDriver.control!;
const run = async (verb: string, args: string[], extra: Record<string, unknown> = {}) => {
  const o = ithoOptions(d, extra);
  const req = control.prepare(verb, args, o, 'wpu');
  const s = ithoSession(new TcpTransport({ host: '127.0.0.1', port: sim.port }), o);
  try {
    return await s.control!(req, AbortSignal.timeout(10_000));
  } finally {
    await s.close();
  }
};

test('verbs: reads are readOnly, writes ask for confirmation; cliName itho', () => {
  assert.equal(control.cliName, 'itho');
  const byName = Object.fromEntries(control.verbs.map((v) => [v.name, v]));
  for (const v of ['nodeid', 'serial', 'datatype', 'datalog', 'counters', 'setting']) assert.equal(byName[v]!.readOnly, true, v);
  for (const v of ['setting-set', 'manual']) assert.equal(byName[v]!.confirm, true, v);
});

test('prepare refuses writes the config does not allow, negative values, bad ids and extra arguments', () => {
  const o = ithoOptions(d);
  assert.throws(
    () => control.prepare('setting-set', ['139', '50'], o, 'wpu'),
    (e: unknown) => e instanceof ConfigError && /not allowed by the config/.test((e as Error).message),
  );
  assert.throws(() => control.prepare('manual', ['37', '1'], o, 'wpu'), ConfigError);
  const allow = ithoOptions(d, { control: { allow: ['setting-set', 'manual'] } });
  assert.throws(
    () => control.prepare('setting-set', ['139', '-5'], allow, 'wpu'),
    (e: unknown) => e instanceof InputError && /negative values are refused/.test((e as Error).message),
  );
  assert.throws(() => control.prepare('setting-set', ['139', 'lots'], allow, 'wpu'), InputError);
  assert.throws(() => control.prepare('setting', ['300'], o, 'wpu'), /out of range 0..255/);
  assert.throws(() => control.prepare('datalog', ['x'], o, 'wpu'), /unexpected argument/);
  assert.equal(control.prepare('setting-set', ['139', '50'], allow, 'wpu').summary, 'set setting 139 to 50');
});

test('simulated pigpiod: read verbs answer labelled values', async () => {
  assert.match((await run('nodeid', [])).message, /Manufacturer: HCCP, HardwareType: WPU, ProductVersion: 58, ListVersion: 31/);
  assert.equal((await run('serial', [])).message, 'Serial: 1234567');
  const dt = await run('datatype', []);
  assert.match(dt.message.split('\n')[0]!, /^Buitentemperatuur \(°C\) \(t_out\): 0x92$/);
  const log = await run('datalog', []);
  assert.equal(log.message.split('\n').length, 92);
  assert.match(log.message, /^Buitentemperatuur \(°C\) \(t_out\): -10$/m);
  assert.match(log.message, /^Druk Sensor \(bar\) \(p_sens\): 1.5$/m);
  assert.equal(log.data!.t_boiltop, 44.45);
  const cnt = await run('counters', []);
  assert.match(cnt.message, /^Draaiuren Compressor \(uur\) \(cnt_comp_hours\): 12873$/m);
  assert.equal((await run('setting', ['139'])).message, '139. Boiler Setpoint (°C): 48 (min: 30, max: 60, step: 1)');
  assert.equal((await run('setting', ['2'])).message, '2. Hysterese Cv (K): 2.5 (min: 0.5, max: 10, step: 0.5)');
});

test('simulated pigpiod: setting-set scales by the datatype decimals, checks the range, writes once', async () => {
  const allow = { control: { allow: ['setting-set', 'manual'] } };
  sim.wpu.requests.length = 0;
  const r = await run('setting-set', ['2', '3.5'], allow);
  assert.equal(r.message, '2. Hysterese Cv (K): 2.5 → 3.5');
  assert.equal(sim.wpu.settings.get(2)!.raw, 35);
  assert.equal(sim.wpu.requests.filter((h) => h.slice(6, 8) === '06').length, 1);
  await assert.rejects(run('setting-set', ['2', '3.55'], allow), /takes 1 decimal; 3.55 has more/);
  await assert.rejects(run('setting-set', ['139', '61'], allow), /accepts 30..60/);
  assert.equal((await run('setting-set', ['139', '50'], allow)).data!.after, 50);
  const m = await run('manual', ['37', '40'], allow);
  assert.match(m.message, /^37\. Cv Pomp Handbediening \(%\): override 0 → 40$/);
  assert.equal(sim.wpu.manual.get(37)!.override, true);
  await run('manual', ['37', 'stop'], allow);
  assert.equal(sim.wpu.manual.get(37)!.override, false);
});

test('parameter map: the lookups of docs/protocols/itho-wpu.md §4.5, labels ordered by id, keys lower-cased', () => {
  const map = ParameterMap.open(d.map);
  const v = map.version(31);
  assert.deepEqual(v, { version: 31, datalabel: 7, parameterlist: 5, handbed: 3, counters: 2 });
  const labels = map.labels(31);
  assert.equal(labels.length, 92);
  assert.deepEqual(
    labels.slice(0, 3).map((l) => l.key),
    ['t_out', 't_boildwn', 't_boiltop'],
  );
  assert.equal(labels[11]!.unit, 'bar');
  assert.equal(map.setting(31, 139)!.title, 'boiler setpoint');
  assert.equal(map.manual(31, 37)!.name, 'HAND_CH_PUMP');
  assert.equal(SQL.labels(7), 'SELECT name, title, tooltip, unit FROM datalabel_v7 ORDER BY id');
  assert.throws(
    () => labelsFor(map, 31, 91),
    (e: unknown) => e instanceof ParameterMapError && /has 92 data labels, but the WPU's datatype list has 91 fields/.test((e as Error).message),
  );
  assert.throws(() => map.version(40), /no list version 40 in versiebeheer \(it has 2 versions, 11..31\)/);
  assert.throws(() => map.labels(11), /table datalabel_v4 \(datalabel of list version 11\) not found/);
  map.close();
});

test('parameter map: a missing file, a non-SQLite file and a map without versiebeheer are refused clearly', () => {
  assert.throws(() => ParameterMap.open(join(d.dir, 'nope.sqlite')), /not found/);
  const text = join(d.dir, 'text.sqlite');
  copyFileSync(new URL(import.meta.url), text);
  assert.throws(() => ParameterMap.open(text), /cannot open as SQLite/);
  const empty = join(d.dir, 'empty.sqlite');
  new Database(empty).exec('CREATE TABLE x (a)');
  assert.throws(() => ParameterMap.open(empty), /table versiebeheer not found/);
});

test('config: itho-wpu options are strict and say where a problem is', () => {
  const raw = { devices: [{ name: 'wpu', driver: 'itho-wpu', options: { port: 99999, control: { allow: ['reboot'] } } }] };
  assert.throws(
    () => validate(raw, drivers, 'wattline.yaml'),
    (e: unknown) =>
      e instanceof ConfigError &&
      /devices\[0\] \(wpu\)\.options\.port: must be at most 65535/.test(e.message) &&
      /devices\[0\] \(wpu\)\.options\.parameterMap: required/.test(e.message) &&
      /devices\[0\] \(wpu\)\.options\.control\.allow\[0\]/.test(e.message),
  );
  const ok = validate({ devices: [{ name: 'wpu', driver: 'itho-wpu', options: { parameterMap: 'map.sqlite' } }] }, drivers, 'wattline.yaml');
  assert.deepEqual(ok.devices[0]!.options, ithoWpuDriver.options.parse({ parameterMap: 'map.sqlite' }));
  assert.equal((ok.devices[0]!.options as { port: number }).port, 8888);
});
