import { EventEmitter } from 'node:events';
import { TransportError } from '../core/errors.js';
import type { Transport } from './transport.js';

/**
 * An in-memory byte link: what the host writes, the device end receives, and back.
 * Used by the demo (a simulator on the device end) and by unit tests.
 */
export class SimEndpoint extends EventEmitter implements Transport {
  peer!: SimEndpoint;
  private opened = false;
  /**
   * What this end wrote, for tests that check requests: kept only after keepWrites() (the
   * last `max`), since a demo worker's links run for months and kept every write.
   */
  readonly written: Buffer[] = [];
  private keep = 0;

  constructor(readonly key: string) {
    super();
  }

  /** Keep this end's last `max` writes in `written` (tests). */
  keepWrites(max = 1000): this {
    this.keep = max;
    return this;
  }

  /** Note a write in `written` when a test asked for it. */
  protected noteWrite(chunk: Buffer): void {
    if (this.keep === 0) return;
    this.written.push(chunk);
    if (this.written.length > this.keep) this.written.shift();
  }

  get isOpen(): boolean {
    return this.opened;
  }

  async open(): Promise<void> {
    this.opened = true;
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    this.opened = false;
    this.emit('close');
  }

  async write(data: Uint8Array): Promise<void> {
    if (!this.opened) throw new TransportError(`${this.key}: write on a closed link`, true);
    const chunk = Buffer.from(data);
    this.noteWrite(chunk);
    // Deliver asynchronously, as a real port would.
    setImmediate(() => this.peer.receive(chunk));
  }

  /** Push bytes to this end as if they came over the wire (from the peer). */
  receive(chunk: Buffer): void {
    if (this.opened) this.emit('data', chunk);
  }

  /**
   * Like a client opening another socket to the same server: a new pair whose device end is
   * announced to this link's device end as a 'connection' event when the new host end is
   * first opened (the simulator accepts it there). Closing the new host end also closes its
   * device end, so the simulator sees it go; like a socket, it is not reopened afterwards.
   */
  newConnection(): SimEndpoint {
    this.connections++;
    const pair = createSimLink(`${this.key}+${this.connections}`);
    const server = this.peer;
    const open = pair.host.open.bind(pair.host);
    let announced = false;
    pair.host.open = async () => {
      await open();
      if (announced) return;
      announced = true;
      server.emit('connection', pair.device);
    };
    pair.host.on('close', () => void pair.device.close());
    return pair.host;
  }

  private connections = 0;

  /** The link drops as if unplugged: both ends see 'close'. */
  unplug(): void {
    for (const end of [this, this.peer]) {
      if (end.opened) {
        end.opened = false;
        end.emit('close', new TransportError(`${end.key}: link lost`, true));
      }
    }
  }
}

/** A connected pair: `host` for the driver, `device` for the simulator. */
export function createSimLink(key: string): { host: SimEndpoint; device: SimEndpoint } {
  const host = new SimEndpoint(key);
  const device = new SimEndpoint(`${key}#device`);
  host.peer = device;
  device.peer = host;
  return { host, device };
}
