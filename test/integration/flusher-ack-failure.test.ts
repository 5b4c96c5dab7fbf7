/**
 * Issue 23: when InfluxDB answers 2xx but the outbox cannot delete the rows, the log must
 * blame the outbox (naming its file), not the write. The acknowledgement is made to fail for
 * real: another connection holds the SQLite write lock. The server is a scripted local HTTP
 * server answering 204, as InfluxDB does.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { systemClock } from '../../src/core/clock.js';
import { Flusher } from '../../src/influx/flusher.js';
import { InfluxV1Writer } from '../../src/influx/v1-writer.js';
import { SqliteOutbox } from '../../src/outbox/sqlite-outbox.js';

let dir: string;
let server: Server;
let url: string;
let writes = 0;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-ack-failure-'));
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      writes++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('InfluxDB took the batch but the outbox could not delete it: the outbox is named, not the write; delivery resumes', async () => {
  const path = join(dir, 'outbox.sqlite');
  const outbox = new SqliteOutbox(path, { maxRows: 1e6, maxBytes: 1e9 }, { busyTimeoutMs: 50, reserveBytes: 0 });
  outbox.append(
    Array.from({ length: 10 }, (_, i) => `m v=${i} ${i + 1}`),
    's',
  );
  const records: { level: number; msg: string; message?: string }[] = [];
  const log = pino({ level: 'debug', base: undefined }, { write: (s: string) => void records.push(JSON.parse(s)) });
  const flusher = new Flusher({
    outbox,
    writer: new InfluxV1Writer({ url, database: 'db', timeoutMs: 5000, gzip: false }),
    batchSize: 100,
    batchBytes: 1e6,
    flushIntervalMs: 20,
    minRetryDelayMs: 20,
    maxRetryDelayMs: 100,
    clock: systemClock,
    log,
  });
  const locker = new Database(path);
  try {
    locker.exec('BEGIN IMMEDIATE');
    flusher.start();
    // Loud lines only (warn and up): the words may change, the side they blame may not.
    const loud = () => records.filter((r) => r.level >= 40);
    await until('the failed acknowledgement is logged', () => loud().some((r) => /outbox/.test(r.msg)));
    const line = loud().find((r) => /outbox/.test(r.msg))!;
    assert.ok(line.message!.startsWith(`${path}: InfluxDB accepted 10 points, but acknowledging them on disk failed`), line.message);
    assert.deepEqual(
      loud().filter((r) => /write failed|InfluxDB (unreachable|answers|refuses)/.test(r.msg)),
      [],
      'the write is not blamed',
    );
    assert.ok(writes >= 1);
    locker.exec('ROLLBACK');
    await until('the rows are acknowledged', () => outbox.stats().rows === 0);
    assert.ok(records.some((r) => r.level === 30 && /delivering again/.test(r.msg)));
  } finally {
    if (locker.inTransaction) locker.exec('ROLLBACK');
    locker.close();
    await flusher.stop();
    outbox.close();
  }
});
