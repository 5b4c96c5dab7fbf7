/**
 * A config reload with MQTT on a real Mosquitto (simulated P1, HDHK and UPS: none on this
 * machine): Home Assistant discovery follows the new device list on the same connection.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { validate } from '../../src/config/load.js';
import { drivers } from '../../src/devices/index.js';
import { demoDevices } from '../../src/simulators/index.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { subscribe } from '../helpers/mqtt-subscriber.js';
import { startWorker } from '../helpers/worker-run.js';

let broker: Mosquitto;
let dir = '';
before(async () => {
  broker = await startMosquitto();
  dir = mkdtempSync(join(tmpdir(), 'wattline-reload-mqtt-'));
});
after(async () => {
  await broker?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const demoOptions = (driver: string) => demoDevices().find((d) => d.driver === driver)?.options;
const ALL: Record<string, unknown> = {
  meter: { name: 'meter', driver: 'dsmr-p1', simulate: true, schedule: '* * * * * *' },
  board: { name: 'board', driver: 'hdhk', simulate: true, schedule: '* * * * * *', options: demoOptions('hdhk') },
  ups: { name: 'ups', driver: 'nut-ups', simulate: true, schedule: '* * * * * *', options: demoOptions('nut-ups') },
};
const config = (devices: string[]) => ({
  site: 'test',
  outbox: { path: 'r.sqlite', synchronous: 'normal' },
  mqtt: { url: broker.url, clientId: 'wattline-reload', topicPrefix: 'wlr' },
  devices: devices.map((d) => ALL[d]),
});
const configTopic = (uid: string) => `homeassistant/sensor/wlr/${uid}/config`;

test('reload: a removed device leaves Home Assistant, an added one is announced, on the same MQTT connection', async () => {
  const run = await startWorker(config(['meter', 'board']), drivers, dir);
  const sub = await subscribe(broker.url, ['homeassistant/#', 'wlr/#']);
  try {
    await sub.waitFor((m) => m.topic === configTopic('wlr_board_hdhk_unit_1_channel_1_current_a') && m.payload !== '', 'board config', { sinceMs: 0 });
    const before = Date.now();
    await run.worker.reload({ config: validate(config(['meter', 'ups']), drivers, 'test config'), path: null, dir, demo: false });
    await sub.waitFor((m) => m.topic === configTopic('wlr_board_hdhk_unit_1_channel_1_current_a') && m.payload === '', 'the board entity removed', { sinceMs: before });
    await sub.waitFor((m) => m.topic.startsWith('homeassistant/sensor/wlr/wlr_ups_') && m.payload !== '', 'a ups entity announced', { sinceMs: before });
    assert.equal(run.worker.mqtt?.stats().connects, 1, 'one connection throughout');
    const meterCleared = sub.messages.filter((m) => m.topic.includes('_meter_') && m.payload === '');
    assert.deepEqual(meterCleared, [], 'the unchanged meter keeps its entities');
  } finally {
    await run.stop();
    await sub.close();
  }
});
