import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { TLSSocket } from 'node:tls';
import { TransportError } from '../../src/core/errors.js';
import { TcpTransport } from '../../src/transports/tcp.js';
import { freePort } from '../helpers/ports.js';
import { makeSelfSigned } from '../helpers/self-signed.js';

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

test('TcpTransport: upgradeTls runs TLS on the open connection (loopback Node tls server, self-signed cert)', async () => {
  const tlsCert = makeSelfSigned();
  const sockets: Socket[] = [];
  // Plain first: "GO\n" is answered in plaintext, then the server wraps the same socket in TLS.
  const server = createServer((s) => {
    sockets.push(s);
    s.once('data', () => {
      s.write('OK\n', () => {
        const secure = new TLSSocket(s, { isServer: true, key: tlsCert.key, cert: tlsCert.cert });
        secure.on('data', (d) => secure.write(Buffer.concat([Buffer.from('tls:'), d])));
        secure.on('error', () => undefined);
      });
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const plainThenUpgrade = async (t: TcpTransport) => {
    await t.open();
    const ok = once(t, 'data');
    await t.write(Buffer.from('GO\n'));
    assert.equal(String((await ok)[0]), 'OK\n');
  };
  try {
    const t = new TcpTransport({ host: '127.0.0.1', port });
    await plainThenUpgrade(t);
    assert.equal(t.isTls, false);
    await t.upgradeTls({ servername: 'localhost', ca: tlsCert.cert });
    assert.equal(t.isTls, true);
    assert.equal(t.isOpen, true);
    const got = once(t, 'data');
    await t.write(Buffer.from('VER\n'));
    assert.equal(String((await got)[0]), 'tls:VER\n');
    const closed = once(t, 'close');
    sockets[0]!.destroy();
    await closed;
    assert.equal(t.isOpen, false);

    // Not trusted (no ca): non-retryable, the reason named, the connection gone.
    const u = new TcpTransport({ host: '127.0.0.1', port });
    await plainThenUpgrade(u);
    await assert.rejects(u.upgradeTls({ servername: 'localhost' }), (err: unknown) => {
      assert.ok(err instanceof TransportError, String(err));
      assert.equal(err.retryable, false);
      assert.match(err.message, /certificate rejected \(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
      return true;
    });
    assert.equal(u.isOpen, false);

    // Trusted, but the wrong name: also a certificate problem.
    const v = new TcpTransport({ host: '127.0.0.1', port });
    await plainThenUpgrade(v);
    await assert.rejects(v.upgradeTls({ servername: 'ups.example', ca: tlsCert.cert }), (err: unknown) => err instanceof TransportError && !err.retryable && /ERR_TLS_CERT_ALTNAME_INVALID/.test(err.message));
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
    tlsCert.cleanup();
  }
});
