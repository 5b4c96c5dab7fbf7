/**
 * The MQTT output's batch, driven directly (no worker) against a real Mosquitto and a real
 * MQTT.js subscriber: reports handed over within one batch window, including two of the same
 * device, all reach the broker in order; state written straight into the batch and state that
 * waited in the queue arrive alike; a command's result does not wait for the batch window, and
 * the readings collected before it go out first.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { mqttSchema } from '../../src/config/mqtt.js';
import { int, type Point } from '../../src/core/point.js';
import { silentLogger } from '../../src/core/log.js';
import { findDriver } from '../../src/devices/index.js';
import { MqttOutput, type ControlFn, type MqttDevice } from '../../src/mqtt/output.js';
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

const board: MqttDevice = { name: 'board', driver: findDriver('hdhk')!, options: {}, sharedTags: ['site'] };
const noCommands: ControlFn = async () => {
  throw new Error('no commands here');
};

/** An output on the test broker: `config` is the mqtt section beside the url. */
function output(config: Record<string, unknown>, device = board, control = noCommands): MqttOutput {
  return new MqttOutput({
    config: mqttSchema.parse({ url: broker.url, ...config }),
    devices: [device],
    control,
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
    const out = output({ topicPrefix: `wl/q${qos}`, clientId: `batch-test-${qos}`, qos, discovery: { enabled: false } });
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

test('a first batch with more discovery configs than may be in flight: both reports of one device in it still reach the subscriber', async () => {
  const out = output({ topicPrefix: 'wl/disc', clientId: 'batch-test-disc', discovery: { prefix: 'wl/ha' } });
  await out.start();
  try {
    await connected(out);
    const t0 = Date.UTC(2026, 10, 25, 13, 0, 0);
    // 48 channels x 2 fields: 96 configs at QoS 1, more than the 64 the output keeps in flight; their acknowledgements cannot arrive within one pass.
    const poll = (ms: number, currentA: number) => Array.from({ length: 48 }, (_, c) => reading(c + 1, currentA, ms));
    out.publishReport({ device: 'board', points: poll(t0, 1.25) });
    out.publishReport({ device: 'board', points: poll(t0 + 1000, 1.5) });
    const topic = 'wl/disc/board/hdhk/unit/1/channel/48';
    await sub.waitFor((m) => m.topic === topic && JSON.parse(m.payload).current_a === 1.5, 'the second reading');
    assert.deepEqual(
      sub.messages.filter((m) => m.topic === topic).map((m) => JSON.parse(m.payload).current_a),
      [1.25, 1.5],
      'the first reading was not replaced in the queue by the second',
    );
    assert.equal(sub.messages.filter((m) => m.topic.startsWith('wl/ha/') && m.topic.includes('channel_48')).length, 2, 'both fields of channel 48 announced');
    assert.equal(out.stats().superseded, 0);
  } finally {
    await out.stop();
  }
});

test('a long batch window: a reading waits for it, but a command is answered at once, after the readings collected before it', async () => {
  let commands = 0;
  const pdu: MqttDevice = { name: 'pdu', driver: findDriver('powerwalker-pdu')!, options: { control: { allow: ['on', 'off'], outlets: [2] } }, sharedTags: [] };
  const out = output({ topicPrefix: 'wl/cmd', clientId: 'batch-test-cmd', batchWindowMs: 60_000, discovery: { enabled: false } }, pdu, async (_device, verb, args) => {
    commands++;
    return { request: { verb, params: args, summary: `${verb} outlet ${args[0]}` }, result: { message: 'done' } };
  });
  await out.start();
  try {
    const since = Date.now();
    // Written after the SUBSCRIBE on the same connection: once it is here, the broker routes commands to the output.
    await sub.waitFor((m) => m.topic === 'wl/cmd/status' && m.payload === 'online', 'the output online', { sinceMs: since });
    // A poll that saw outlet 2 on (status 1), collected before the OFF command.
    out.publishReport({ device: 'pdu', points: [{ measurement: 'pdu_outlet', tags: { device: 'pdu', outlet: '2' }, fields: { status: int(1), current_a: 0.4 }, time: BigInt(since) * 1_000_000n }] });
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      sub.messages.filter((m) => m.atMs >= since && m.topic.startsWith('wl/cmd/pdu/')),
      [],
      'the reading waits for the 60 s window',
    );
    await sub.publish('wl/cmd/pdu/outlet/2/set', 'OFF');
    const result = await sub.waitFor((m) => m.topic === 'wl/cmd/pdu/outlet/2/result', 'the command result', { sinceMs: since });
    assert.equal(JSON.parse(result.payload).ok, true);
    assert.equal(commands, 1);
    await sub.waitFor((m) => m.topic === 'wl/cmd/pdu/outlet/2/state' && m.payload === 'OFF', 'the command state', { sinceMs: since });
    const seen = sub.messages
      .filter((m) => m.atMs >= since && m.topic.startsWith('wl/cmd/pdu/') && !m.topic.endsWith('/set'))
      .map((m) => `${m.topic.slice('wl/cmd/pdu/'.length)} ${m.payload.startsWith('{') ? 'json' : m.payload}`);
    assert.deepEqual(seen, ['pdu_outlet/outlet/2 json', 'outlet/2/state ON', 'outlet/2/result json', 'outlet/2/state OFF'], 'the poll before the command, then its answer');
  } finally {
    await out.stop();
  }
});
