/**
 * PowerWalker compatibility's `$CONNECTED/<client id>` against a real Mosquitto and a real
 * `wattline run` on the simulated PDU: 1 while it runs, 0 after a clean stop (SIGTERM) and,
 * through the last will of its second connection, 0 when the worker dies (SIGKILL).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { startCli } from '../helpers/cli.js';
import { startMosquitto, type Mosquitto } from '../helpers/mosquitto.js';
import { subscribe, type Subscriber } from '../helpers/mqtt-subscriber.js';

let broker: Mosquitto;
let sub: Subscriber;
let dir: string;

before(async () => {
  broker = await startMosquitto();
  sub = await subscribe(broker.url, ['$CONNECTED/#', 'wl/#']);
  dir = mkdtempSync(join(tmpdir(), 'wattline-compat-will-'));
});

after(async () => {
  await sub?.close();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function run(clientId: string): ReturnType<typeof startCli> {
  const config = join(dir, `${clientId}.yaml`);
  writeFileSync(
    config,
    stringify({
      outbox: { path: `${clientId}.sqlite`, synchronous: 'normal' },
      mqtt: { url: broker.url, clientId, topicPrefix: `wl/${clientId}`, compatibility: { mode: 'powerwalker' } },
      devices: [{ name: 'pdu', driver: 'powerwalker-pdu', simulate: true, schedule: '* * * * * *' }],
    }),
  );
  return startCli(['--config', config, '--log-level', 'warn', 'run'], { cwd: dir });
}

const connectedState = (clientId: string, payload: string, sinceMs: number) =>
  sub.waitFor((m) => m.topic === `$CONNECTED/${clientId}` && m.payload === payload, `$CONNECTED/${clientId} = ${payload}`, { sinceMs, timeoutMs: 20_000 });

for (const [signal, how] of [
  ['SIGTERM', 'a clean stop publishes it'],
  ['SIGKILL', 'the broker publishes the last will'],
] as const) {
  test(`$CONNECTED/<client id> is 1 while a real wattline run is connected and 0 after ${signal}: ${how}`, async () => {
    const clientId = `will-${signal.toLowerCase()}`;
    const started = Date.now();
    const r = run(clientId);
    try {
      await connectedState(clientId, '1', started);
      // Collecting and publishing: the worker is really running, not just connected.
      await sub.waitFor((m) => m.topic === `wl/${clientId}/pdu/pdu`, 'a PDU state message', { timeoutMs: 20_000 });
      const stopped = Date.now();
      r.child.kill(signal);
      const code = await r.exited;
      if (signal === 'SIGTERM') assert.equal(code, 0, r.output().stderr);
      await connectedState(clientId, '0', stopped);
    } finally {
      if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
      await r.exited;
    }
  });
}
