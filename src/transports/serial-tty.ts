/**
 * The lean serial link for Linux ttys.
 *
 * serialport's native binding opens the port (O_RDWR|O_NOCTTY|O_NONBLOCK, exclusive lock)
 * and sets termios once; from then on the bytes move through Node's own tty stream on that
 * descriptor: libuv reads it in the event loop when epoll says it is readable and writes go
 * straight to the kernel. serialport's stream instead runs every read and write (and the
 * drain after each write) through its poller and a libuv-pool round trip, which cost
 * 1.0–1.75 ms of CPU in a ~2 ms Modbus poll (issue 24, poll-cpu bench).
 *
 * Differences from the serialport stream, all deliberate:
 * - write() resolves when the kernel has the bytes, not when they left the UART (no
 *   tcdrain): reply deadlines then start a frame's transmit time earlier (8 ms for a Modbus
 *   request at 9600 baud), which every driver's deadline (≥ 100s of ms) absorbs.
 * - On a PTY (the tests, socat, ser2net's local end) libuv reopens the slave by name, which
 *   drops the exclusive lock (flock) serialport took; a real tty keeps it.
 * - A hung-up PTY reads EIO instead of end-of-file forever: the link closes as lost.
 */
import { writeSync } from 'node:fs';
import type { OnReadOpts, SocketConstructorOpts } from 'node:net';
import { isatty, ReadStream } from 'node:tty';
import type { SerialLink, SerialLinkEvents, SerialLinkOptions } from './serial-link.js';

/** A tty's line discipline holds 4 KiB: a longer burst is read in several turns. */
const TTY_READ_BUFFER = 4096;

/**
 * Opens `path` as a tty link, or resolves undefined when this platform or port needs the
 * serialport stream (nothing is left open then). Open errors reject as serialport's do.
 */
export async function openTtyLink(options: SerialLinkOptions, events: SerialLinkEvents): Promise<SerialLink | undefined> {
  if (process.platform !== 'linux') return undefined;
  const { LinuxBinding } = await import('@serialport/bindings-cpp');
  const { path, baudRate, dataBits, parity, stopBits } = options;
  const binding = await LinuxBinding.open({ path, baudRate, dataBits, parity, stopBits });
  const fd = binding.fd;
  if (fd === null || !isatty(fd)) {
    await binding.close().catch(() => undefined);
    return undefined;
  }
  // The binding's poller was never started; free it, and leave the descriptor to the stream.
  binding.poller.destroy();
  binding.fd = null;
  let stream: ReadStream;
  try {
    // libuv reads into one buffer kept for the link (net.Socket's `onread`), and each read is
    // handed on as a copy of what came (a consumer may keep it): no 64 KiB allocation per
    // read, no Readable push, 'data' or nextTick per reply (issue 24: a poll's reply side).
    const onread: OnReadOpts = {
      buffer: Buffer.allocUnsafe(TTY_READ_BUFFER),
      callback: (nread, buffer) => {
        events.data(Buffer.from(buffer.subarray(0, nread)));
        return true; // keep reading
      },
    };
    // net.Socket takes `onread` (Node >= 12.2); @types/node lists it for connect() only.
    stream = new ReadStream(fd, { onread } as SocketConstructorOpts);
  } catch (err) {
    // Not a tty libuv can take after all: close the descriptor through the native binding.
    const { LinuxPortBinding } = await import('@serialport/bindings-cpp');
    await new LinuxPortBinding(fd, binding.openOptions).close().catch(() => undefined);
    throw err;
  }
  return new TtyLink(stream, fd, events);
}

class TtyLink implements SerialLink {
  readonly kind = 'tty' as const;
  /** close() was called. */
  private closing = false;
  /** Why the link was lost, if it was. */
  private lost: Error | undefined;
  private readonly gone: Promise<void>;

  constructor(
    private readonly stream: ReadStream,
    /** The descriptor the stream owns (libuv may reopen a PTY slave, but onto this number). */
    private readonly fd: number,
    events: SerialLinkEvents,
  ) {
    // Reads go to the `onread` callback; resume() starts them (there is no 'data' listener).
    stream.resume();
    stream.on('error', (err: Error) => {
      if (this.closing && !this.lost) return; // errors of our own close go nowhere
      this.lost ??= err;
      // EIO is how a tty says its other side hung up: a loss, which 'closed' reports.
      if ((err as NodeJS.ErrnoException).code !== 'EIO') events.error(err);
    });
    this.gone = new Promise<void>((resolve) => {
      stream.on('close', () => {
        const why = this.lost ?? (this.closing ? undefined : new Error('end of file'));
        this.closing = true;
        resolve();
        events.closed(why);
      });
    });
  }

  write(data: Buffer): Promise<void> {
    if (this.closing || this.stream.destroyed) return Promise.reject(new Error('write on a closed port'));
    // A request fits the tty's output buffer: one write(2) here skips the stream machinery.
    // A full buffer (EAGAIN) or a short write hands the rest to the stream, which waits.
    let done = 0;
    try {
      done = writeSync(this.fd, data);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return Promise.reject(err as Error);
    }
    if (done === data.length) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.stream.write(data.subarray(done), (err?: Error | null) => (err ? reject(err) : resolve()));
    });
  }

  close(why?: Error): Promise<void> {
    if (why && !this.closing) this.lost ??= why;
    this.closing = true;
    this.stream.destroy();
    return this.gone;
  }
}
