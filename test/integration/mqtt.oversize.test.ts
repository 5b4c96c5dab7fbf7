/**
 * Issue 23 (every reader bounded): a 100 MB message on a command topic the worker subscribes
 * to, through a real Mosquitto (which passes messages of any size by default), to a real
 * `wattline run` process. Without a cap MQTT.js's parser holds the whole packet before anyone
 * sees it (the peak RSS grows by ~190 MB). With it: the peak stays within tens of MB whatever
 * the size (garbage read buffers, not the message), it logs one line naming the topic and the size, acknowledges the QoS 1 message (the next command is still handled on
 * the same connection), and keeps running.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_INCOMING_PACKET_BYTES } from '../../src/mqtt/packet-cap.js';
import { startCli } from '../helpers/cli.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { subscribe, type Subscriber } from '../helpers/mqtt-subscriber.js';
import { until } from '../helpers/until.js';

const MiB = 1024 * 1024;
const HUGE = 100 * MiB;

let broker: Mosquitto;
let sub: Subscriber;
let dir: string;
before(async () => {
  broker = await startMosquitto();
  // Not the command topic: this process need not hold the 100 MB a second time.
  sub = await subscribe(broker.url, ['wattline/meter/#']);
  dir = mkdtempSync(join(tmpdir(), 'wattline-mqtt-oversize-'));
});
after(async () => {
  await sub?.close();
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Peak resident memory of a process (VmHWM), in bytes. */
const peakRss = (pid: number) => Number(/^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

test('a 100 MB message on a subscribed command topic (real Mosquitto, real worker process): one line, memory bounded, the connection and the worker go on', async () => {
  const config = join(dir, 'wattline.yaml');
  writeFileSync(
    config,
    [
      'log: { level: info, format: json }',
      'outbox: { path: outbox.sqlite, synchronous: normal }',
      `mqtt: { url: ${JSON.stringify(broker.url)}, clientId: wattline-oversize }`,
      'devices:',
      '  - { name: meter, driver: dsmr-p1, simulate: true, schedule: "* * * * * *" }',
      '',
    ].join('\n'),
  );
  const worker = startCli(['--config', config, 'run'], { cwd: dir });
  const logs = () =>
    worker
      .output()
      .stderr.split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; topic?: string; reason?: string });
  try {
    await until('the worker publishes', () => sub.messages.some((m) => m.topic.startsWith('wattline/meter/')) || worker.child.exitCode !== null, 30_000);
    assert.equal(worker.child.exitCode, null, worker.output().stderr);
    // A few collections in: the baseline has what a running worker holds.
    const seen = sub.messages.length;
    await until('more collections', () => sub.messages.length > seen + 20, 30_000);
    const baseline = peakRss(worker.child.pid!);

    // A device the worker does not have: the topic is still one it subscribes to (wattline/+/+/+/set).
    const topic = 'wattline/nobody/outlet/1/set';
    await sub.publish(topic, 'x'.repeat(HUGE), { qos: 1 });
    const ignored = () => logs().filter((l) => l.msg === 'mqtt: message ignored');
    await until('the message is ignored', () => ignored().length > 0, 60_000);
    // Without the cap the peak grows by ~190 MB. With it ~35 MB remain, for 100 MB and 250 MB
    // alike: the socket's 64 KiB read buffers, which V8 collects once tens of MB of them pile up.
    const grew = peakRss(worker.child.pid!) - baseline;
    assert.ok(grew < 48 * MiB, `peak RSS grew by ${(grew / MiB).toFixed(1)} MB for a ${HUGE / MiB} MB message`);
    assert.deepEqual(
      ignored().map((l) => [l.topic, l.reason]),
      [[topic, `payload of ${HUGE} bytes, over the ${MAX_INCOMING_PACKET_BYTES}-byte cap on incoming messages: dropped unread`]],
    );

    // The same connection goes on: the next command is read (and refused for its own reason), nothing reconnected.
    await sub.publish(topic, 'ON', { qos: 1 });
    await until('the next command is handled', () => ignored().length > 1, 15_000);
    assert.match(String(ignored()[1]!.reason), /unknown device "nobody"/);
    const published = sub.messages.length;
    await until('publishing goes on', () => sub.messages.length > published + 5, 15_000);
    assert.equal(worker.child.exitCode, null);
    assert.deepEqual(
      logs()
        .filter((l) => /mqtt (re)?connected/.test(l.msg))
        .map((l) => l.msg),
      ['mqtt connected'],
    );
  } finally {
    worker.child.kill('SIGTERM');
  }
  assert.equal(await worker.exited, 0, worker.output().stderr);
});
