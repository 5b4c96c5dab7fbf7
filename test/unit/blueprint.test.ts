/**
 * The driver blueprint (src/devices/_blueprint/, registered nowhere) runs: against its own
 * simulator (src/simulators/blueprint.ts, which builds the reply from the protocol's rule, not
 * from the codec) it gives the line the simulated values make, a bad checksum and silence end as
 * typed errors and the next poll reads again, and the capture re-decodes to the same line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemClock } from '../../src/core/clock.js';
import { TimeoutError } from '../../src/core/errors.js';
import { encodePoints } from '../../src/core/line-protocol.js';
import { silentLogger } from '../../src/core/log.js';
import { blueprintDriver } from '../../src/devices/_blueprint/index.js';
import { declaredField } from '../../src/devices/fields.js';
import { BlueprintError } from '../../src/devices/_blueprint/errors.js';
import { drivers } from '../../src/devices/index.js';
import type { CaptureRecord } from '../../src/devices/types.js';
import { startBlueprintSimulator } from '../../src/simulators/blueprint.js';
import { createSimLink } from '../../src/transports/sim.js';

const T0 = 1_700_000_000_000;
const clock = { ...systemClock, now: () => T0, nowNs: () => BigInt(T0) * 1_000_000n };
const lines = (points: Parameters<typeof encodePoints>[0]) => encodePoints(points, 'ms').lines.join('\n');
const LINE = 'blueprint,device=meter1,site=lab current_a=1.25,energy_kwh=1234.56,power_w=287,voltage_v=230.1 1700000000000';

test('blueprint (through its simulator): a poll gives the simulated values, faults are typed errors, the capture re-decodes to the same line', async () => {
  const { host, device } = createSimLink('sim:blueprint');
  await device.open();
  const sim = startBlueprintSimulator(device);
  const records: CaptureRecord[] = [];
  const options = blueprintDriver.options.parse({ requestTimeoutMs: 100 });
  const session = blueprintDriver.createSession({
    device: 'meter1',
    options,
    tags: { site: 'lab' },
    transport: host,
    clock,
    log: silentLogger(),
    capture: (direction, data, timeMs) => records.push({ direction, data: Buffer.from(data), timeMs }),
  });
  try {
    await session.start();
    const signal = new AbortController().signal;
    const first = await session.collect(signal);
    assert.equal(lines(first.points), LINE);
    for (const p of first.points) for (const f of Object.keys(p.fields)) assert.ok(declaredField(blueprintDriver.fields!.measurements[p.measurement], f), `${p.measurement}.${f} not in fields.ts`);
    const decoded = blueprintDriver.decodeCapture!(records, { device: 'meter1', options, tags: { site: 'lab' }, clock });
    assert.deepEqual(decoded.errors, []);
    assert.equal(lines(decoded.points), LINE);

    sim.setFault('bad-checksum');
    await assert.rejects(session.collect(signal), BlueprintError);
    sim.setFault('silence');
    await assert.rejects(session.collect(signal), TimeoutError);
    sim.setFault('none');
    assert.equal(lines((await session.collect(signal)).points), LINE);
    assert.equal(sim.requests, 4);
    assert.equal(session.stats().bad_replies, 1);
    assert.equal(session.stats().timeouts, 1);
  } finally {
    await session.close();
    sim.stop();
  }
  assert.ok(!drivers.some((d) => d.id === blueprintDriver.id), 'the blueprint is registered nowhere');
});
