/**
 * The MQTT output's batch, driven directly (no worker) against a real Mosquitto and a real
 * MQTT.js subscriber: reports handed over within one batch window, including two of the same
 * device, all reach the broker in order; state written straight into the batch and state that
 * waited in the queue arrive alike.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mqttSchema } from '../../src/config/mqtt.js';
import { int, type Point } from '../../src/core/point.js';
import { silentLogger } from '../../src/core/log.js';
import { findDriver } from '../../src/devices/index.js';
import { MqttOutput } from '../../src/mqtt/output.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { subscribe, type Subscriber } from '../helpers/mqtt-subscriber.js';

let broker: Mosquitto;
let sub: Subscriber;

before(async () => {
  broker = await startMosquitto();
  sub = await subscribe(broker.url, ['wl/#']);
});

after(async () => {
  await sub?.close();
  await broker?.stop();
});

function output(qos: 0 | 1): MqttOutput {
  return new MqttOutput({
    config: mqttSchema.parse({ url: broker.url, topicPrefix: `wl/q${qos}`, clientId: `batch-test-${qos}`, qos, discovery: { enabled: false } }),
    devices: [{ name: 'board', driver: findDriver('hdhk')!, options: {}, sharedTags: ['site'] }],
    control: async () => {
      throw new Error('no commands here');
    },
    log: silentLogger(),
    defaultClientId: 'batch-test',
    announcedPath: null,
    resolvePath: (p) => p,
  });
}

const reading = (channel: number, currentA: number, ms: number): Point => ({
  measurement: 'hdhk',
  tags: { site: 'home', device: 'board', unit: '1', channel: String(channel), circuit: 'fornuis €' },
  fields: { current_a: currentA, range_a: int(40) },
  time: BigInt(ms) * 1_000_000n,
});

async function connected(out: MqttOutput): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!out.connected) {
    if (Date.now() > deadline) throw new Error('the output did not connect to the test broker within 10 s');
    await new Promise((r) => setTimeout(r, 20));
  }
}

// QoS 0: state is written straight into the batch; QoS 1: it waits in the queue (latest per topic), where a second reading would replace the first.
for (const qos of [0, 1] as const) {
  test(`QoS ${qos}: two reports of one device within the batch window both reach a real subscriber, in order, none superseded`, async () => {
    const out = output(qos);
    await out.start();
    try {
      await connected(out);
      const t0 = Date.UTC(2026, 10, 25, 12, 0, 0);
      const topic = (channel: number) => `wl/q${qos}/board/hdhk/unit/1/channel/${channel}`;
      out.publishReport({ device: 'board', points: [reading(2, 1.25, t0 + 1000), reading(3, 2.5, t0 + 1000)] });
      out.publishReport({ device: 'board', points: [reading(2, 1.5, t0 + 1100)] });
      const last = await sub.waitFor((m) => m.topic === topic(2) && JSON.parse(m.payload).current_a === 1.5, 'the second reading');
      const channel2 = sub.messages.filter((m) => m.topic === topic(2)).map((m) => JSON.parse(m.payload));
      assert.deepEqual(
        channel2.map((p) => [p.time, p.current_a]),
        [
          ['2026-11-25T12:00:01.000Z', 1.25],
          ['2026-11-25T12:00:01.100Z', 1.5],
        ],
      );
      assert.deepEqual(JSON.parse(last.payload), { time: '2026-11-25T12:00:01.100Z', current_a: 1.5, range_a: 40, tags: { unit: '1', channel: '2', circuit: 'fornuis €' } });
      await sub.waitFor((m) => m.topic === topic(3), 'channel 3');
      const stats = out.stats();
      assert.equal(stats.publishErrors, 0);
      assert.equal(stats.queued, 0);
      assert.equal(stats.batched, 0);
    } finally {
      await out.stop();
    }
  });
}
