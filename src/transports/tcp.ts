import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { TransportError, errorMessage } from '../core/errors.js';
import type { Transport } from './transport.js';

export interface TcpTransportOptions {
  host: string;
  port: number;
  /** Longest wait for the connection, in ms. */
  connectTimeoutMs?: number;
}

/**
 * A TCP byte link (NUT's upsd, the pigpio daemon). Like SerialTransport it moves bytes and
 * knows no device; each open() makes a fresh socket, and reconnecting is the session's policy.
 */
export class TcpTransport extends EventEmitter implements Transport {
  readonly key: string;
  private socket: Socket | undefined;

  constructor(readonly options: TcpTransportOptions) {
    super();
    this.key = `tcp:${options.host}:${options.port}`;
  }

  get isOpen(): boolean {
    return this.socket !== undefined && !this.socket.destroyed && this.socket.readyState === 'open';
  }

  open(): Promise<void> {
    if (this.isOpen) return Promise.resolve();
    const { host, port, connectTimeoutMs = 5000 } = this.options;
    return new Promise<void>((resolve, reject) => {
      const socket = connect({ host, port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => socket.destroy(new Error(`no answer in ${connectTimeoutMs} ms`)), connectTimeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(new TransportError(`${host}:${port}: cannot connect: ${errorMessage(err)}`, true, { cause: err }));
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        this.attach(socket);
        resolve();
      });
    });
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.emit('data', chunk));
    socket.on('error', (err: Error) => {
      // An emitter with no 'error' listener throws; the 'close' that follows tells the session.
      if (this.listenerCount('error') > 0) this.emit('error', new TransportError(`${this.key}: ${errorMessage(err)}`, true, { cause: err }));
    });
    socket.once('close', () => {
      if (this.socket === socket) this.socket = undefined;
      this.emit('close', new TransportError(`${this.key}: connection closed`, true));
    });
  }

  async close(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  }

  write(data: Uint8Array): Promise<void> {
    const socket = this.socket;
    if (!socket || !this.isOpen) return Promise.reject(new TransportError(`${this.key}: write on a closed connection`, true));
    return new Promise<void>((resolve, reject) => {
      socket.write(data, (err) => (err ? reject(new TransportError(`${this.key}: ${errorMessage(err)}`, true, { cause: err })) : resolve()));
    });
  }
}
