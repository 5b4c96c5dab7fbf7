/**
 * SerialTransport's two links over a real socat PTY pair: the tty link (Linux: termios set
 * through serialport's binding, bytes through Node's tty stream) on one end, serialport's
 * stream on the other. The bytes each side writes arrive unchanged on the other, a write
 * larger than the tty buffers goes out whole, a hang-up is seen by the tty link itself (no
 * presence check), and the same path opens again once it is back.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransportError } from '../../src/core/errors.js';
import { SerialTransport } from '../../src/transports/serial.js';
import { startPtyPair, type PtyPair } from '../helpers/pty.js';

const LINE = { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 } as const;
let dir: string;
let pair: PtyPair | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wattline-serial-links-'));
  pair = await startPtyPair(dir);
});

after(async () => {
  await pair?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Resolves with the first `n` bytes `t` emits. */
function receive(t: SerialTransport, n: number, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => reject(new Error(`only ${got} of ${n} bytes arrived`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      got += chunk.length;
      if (got < n) return;
      clearTimeout(timer);
      t.off('data', onData);
      resolve(Buffer.concat(chunks).subarray(0, n));
    };
    t.on('data', onData);
  });
}

/** Every byte value, then a pattern: `n` bytes. */
function pattern(n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => (i < 256 ? i : (i * 7 + 3) & 0xff)));
}

test('tty link and serialport stream: every byte value crosses both ways, a 64 KiB write arrives whole', async () => {
  const lean = new SerialTransport({ path: pair!.b, presenceCheckMs: 0, ...LINE });
  const classic = new SerialTransport({ path: pair!.a, presenceCheckMs: 0, link: 'serialport', ...LINE });
  await lean.open();
  await classic.open();
  try {
    assert.equal(lean.linkKind, process.platform === 'linux' ? 'tty' : 'serialport');
    assert.equal(classic.linkKind, 'serialport');
    const request = Buffer.from([0x01, 0x03, 0x00, 0x08, 0x00, 0x10, 0xc5, 0xc4]);
    const got = receive(classic, request.length);
    await lean.write(request);
    assert.deepEqual(await got, request);
    const reply = pattern(300);
    const back = receive(lean, reply.length);
    await classic.write(reply);
    assert.deepEqual(await back, reply);
    // More than a PTY buffers: the first write(2) is short or refused, the stream sends the rest.
    const big = pattern(64 * 1024);
    const bigBack = receive(classic, big.length);
    await lean.write(big);
    assert.deepEqual(await bigBack, big);
  } finally {
    await lean.close();
    await classic.close();
  }
  assert.equal(lean.isOpen, false);
  await assert.rejects(lean.write(Buffer.from('x')), TransportError);
});

test('tty link: the other side hangs up, the link closes as lost without a presence check, and opens again once the port is back', async () => {
  const lean = new SerialTransport({ path: pair!.b, presenceCheckMs: 0, ...LINE });
  await lean.open();
  const closed = new Promise<unknown>((resolve) => lean.once('close', resolve));
  await pair!.stop();
  pair = undefined;
  const why = await closed;
  if (process.platform === 'linux') {
    assert.ok(why instanceof TransportError && why.retryable && why.message.includes('disconnected'), String(why));
  }
  assert.equal(lean.isOpen, false);
  await assert.rejects(lean.open(), (e: unknown) => e instanceof TransportError && e.retryable && e.message.includes('no such serial port'));
  pair = await startPtyPair(dir);
  await lean.open();
  const other = new SerialTransport({ path: pair.a, presenceCheckMs: 0, ...LINE });
  await other.open();
  try {
    const got = receive(other, 3);
    await lean.write(Buffer.from('abc'));
    assert.equal((await got).toString(), 'abc');
  } finally {
    await lean.close();
    await other.close();
  }
});

test('settings a port cannot take are refused before opening, as not worth retrying', async () => {
  const t = new SerialTransport({ path: pair!.b, ...LINE, dataBits: 9 as 8 });
  await assert.rejects(t.open(), (e: unknown) => e instanceof TransportError && !e.retryable && /dataBits 9/.test(e.message));
  assert.equal(t.isOpen, false);
});
