/**
 * The HTTP endpoint against clients that misbehave: a half-open client is cut off after the
 * request timeout, connections beyond the cap are refused, and /health turns 503 with the
 * failed checks in its body. A snapshot made here stands in for the worker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { pino } from 'pino';
import { validate } from '../../src/config/load.js';
import { drivers } from '../../src/devices/index.js';
import { startHttp } from '../../src/observe/http.js';
import type { Snapshot } from '../../src/observe/snapshot.js';
import { freePort } from '../helpers/ports.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');

function snapshot(over: Partial<Snapshot> = {}): Snapshot {
  return {
    timeMs: NOW,
    startedMs: NOW - 3_600_000,
    version: '0.1.0',
    host: 'pi',
    site: null,
    devices: [],
    outbox: { pendingRows: 0, pendingBytes: 0, oldestPendingMs: null, dropped: 0, deadLetters: 0, backfillPending: 0 },
    outputs: [],
    mqtt: null,
    process: { rssBytes: 1, heapUsedBytes: 1, cpuSeconds: 1, eventLoopDelayP99Ms: 1, uptimeS: 3600 },
    ...over,
  };
}

async function serve(current: () => Snapshot, http: Record<string, unknown> = {}) {
  const port = await freePort();
  const config = validate({ http: { listen: `127.0.0.1:${port}`, ...http } }, drivers, 'test');
  const server = await startHttp({ config: config.http!, observer: { snapshot: current, healthConfig: config.health }, log: pino({ level: 'silent' }) });
  return { port, server };
}

test('/health: 503 with each failed check (old backlog, refused output, every device failing long), 200 again when well', async () => {
  let s = snapshot({
    outbox: { pendingRows: 5, pendingBytes: 100, oldestPendingMs: NOW - 1000_000, dropped: 0, deadLetters: 0, backfillPending: 0 },
    outputs: [
      {
        output: 'influx',
        target: 'influx v1 http://127.0.0.1:8086 db=x',
        written: 0,
        refused: 3,
        retries: 0,
        state: 'refused',
        nextTryMs: NOW + 5000,
        lastErrorClass: 'http_401',
        lastError: 'authorization failed',
        lastErrorMs: NOW,
      },
    ],
    devices: [
      {
        name: 'a',
        driver: 'nut-ups',
        nextRunMs: null,
        ok: 0,
        failed: 9,
        timedOut: 0,
        skipped: 0,
        errors: {} as never,
        lastDurationMs: 1,
        points: 0,
        lastOkMs: null,
        lastErrorMs: NOW,
        lastError: 'x',
        failingSinceMs: NOW - 700_000,
        consecutiveFailures: 9,
      },
    ],
  });
  const { port, server } = await serve(() => s);
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    assert.equal(res.status, 503);
    const body = (await res.json()) as { healthy: boolean; failed: { check: string; message: string }[] };
    assert.equal(body.healthy, false);
    assert.deepEqual(
      body.failed.map((f) => f.check),
      ['outbox_pending_age', 'output_refused', 'devices_failing'],
    );
    assert.equal(body.failed[0]!.message, 'oldest pending point is 1000s old (limit 900s)');
    assert.doesNotMatch(JSON.stringify(body), /authorization failed/, 'no server words in the body, only the class');
    s = snapshot();
    assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
  } finally {
    await server.close();
  }
});

test('a client that never sends its request is disconnected after requestTimeoutMs; beyond maxConnections, connections are refused', async () => {
  const { port, server } = await serve(() => snapshot(), { requestTimeoutMs: 300, maxConnections: 2 });
  try {
    const silent = await Promise.all([0, 1].map(() => opened(port)));
    // A third while two are held: the server closes it without an answer.
    const third = await opened(port);
    assert.equal(await closedWithin(third, 2000), true, 'third connection refused');
    // The two silent ones are cut off by the request timeout.
    for (const s of silent) assert.equal(await closedWithin(s, 5000), true);
    // Then the server answers again.
    assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`)).status, 200);
  } finally {
    await server.close();
  }
});

function opened(port: number): Promise<ReturnType<typeof connect>> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

function closedWithin(socket: ReturnType<typeof connect>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (socket.closed) return resolve(true);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, ms);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.resume();
  });
}
