/**
 * Back-off between reconnects of network links: Backoff's jitter, and TcpTransport's gate after
 * a failed connect (a real refused loopback port).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Backoff } from '../../src/core/backoff.js';
import { TransportError } from '../../src/core/errors.js';
import { TcpTransport } from '../../src/transports/tcp.js';
import { freePort } from '../helpers/ports.js';

test('Backoff with jitter: each delay drawn from [(1 - jitter) x d, d], doubling from the undrawn delay; no jitter as before', () => {
  const draws = [0, 1, 0.5, 1, 1];
  const b = new Backoff(1000, 5000, 0.5, () => draws.shift()!);
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [1000, 1000, 3000, 2500, 2500]);
  b.reset();
  const plain = new Backoff(1000, 5000);
  assert.deepEqual([plain.next(), plain.next(), plain.next(), plain.next()], [1000, 2000, 4000, 5000]);
});

test('TcpTransport with retry: after a refused connect, open() fails at once until the back-off has passed, then connects', async () => {
  const port = await freePort();
  const t = new TcpTransport({ host: '127.0.0.1', port, retry: { minMs: 400, maxMs: 400 } });
  await assert.rejects(t.open(), (e: unknown) => e instanceof TransportError && e.retryable && /ECONNREFUSED/.test(e.message));
  const server = createServer((s) => s.on('error', () => {}));
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  try {
    // The server is there now, but the link waits out its back-off without trying.
    await assert.rejects(t.open(), (e: unknown) => e instanceof TransportError && e.retryable && /ECONNREFUSED.*next connect in \d/.test(e.message));
    assert.equal(t.isOpen, false);
    await new Promise((r) => setTimeout(r, 450));
    await t.open();
    assert.equal(t.isOpen, true);
  } finally {
    await t.close();
    await new Promise((r) => server.close(r));
  }
});
