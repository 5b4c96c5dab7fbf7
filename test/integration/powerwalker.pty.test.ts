/**
 * PowerWalker PDU and ATS end to end over real serial lines: socat PTY pairs, the project's
 * simulators on one end (through SerialTransport), the drivers on the other. Polls land in a
 * real influxd through `wattline once`; control verbs change the simulator's state, directly
 * and through a running Worker (its control() under the port lock); the port vanishes and
 * comes back. Children are stopped by PID; waits are bounded polls, never timing assertions.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { systemClock } from '../../src/core/clock.js';
import { TimeoutError, TransportError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import { loadConfig } from '../../src/config/load.js';
import { drivers } from '../../src/devices/index.js';
import { powerwalkerPduDriver } from '../../src/devices/powerwalker-pdu/index.js';
import type { DeviceSession } from '../../src/devices/types.js';
import { startAtsSimulator, type AtsSimulator } from '../../src/simulators/powerwalker-ats.js';
import { startPduSimulator, type PduSimulator } from '../../src/simulators/powerwalker-pdu.js';
import { SerialTransport } from '../../src/transports/serial.js';
import { Worker } from '../../src/runtime/worker.js';
import { runCli } from '../helpers/cli.js';
import { createDatabase, query, startInfluxd } from '../helpers/influxd.js';
import { startPtyPair, type PtyPair } from '../helpers/pty.js';

const LINE = { baudRate: 2400, dataBits: 8 as const, parity: 'none' as const, stopBits: 1 as const };
const signal = () => new AbortController().signal;

let dir: string;
let pduPair: PtyPair;
let atsPair: PtyPair;
let pduEnd: SerialTransport;
let atsEnd: SerialTransport;
let pduSim: PduSimulator;
let atsSim: AtsSimulator;

async function startPduEnd(): Promise<void> {
  pduEnd = new SerialTransport({ path: pduPair.a, presenceCheckMs: 0, ...LINE });
  await pduEnd.open();
  pduSim = startPduSimulator(pduEnd);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-pw-'));
  const pduDir = join(dir, 'pdu');
  const atsDir = join(dir, 'ats');
  mkdirSync(pduDir);
  mkdirSync(atsDir);
  pduPair = await startPtyPair(pduDir);
  atsPair = await startPtyPair(atsDir);
  await startPduEnd();
  atsEnd = new SerialTransport({ path: atsPair.a, presenceCheckMs: 0, ...LINE });
  await atsEnd.open();
  atsSim = startAtsSimulator(atsEnd);
});

after(async () => {
  pduSim?.stop();
  atsSim?.stop();
  await pduEnd?.close();
  await atsEnd?.close();
  await pduPair?.stop();
  await atsPair?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function pduSession(): { session: DeviceSession; transport: SerialTransport } {
  const transport = new SerialTransport({ path: pduPair.b, presenceCheckMs: 100, ...LINE });
  const options = powerwalkerPduDriver.options.parse({ requestTimeoutMs: 1000, control: { allow: ['off', 'shutdown-restore', 'cancel'], outlets: [1, 2, 3, 4] } });
  const session = powerwalkerPduDriver.createSession({ device: 'pdu', options, tags: {}, transport, clock: systemClock, log: silentLogger() });
  return { session, transport };
}

test('PTY: a PDU poll, control verbs reaching the simulator, the port unplugged and back', async () => {
  const { session, transport } = pduSession();
  try {
    await session.start();
    const res = await session.collect(signal());
    assert.equal(res.points.filter((p) => p.measurement === 'pdu_outlet').length, 8);
    assert.equal(res.points.find((p) => p.measurement === 'pdu')!.fields.input_v, 225.5);

    const options = powerwalkerPduDriver.options.parse({ control: { allow: ['off', 'shutdown-restore', 'cancel'], outlets: [1, 2, 3, 4] } });
    const r = await session.control!(powerwalkerPduDriver.control!.prepare('shutdown-restore', ['1', '5', '10'], options, 'pdu'), signal());
    assert.match(r.message, /accepted \(ACK\)/);
    assert.equal(pduSim.requests.at(-1), 'S,105R0010');
    assert.equal(pduSim.outletStatus(1), 2); // shutdown active: 5 min away, the warning starts at 3
    await session.control!(powerwalkerPduDriver.control!.prepare('cancel', ['1'], options, 'pdu'), signal());
    assert.equal(pduSim.outletStatus(1), 1);

    // Unplugged: socat and the simulator end go away; the presence check closes the port.
    pduSim.stop();
    await pduEnd.close();
    await pduPair.stop();
    for (let i = 0; i < 100 && transport.isOpen; i++) await new Promise((res2) => setTimeout(res2, 20));
    await assert.rejects(session.collect(signal()), (e: unknown) => (e instanceof TransportError && e.retryable) || e instanceof TimeoutError);

    pduPair = await startPtyPair(join(dir, 'pdu'));
    await startPduEnd();
    const back = await session.collect(signal());
    assert.ok(
      back.points.some((p) => p.measurement === 'pdu_info'),
      'identified again after the reopen',
    );
    assert.ok(session.stats().reopens! >= 1);
  } finally {
    await session.close();
  }
});

test('a running Worker carries a verb to the PDU between polls (control under the port lock)', async () => {
  const path = join(dir, 'worker.yaml');
  writeFileSync(
    path,
    stringify({
      outbox: { path: 'worker-outbox.sqlite' },
      devices: [{ name: 'pdu', driver: 'powerwalker-pdu', schedule: '* * * * * *', port: { path: pduPair.b }, options: { control: { allow: ['off'], outlets: [2] } } }],
    }),
  );
  const loaded = loadConfig({ drivers, path });
  const worker = new Worker({ loaded, drivers, log: silentLogger() });
  await worker.start();
  try {
    const before = pduSim.requests.length;
    // Wait for a scheduled poll first, so the verb really shares the port with running jobs.
    for (let i = 0; i < 150 && !pduSim.requests.slice(before).includes('QSR'); i++) await new Promise((r) => setTimeout(r, 20));
    const { request, result } = await worker.control('pdu', 'off', ['2'], signal());
    assert.equal(request.summary, 'switch outlet 2 off');
    assert.match(result.message, /outlet 2 switches off in 6 s/);
    assert.equal(pduSim.outletStatus(2), 3);
    await assert.rejects(worker.control('pdu', 'off', ['3'], signal()), /off on outlet 3 is not allowed/);
    // Requests never interleave: each one is followed by the next only after its reply.
    assert.ok(pduSim.requests.includes('S,2.1'));
  } finally {
    await worker.stop();
  }
});

test('wattline once: PDU and ATS over PTYs into a real influxd', async () => {
  const influxd = await startInfluxd();
  try {
    await createDatabase(influxd.url, 'pw');
    const config = join(dir, 'wattline.yaml');
    writeFileSync(
      config,
      stringify({
        outbox: { path: 'outbox.sqlite' },
        influx: { version: 1, url: influxd.url, database: 'pw' },
        devices: [
          { name: 'rack-pdu', driver: 'powerwalker-pdu', port: { path: pduPair.b }, timeoutMs: 10_000 },
          { name: 'rack-ats', driver: 'powerwalker-ats', port: { path: atsPair.b }, timeoutMs: 10_000 },
        ],
      }),
    );
    const r = await runCli(['--config', config, 'once']);
    assert.equal(r.code, 0, r.stderr);
    const outlets = await query(influxd.url, 'pw', 'SELECT last("status") FROM "pdu_outlet" WHERE "device" = \'rack-pdu\' GROUP BY "outlet"');
    assert.equal(outlets.length, 8);
    // Outlet 2 was switched off by the worker test before: status 3 (imminent) or 0 (off) by now.
    const status = Object.fromEntries(outlets.map((s) => [s.tags!.outlet, s.values[0]![1]]));
    assert.equal(status['1'], 1);
    assert.ok([0, 3].includes(status['2'] as number), `outlet 2 status ${status['2']}`);
    const input = await query(influxd.url, 'pw', 'SELECT last("input_v"), last("input_kwh") FROM "pdu"');
    assert.equal(input[0]!.values[0]![1], 225.5);
    const sources = await query(influxd.url, 'pw', 'SELECT last("voltage_v") FROM "ats_source" GROUP BY "source"');
    assert.deepEqual(
      sources.map((s) => [s.tags!.source, s.values[0]![1]]),
      [
        ['1', 227.3],
        ['2', 227.3],
      ],
    );
    const ats = await query(influxd.url, 'pw', 'SELECT last("active_source"), last("status_bits") FROM "ats"');
    assert.deepEqual(ats[0]!.values[0]!.slice(1), [1, 65536]);
    const info = await query(influxd.url, 'pw', 'SELECT last("firmware") FROM "pdu_info"');
    assert.equal(info[0]!.values[0]![1], '00.15');
  } finally {
    await influxd.stop();
  }
});
