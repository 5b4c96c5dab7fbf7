/**
 * Issue 23: a server answering a write with a huge error body (300 MB, streamed by a local
 * HTTP server, never held in memory on either side). Both writers keep a capped start of it
 * for the message and discard the rest: the server sees the connection close long before
 * the end, and this process's resident memory stays within a few MB.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MAX_BODY_BYTES } from '../../src/influx/body.js';
import { MAX_MESSAGE_CHARS } from '../../src/influx/classify.js';
import { InfluxV1Writer } from '../../src/influx/v1-writer.js';
import type { Writer } from '../../src/influx/types.js';
import { InfluxV2Writer } from '../../src/influx/v2-writer.js';

const BODY_BYTES = 300 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');
/** RSS growth allowed per write (a few MB: buffers, the client module on first use). */
const RSS_BOUND = 24 * 1024 * 1024;

interface Served {
  /** Bytes of body the server managed to hand to the socket before the client went away. */
  sent: number;
  finished: boolean;
}

describe('a 300 MB error body', () => {
  let server: Server;
  let url: string;
  const served: Served[] = [];
  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      const json = req.url?.startsWith('/api/v2/') ?? false;
      // v2: a JSON body of unknown length (chunked); v1: a plain one with its length announced.
      res.writeHead(500, json ? { 'content-type': 'application/json' } : { 'content-type': 'text/plain', 'content-length': String(BODY_BYTES) });
      const s: Served = { sent: 0, finished: false };
      served.push(s);
      res.write('first line of the failure\n');
      const pump = () => {
        while (s.sent < BODY_BYTES) {
          s.sent += CHUNK.length;
          if (!res.write(CHUNK)) return void res.once('drain', pump);
        }
        s.finished = true;
        res.end();
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** One write against the huge body: a retry whose message is the body's first line, capped; the server cut off; RSS flat. */
  async function writeCapped(w: Writer): Promise<void> {
    const before = process.memoryUsage().rss;
    const value = await w.write(['m f=1 1'], 's');
    const growth = process.memoryUsage().rss - before;
    await w.close();
    assert.equal(value.kind, 'retry');
    assert.equal(value.status, 500);
    assert.ok('message' in value && value.message.startsWith('first line of the failure'));
    assert.ok(value.message.length <= MAX_MESSAGE_CHARS, `message of ${value.message.length} characters`);
    assert.equal(served.at(-1)!.finished, false, 'the server got to send the whole body');
    assert.ok(growth < RSS_BOUND, `RSS grew by ${(growth / 1e6).toFixed(1)} MB`);
  }

  test('v1: the message is the first line, capped; the rest is not read', async () => {
    const w = new InfluxV1Writer({ url, database: 'db', timeoutMs: 60_000, gzip: false });
    await writeCapped(w);
    assert.ok(MAX_BODY_BYTES < RSS_BOUND);
  });

  test('v2: a JSON error body (which the client would read whole) is cut off; the first line is the message', async () => {
    const w = new InfluxV2Writer({ url, org: 'o', bucket: 'b', token: 't', timeoutMs: 60_000, gzip: false });
    // Load the client module first, so its ~MBs of code are not counted as body memory.
    await w.write([], 's').catch(() => undefined);
    await writeCapped(w);
  });
});
