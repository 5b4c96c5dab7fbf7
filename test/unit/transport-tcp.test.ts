import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { TransportError } from '../../src/core/errors.js';
import { TcpTransport } from '../../src/transports/tcp.js';
import { freePort } from '../helpers/ports.js';

test('TcpTransport: bytes both ways with a real loopback server, close seen, reopen works', async () => {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('data', (d) => s.write(Buffer.concat([Buffer.from('echo:'), d])));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  try {
    const t = new TcpTransport({ host: '127.0.0.1', port });
    assert.equal(t.key, `tcp:127.0.0.1:${port}`);
    await t.open();
    assert.equal(t.isOpen, true);
    const got = once(t, 'data');
    await t.write(Buffer.from('VER\n'));
    assert.equal(String((await got)[0]), 'echo:VER\n');

    // The server drops the connection: the transport says so and can be opened again.
    const closed = once(t, 'close');
    sockets[0].destroy();
    const [err] = await closed;
    assert.ok(err instanceof TransportError && err.retryable);
    assert.equal(t.isOpen, false);
    await assert.rejects(t.write(Buffer.from('x')), TransportError);
    await t.open();
    assert.equal(t.isOpen, true);
    await t.close();
    assert.equal(t.isOpen, false);
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
});

test('TcpTransport: nobody listening is a retryable TransportError naming the address', async () => {
  const port = await freePort();
  const t = new TcpTransport({ host: '127.0.0.1', port });
  await assert.rejects(t.open(), (err: unknown) => err instanceof TransportError && err.retryable && err.message.includes(`127.0.0.1:${port}: cannot connect`));
});
