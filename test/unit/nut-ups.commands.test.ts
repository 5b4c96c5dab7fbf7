/**
 * Instant commands: the pure request builders and reply readers (replies recorded from
 * upsd 2.8.0 + dummy-ups on Debian 12), and the driver's control verbs (commands, cmd) on
 * its session against the project's upsd simulator on a sim link (the OK path; real upsd is in
 * test/integration).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameError, TransportError } from '../../src/core/errors.js';
import { listed, nutUpsVerb } from '../helpers/nut-ups-control.js';
import { nutUpsDriver, isNutUpsError } from '../../src/devices/nut-ups/index.js';
import { cmdDescRequest, instcmdRequest, ListReader, listCmdRequest, loginRequests, NutError, parseList, readCmdDesc, readInstcmdReply } from '../../src/devices/nut-ups/codec.js';
import { startNutUpsSimulator, type NutUpsSimulator, type NutUpsSimulatorOptions } from '../../src/simulators/nut-ups.js';
import { createSimLink, type SimEndpoint } from '../../src/transports/sim.js';

test('requests: LIST CMD, GET CMDDESC, INSTCMD with and without a value, login', () => {
  assert.equal(listCmdRequest('myups'), 'LIST CMD "myups"');
  assert.equal(cmdDescRequest('myups', 'load.off'), 'GET CMDDESC "myups" load.off');
  assert.equal(instcmdRequest('myups', 'test.battery.start'), 'INSTCMD "myups" test.battery.start');
  assert.equal(instcmdRequest('myups', 'load.off.delay', '120'), 'INSTCMD "myups" load.off.delay "120"');
  assert.equal(instcmdRequest('u', 'x', 'a "b"'), 'INSTCMD "u" x "a \\"b\\""');
  assert.deepEqual(loginRequests('admin', 'p"w'), ['USERNAME "admin"', 'PASSWORD "p\\"w"']);
  assert.deepEqual(loginRequests(undefined, undefined), []);
  assert.throws(() => instcmdRequest('u', 'bad name'), RangeError);
  assert.throws(() => instcmdRequest('u', 'x\nLOGOUT'), RangeError);
  assert.throws(() => instcmdRequest('u', 'x', 'a\nb'), RangeError);
});

test('LIST CMD reply (recorded from dummy-ups 2.8.0), an empty one, ERR and a bad line', () => {
  assert.deepEqual([...parseList('CMD', 'myups', 'BEGIN LIST CMD myups\nCMD myups load.off\nEND LIST CMD myups\n').keys()], ['load.off']);
  assert.deepEqual([...parseList('CMD', 'myups', 'BEGIN LIST CMD myups\nEND LIST CMD myups').keys()], []);
  assert.throws(
    () => parseList('CMD', 'myups', 'ERR UNKNOWN-UPS'),
    (e: unknown) => e instanceof NutError && e.nutCode === 'UNKNOWN-UPS',
  );
  assert.throws(() => parseList('CMD', 'myups', 'BEGIN LIST CMD myups\nCMD other load.off\nEND LIST CMD myups'), FrameError);
  assert.throws(() => parseList('CMD', 'myups', 'BEGIN LIST VAR myups\nEND LIST VAR myups'), FrameError);
  // Line by line, as the client reads it.
  const r = new ListReader('CMD', 'myups');
  assert.deepEqual(r.push('BEGIN LIST CMD myups'), { done: false });
  assert.deepEqual(r.push('CMD myups test.battery.start'), { done: false });
  const out = r.push('END LIST CMD myups');
  assert.ok(out.done && out.ok);
  assert.deepEqual([...out.entries.keys()], ['test.battery.start']);
});

test('INSTCMD replies: OK, OK TRACKING <id>, ERR codes; anything else is a FrameError', () => {
  assert.deepEqual(readInstcmdReply('OK'), { ok: true, value: { line: 'OK' } });
  assert.deepEqual(readInstcmdReply('OK TRACKING 2DDC5036-F665-4D29-BE4C-0374D091D263'), {
    ok: true,
    value: { line: 'OK TRACKING 2DDC5036-F665-4D29-BE4C-0374D091D263', tracking: '2DDC5036-F665-4D29-BE4C-0374D091D263' },
  });
  for (const code of ['ACCESS-DENIED', 'CMD-NOT-SUPPORTED', 'UNKNOWN-UPS', 'INVALID-ARGUMENT', 'USERNAME-REQUIRED', 'PASSWORD-REQUIRED', 'INSTCMD-FAILED']) {
    const r = readInstcmdReply(`ERR ${code}`);
    assert.ok(!r.ok && r.error instanceof NutError && r.error.nutCode === code, code);
  }
  const extra = readInstcmdReply('ERR INVALID-ARGUMENT some detail');
  assert.ok(!extra.ok && extra.error.extra === 'some detail');
  assert.throws(() => readInstcmdReply('OK Goodbye'), FrameError);
  assert.throws(() => readInstcmdReply('BEGIN LIST VAR x'), FrameError);
});

test('GET CMDDESC reply (recorded), ERR, mismatch', () => {
  assert.deepEqual(readCmdDesc('CMDDESC myups load.off "Turn off the load immediately"', 'myups', 'load.off'), { ok: true, value: 'Turn off the load immediately' });
  const e = readCmdDesc('ERR CMD-NOT-SUPPORTED', 'myups', 'x');
  assert.ok(!e.ok && e.error.nutCode === 'CMD-NOT-SUPPORTED');
  assert.throws(() => readCmdDesc('CMDDESC myups other "x"', 'myups', 'load.off'), FrameError);
});

test('options: commands.allow defaults to none, names are checked', () => {
  assert.deepEqual(nutUpsDriver.options.parse({ ups: 'x' }).commands, { allow: [] });
  assert.deepEqual(nutUpsDriver.options.parse({ ups: 'x', commands: { allow: ['test.battery.start'] } }).commands.allow, ['test.battery.start']);
  assert.throws(() => nutUpsDriver.options.parse({ ups: 'x', commands: { allow: ['bad name'] } }));
  assert.throws(() => nutUpsDriver.options.parse({ ups: 'x', commands: { allow: [], extra: 1 } }));
});

function rig(options: Record<string, unknown> = {}, sim: NutUpsSimulatorOptions = {}): { host: SimEndpoint; sim: NutUpsSimulator; options: ReturnType<typeof nutUpsDriver.options.parse> } {
  const { host, device } = createSimLink('sim:ups');
  void device.open();
  const s = startNutUpsSimulator(device, { ups: 'demo' }, { vary: false, ...sim });
  return { host, sim: s, options: nutUpsDriver.options.parse({ ups: 'demo', timeoutMs: 200, ...options }) };
}

test('simulator: LIST CMD with descriptions', async () => {
  const r = rig();
  const list = listed(await nutUpsVerb(r.options, 'commands', [], r.host));
  assert.ok(list.some((c) => c.name === 'test.battery.start' && c.description === 'Start a battery test'));
  assert.deepEqual(r.sim.commands.slice(0, 2), ['LIST CMD', 'GET CMDDESC']);
  // The session's connection: closed with the session (no LOGOUT: no connection of its own any more).
  assert.equal(r.host.isOpen, false);
});

test('simulator: INSTCMD after USERNAME/PASSWORD answers OK (the OK path dummy-ups cannot show for test.battery.start)', async () => {
  const r = rig({ username: 'admin', password: 'pw', commands: { allow: ['test.battery.start', 'load.off'] } }, { username: 'admin', password: 'pw' });
  const reply = await nutUpsVerb(r.options, 'cmd', ['test.battery.start'], r.host);
  assert.equal(reply.message, 'OK');
  await nutUpsVerb(r.options, 'cmd', ['load.off', '5'], r.host);
  assert.deepEqual(r.sim.instcmds, ['test.battery.start', 'load.off 5']);
});

test('simulator: typed errors: no login, wrong password, unsupported command, unknown UPS', async () => {
  // upsd's ERR arrives as the cause of the driver's one-line NutUpsError.
  const code = (c: string) => (e: unknown) => isNutUpsError(e) && e.cause instanceof NutError && e.cause.nutCode === c;
  const allow = { commands: { allow: ['beeper.disable', 'shutdown.now'] } };
  const none = rig(allow, { username: 'admin', password: 'pw' });
  await assert.rejects(nutUpsVerb(none.options, 'cmd', ['beeper.disable'], none.host, 'u'), code('USERNAME-REQUIRED'));
  const wrong = rig({ username: 'admin', password: 'nope', ...allow }, { username: 'admin', password: 'pw' });
  await assert.rejects(nutUpsVerb(wrong.options, 'cmd', ['beeper.disable'], wrong.host, 'u'), code('ACCESS-DENIED'));
  const ok = rig({ username: 'admin', password: 'pw', ...allow }, { username: 'admin', password: 'pw' });
  await assert.rejects(nutUpsVerb(ok.options, 'cmd', ['shutdown.now'], ok.host, 'u'), code('CMD-NOT-SUPPORTED'));
  const other = rig({ ups: 'other', username: 'admin', password: 'pw', ...allow }, { username: 'admin', password: 'pw' });
  await assert.rejects(nutUpsVerb(other.options, 'cmd', ['beeper.disable'], other.host, 'u'), code('UNKNOWN-UPS'));
  await assert.rejects(nutUpsVerb(other.options, 'commands', [], other.host, 'u'), code('UNKNOWN-UPS'));
  assert.equal(ok.host.isOpen, false);
});

test('simulator silent: a timeout error; upsd unreachable: a TransportError', async () => {
  const r = rig();
  r.sim.setSilent(true);
  await assert.rejects(nutUpsVerb(r.options, 'commands', [], r.host, 'u'), (e: unknown) => isNutUpsError(e, 'timeout') && /LIST CMD/.test(e.message));
  const o = nutUpsDriver.options.parse({ ups: 'demo', host: '127.0.0.1', port: 1, timeoutMs: 500 });
  await assert.rejects(nutUpsVerb(o, 'commands', [], undefined, 'u'), (e: unknown) => e instanceof TransportError);
});
