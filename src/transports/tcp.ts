import { EventEmitter } from 'node:events';
import { connect, isIP, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Backoff } from '../core/backoff.js';
import { TransportError, errorMessage } from '../core/errors.js';
import type { TlsUpgradeOptions, Transport } from './transport.js';

/** OpenSSL/Node error codes that mean "the certificate is not acceptable": retrying cannot help. */
const CERT_ERROR_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

export interface TcpTransportOptions {
  host: string;
  port: number;
  /** Longest wait for the connection, in ms. */
  connectTimeoutMs?: number;
  /**
   * TCP keepalive probes after this long idle, in ms (default 10 s): a peer that vanished
   * without a FIN (a gateway rebooted) is found even on a link that only listens (P1).
   */
  keepAliveMs?: number;
  /** 'mbap': the far end is a Modbus TCP server (see Transport.framing). */
  framing?: 'mbap';
  /**
   * Back-off between failed connects (device links from `port.path` URLs): after a failure,
   * open() within the jittered delay fails at once without touching the network, so a dead
   * gateway is not hammered by every poll, nor by many devices in step.
   */
  retry?: { minMs: number; maxMs: number };
}

/**
 * A TCP byte link (NUT's upsd, the pigpio daemon). Like SerialTransport it moves bytes and
 * knows no device; each open() makes a fresh socket, and reconnecting is the session's policy.
 */
export class TcpTransport extends EventEmitter implements Transport {
  readonly key: string;
  private socket: Socket | undefined;
  /** Detaches the listeners attach() put on the current socket. */
  private detach: (() => void) | undefined;

  readonly framing: 'mbap' | undefined;
  private readonly backoff: Backoff | undefined;
  /** After a failed connect (with `retry`): no new attempt before this time, and why. */
  private retryAt: { ms: number; reason: string } | undefined;

  constructor(readonly options: TcpTransportOptions) {
    super();
    this.key = `tcp:${options.host}:${options.port}`;
    this.framing = options.framing;
    if (options.retry) this.backoff = new Backoff(options.retry.minMs, options.retry.maxMs, 0.5);
  }

  get isOpen(): boolean {
    return this.socket !== undefined && !this.socket.destroyed && this.socket.readyState === 'open';
  }

  open(): Promise<void> {
    if (this.isOpen) return Promise.resolve();
    const wait = this.retryAt ? this.retryAt.ms - Date.now() : 0;
    if (wait > 0) return Promise.reject(new TransportError(`${this.key}: ${this.retryAt!.reason}; next connect in ${(wait / 1000).toFixed(1)} s`, true));
    return this.connect().then(
      () => {
        this.backoff?.reset();
        this.retryAt = undefined;
      },
      (err: unknown) => {
        if (this.backoff) this.retryAt = { ms: Date.now() + this.backoff.next(), reason: errorMessage(err).replace(`${this.options.host}:${this.options.port}: `, '') };
        throw err;
      },
    );
  }

  private connect(): Promise<void> {
    const { host, port, connectTimeoutMs = 5000 } = this.options;
    return new Promise<void>((resolve, reject) => {
      const socket = connect({ host, port });
      socket.setNoDelay(true);
      socket.setKeepAlive(true, this.options.keepAliveMs ?? 10_000);
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

  /** True once upgradeTls() has succeeded on the current connection. */
  get isTls(): boolean {
    return this.socket !== undefined && 'encrypted' in this.socket && (this.socket as TLSSocket).encrypted === true;
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    const onData = (chunk: Buffer) => this.emit('data', chunk);
    const onError = (err: Error) => {
      // An emitter with no 'error' listener throws; the 'close' that follows tells the session.
      if (this.listenerCount('error') > 0) this.emit('error', new TransportError(`${this.key}: ${errorMessage(err)}`, true, { cause: err }));
    };
    const onClose = () => {
      if (this.socket === socket) this.socket = undefined;
      this.emit('close', new TransportError(`${this.key}: connection closed`, true));
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.once('close', onClose);
    this.detach = () => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
  }

  /**
   * STARTTLS: runs a TLS handshake on the open connection (the caller has already had the
   * peer agree, e.g. upsd's `OK STARTTLS`) and from then on moves bytes through TLS.
   * A certificate that is not trusted or does not match is a non-retryable TransportError
   * naming the reason; other handshake failures are retryable. Either way the connection is
   * closed, so plaintext never continues after a failed upgrade.
   */
  upgradeTls(options: TlsUpgradeOptions = {}): Promise<void> {
    const socket = this.socket;
    if (!socket || !this.isOpen) return Promise.reject(new TransportError(`${this.key}: TLS upgrade on a closed connection`, true));
    if (this.isTls) return Promise.reject(new TransportError(`${this.key}: connection is already TLS`, false));
    const { host } = this.options;
    const { timeoutMs = 5000, servername = isIP(host) ? undefined : host, ca, cert, key, rejectUnauthorized = true } = options;
    // node:tls (~2 MB resident with what it loads) only for a link that upgrades (issue 24).
    return import('node:tls').then(({ connect: tlsConnect }) => {
      // The plain socket's listeners go: from now on its bytes are TLS records, not data.
      this.detach?.();
      this.detach = undefined;
      // The certificate is checked against servername, or against host when that is unset.
      return this.handshake(socket, tlsConnect({ socket, host, servername, ca, cert, key, rejectUnauthorized }), timeoutMs);
    });
  }

  private handshake(socket: Socket, tls: TLSSocket, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        tls.off('error', finish);
        tls.off('close', onEarlyClose);
        if (!err) {
          this.attach(tls);
          resolve();
          return;
        }
        const code = (err as NodeJS.ErrnoException).code;
        const certProblem = code !== undefined && CERT_ERROR_CODES.has(code);
        const reason = certProblem ? `server certificate rejected (${code}): ${errorMessage(err)}` : `TLS handshake failed: ${errorMessage(err)}`;
        if (this.socket === socket) this.socket = undefined;
        tls.destroy();
        socket.destroy();
        reject(new TransportError(`${this.key}: ${reason}`, !certProblem, { cause: err }));
        this.emit('close', new TransportError(`${this.key}: connection closed after a failed TLS upgrade`, true));
      };
      const onEarlyClose = () => finish(new Error('connection closed during the TLS handshake'));
      const timer = setTimeout(() => finish(new Error(`no TLS handshake in ${timeoutMs} ms`)), timeoutMs);
      tls.once('secureConnect', () => finish());
      tls.once('error', finish);
      tls.once('close', onEarlyClose);
    });
  }

  /** A second TCP connection to the same host and port (opened by the caller). */
  newConnection(): TcpTransport {
    return new TcpTransport(this.options);
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
