/**
 * PDU/ATS control: prepare() validates (InputError naming the accepted ranges) and checks
 * the config's allowance (ConfigError), and session.control() carries the verbs to the
 * project's PDU simulator over the sim link, whose state machine shows the effect
 * (countdowns, shutdown imminent, off, restore, on). The simulator's clock is stepped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DeviceError, InputError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import { powerwalkerAtsDriver } from '../../src/devices/powerwalker-ats/index.js';
import { PowerwalkerError, powerwalkerPduDriver, type PduOptions } from '../../src/devices/powerwalker-pdu/index.js';
import { startAtsSimulator } from '../../src/simulators/powerwalker-ats.js';
import { startPduSimulator } from '../../src/simulators/powerwalker-pdu.js';
import { createSimLink } from '../../src/transports/sim.js';
import { FakeClock } from '../helpers/fake-clock.js';

const signal = () => new AbortController().signal;
const clock = new FakeClock(0);
const opts = (o: unknown = {}) => powerwalkerPduDriver.options.parse(o) as PduOptions;
const prepare = (verb: string, args: string[], options: PduOptions = opts({ control: { allow: ['shutdown', 'shutdown-restore', 'cancel', 'on', 'off', 'test', 'energy-clear'], outlets: 'all' } })) =>
  powerwalkerPduDriver.control!.prepare(verb, args, options, 'pdu1');

test('prepare: arguments checked, the message naming the accepted ranges', () => {
  const input = (verb: string, args: string[], re: RegExp) =>
    assert.throws(
      () => prepare(verb, args),
      (e: unknown) => e instanceof InputError && re.test(e.message),
      `${verb} ${args.join(' ')}`,
    );
  input('shutdown', ['9', '1'], /outlet "9" is not an outlet 1-8 or A \(all\)/);
  input('shutdown', ['1'], /missing the delay: 0 \(immediately\), 0\.1-0\.9, or whole minutes 1-99/);
  input('shutdown', ['1', '1.5'], /delay "1.5" is not 0 \(immediately\), 0\.1-0\.9, or whole minutes 1-99/);
  input('shutdown', ['1', '100'], /delay "100"/);
  input('shutdown', ['1', '-1'], /delay "-1"/);
  input('shutdown-restore', ['1', '1', '10000'], /restore delay "10000" is not whole minutes 0-9999 \(0 = after one second\)/);
  input('cancel', ['1', '2'], /too many arguments \(2\)/);
  input('memory', ['15'], /address "15" is not 0-14/);
  input('memory', [], /address "" is not 0-14/);
  input('launch', [], /unknown verb "launch"/);
  assert.throws(() => powerwalkerAtsDriver.control!.prepare('memory', ['21'], powerwalkerAtsDriver.options.parse({}), 'ats1'), /address "21" is not 0-20/);
});

test('prepare: the commands it builds, with the fixed immediate encoding', () => {
  const cmd = (verb: string, args: string[]) => (prepare(verb, args).params as { command: string }).command;
  assert.equal(cmd('shutdown', ['8', '0']), 'S,800');
  assert.equal(cmd('shutdown', ['a', '0.5']), 'S,A.5');
  assert.equal(cmd('shutdown', ['3', '.5']), 'S,3.5');
  assert.equal(cmd('shutdown', ['3', '12']), 'S,312');
  assert.equal(cmd('shutdown-restore', ['8', '0.1', '0']), 'S,8.1R0000');
  assert.equal(cmd('shutdown-restore', ['2', '5', '120']), 'S,205R0120');
  assert.equal(cmd('cancel', ['8']), 'CS,8');
  assert.equal(cmd('test', []), 'TP');
  assert.equal(cmd('energy-clear', []), 'CEC');
  assert.equal(prepare('shutdown', ['8', '0']).summary, 'shutdown outlet 8 immediately');
});

test('prepare: refused unless the config allows the verb and the outlet; memory needs no allowance', () => {
  const denied = (verb: string, args: string[], options: PduOptions, re: RegExp) =>
    assert.throws(
      () => prepare(verb, args, options),
      (e: unknown) => e instanceof ConfigError && re.test(e.message),
      `${verb} ${args.join(' ')}`,
    );
  denied('off', ['1'], opts(), /control verb "off" is not allowed for this device \(allowed: none\)/);
  const some = opts({ control: { allow: ['off', 'shutdown'], outlets: [1, 2] } });
  denied('off', ['3'], some, /off on outlet 3 is not allowed \(allowed outlets: 1, 2\); add 3 to options.control.outlets/);
  denied('off', ['A'], some, /outlet A \(all\) needs options.control.outlets: all/);
  denied('energy-clear', [], some, /"energy-clear" is not allowed/);
  assert.equal(prepare('off', ['2'], some).verb, 'off');
  assert.equal(prepare('memory', ['1'], opts()).verb, 'memory');
  assert.ok(powerwalkerPduDriver.control!.verbs.find((v) => v.name === 'memory')!.readOnly);
  assert.throws(() => opts({ control: { allow: ['reboot'] } }));
  assert.throws(() => opts({ control: { outlets: [9] } }));
});

async function rig() {
  let t = 1_000_000;
  const { host, device } = createSimLink('sim:pdu');
  await device.open();
  const sim = startPduSimulator(device, { now: () => t });
  const options = opts({ requestTimeoutMs: 200, control: { allow: ['shutdown', 'shutdown-restore', 'cancel', 'on', 'off', 'test', 'energy-clear'], outlets: 'all' } });
  const session = powerwalkerPduDriver.createSession({ device: 'pdu1', options, tags: {}, transport: host, clock, log: silentLogger() });
  await session.start();
  const run = (verb: string, ...args: string[]) => session.control!(powerwalkerPduDriver.control!.prepare(verb, args, options, 'pdu1'), signal());
  return { sim, session, run, step: (ms: number) => (t += ms) };
}

test('simulator: off goes through shutdown imminent to off; on comes back through restore; on when on sends nothing', async () => {
  const { sim, session, run, step } = await rig();
  const off = await run('off', '2');
  assert.match(off.message, /^outlet 2 switches off in 6 s, after the "shutdown imminent" warning \(was 2: on\)$/);
  assert.equal(sim.requests.at(-1), 'S,2.1');
  assert.equal(sim.outletStatus(2), 3); // shutdown imminent (inside memory 14's 3 minutes)
  step(6000);
  assert.equal(sim.outletStatus(2), 0);

  const on = await run('on', '2');
  assert.deepEqual(on.data?.commands, ['S,2.1R0000']);
  assert.equal(sim.outletStatus(2), 3);
  step(6000);
  assert.equal(sim.outletStatus(2), 4); // restore active
  step(1000);
  assert.equal(sim.outletStatus(2), 1);

  // off while a restore is running: the restore is cancelled, the outlet stays off.
  await run('shutdown-restore', '4', '0', '5');
  assert.equal(sim.outletStatus(4), 4);
  const stay = await run('off', '4');
  assert.deepEqual(stay.data?.commands, ['CS,4']);
  assert.match(stay.message, /outlet 4 stays off \(pending restore cancelled\)/);
  step(10 * 60_000);
  assert.equal(sim.outletStatus(4), 0);
  // on while a shutdown is pending: cancelled, no power cycle.
  await run('shutdown', '7', '2');
  assert.equal(sim.outletStatus(7), 3);
  const keep = await run('on', '7');
  assert.deepEqual(keep.data?.commands, ['CS,7']);
  assert.equal(sim.outletStatus(7), 1);
  // on A: only the outlets that are off get the recipe, one command each.
  const all = await run('on', 'A');
  assert.deepEqual(all.data?.commands, ['S,4.1R0000']);

  const n = sim.requests.length;
  const again = await run('on', '2');
  assert.match(again.message, /outlet 2 is already on or on its way \(on\); nothing sent/);
  assert.deepEqual(sim.requests.slice(n), ['QGS']);
  await session.close();
});

test('simulator: shutdown-restore counts down in QSR, cancel stops it, immediate shutdown is immediate', async () => {
  const { sim, session, run, step } = await rig();
  await run('shutdown-restore', '5', '1', '2');
  step(15_000);
  const res = await session.collect(signal());
  const o5 = res.points.find((p) => p.measurement === 'pdu_outlet' && p.tags.outlet === '5')!;
  assert.equal((o5.fields.shutdown_countdown_s as { value: bigint }).value, 45n);
  assert.equal((o5.fields.restore_countdown_s as { value: bigint }).value, 120n);
  assert.equal((o5.fields.status as { value: bigint }).value, 3n);
  await run('cancel', '5');
  assert.equal(sim.outletStatus(5), 1);
  await run('shutdown', '6', '0');
  assert.equal(sim.requests.at(-1), 'S,600');
  assert.equal(sim.outletStatus(6), 0);
  await session.close();
});

test('simulator: test and energy-clear are ACKed and act; NAK is a DeviceError; memory reads the map', async () => {
  const { sim, session, run } = await rig();
  const t = await run('test');
  assert.match(t.message, /accepted \(ACK\)/);
  assert.ok(sim.testUntil() > 0);
  await run('energy-clear');
  const res = await session.collect(signal());
  assert.equal(res.points.find((p) => p.measurement === 'pdu')!.fields.input_kwh, 0);

  sim.setFault('nak', { command: 'S,1.1' });
  await assert.rejects(run('off', '1'), (e: unknown) => e instanceof DeviceError && e instanceof PowerwalkerError && e.reason === 'nak' && /refused S,1\.1 \(NAK\)/.test(e.message));
  sim.setFault('none');

  const m = await run('memory', '10');
  assert.equal(sim.requests.at(-1), 'QGM0:');
  assert.match(m.message, /high_input_voltage_alarm = 253 V/);
  const o = await run('memory', '3');
  assert.equal(o.data?.currentAlarmA, 2);
  await session.close();
});

test('ATS: memory reads GM0000 as 258 over the sim link', async () => {
  const { host, device } = createSimLink('sim:ats');
  await device.open();
  const sim = startAtsSimulator(device);
  const options = powerwalkerAtsDriver.options.parse({});
  const session = powerwalkerAtsDriver.createSession({ device: 'ats1', options, tags: {}, transport: host, clock, log: silentLogger() });
  const r = await session.control!(powerwalkerAtsDriver.control!.prepare('memory', ['0'], options, 'ats1'), signal());
  assert.equal(r.message, 'memory 0: src1_voltage_high_loss = 258');
  assert.deepEqual(sim.requests, ['QPI', 'GM0000']);
  await session.close();
});
