import type { EventEmitter } from 'node:events';

/**
 * A byte link to one device or bus. It moves bytes and knows no device.
 *
 * Events: 'data' (Buffer chunk), 'close' (link went away; `open()` may be called
 * again), 'error' (Error). Implementations: serial (serialport), sim (in memory).
 */
export interface Transport extends EventEmitter {
  /**
   * Identity of the physical port or bus, e.g. `serial:/dev/ttyUSB0`.
   * Jobs whose transports share a key are run one at a time.
   */
  readonly key: string;
  readonly isOpen: boolean;
  open(): Promise<void>;
  close(): Promise<void>;
  write(data: Uint8Array): Promise<void>;
  /**
   * Only on links that can carry TLS (TcpTransport): wraps the open connection in TLS
   * (STARTTLS-style protocols), after which 'data' and write() carry the plaintext.
   */
  upgradeTls?(options: TlsUpgradeOptions): Promise<void>;
  /**
   * Only on links that are connections to an address (TCP, and sim links standing in for
   * one): another, independent connection to the same place, not yet opened. For protocols
   * that hold several sockets at once (pigpiod: one for commands, one for notifications).
   */
  newConnection?(): Transport;
  /**
   * 'mbap' only on a link to a Modbus TCP server (`modbus+tcp://`): requests and replies carry
   * the MBAP header (transaction id, length, unit) instead of RTU's address and CRC. A framing
   * fact about the wire, like a baud rate: the Modbus driver picks its port by it.
   */
  readonly framing?: 'mbap';
}

/** Client-side TLS settings for an in-place upgrade of an open link. */
export interface TlsUpgradeOptions {
  /** Name the certificate must carry (SNI too); default the host connected to, unless that is an IP address. */
  servername?: string;
  /** Trusted CA certificate(s), PEM; default Node's bundled CAs. */
  ca?: string | Buffer;
  /** Verify the server's certificate (default true). */
  rejectUnauthorized?: boolean;
  /** Client certificate and key, PEM. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Longest wait for the handshake, in ms (default 5000). */
  timeoutMs?: number;
}

/** A link to a network address (port.path URLs, network drivers): its key is `tcp:host:port`. */
export function isNetworkLink(transport: Pick<Transport, 'key'>): boolean {
  return transport.key.startsWith('tcp:');
}
