/**
 * A serial port on the far side of a telnet connection with RFC 2217 COM-port control (ser2net's
 * `telnet(rfc2217)` accepter, many RS-485/Ethernet gateways). On open it negotiates binary
 * transmission both ways and the COM-PORT-OPTION, then sends the device's serial settings
 * (SET-BAUDRATE, SET-DATASIZE, SET-PARITY, SET-STOPSIZE, SET-CONTROL: no flow control) and waits
 * for the remote end to confirm each. Afterwards it moves bytes like any link: 0xFF is doubled
 * on the wire (telnet's IAC), and telnet commands and notifications are taken out of what it
 * hands on. RFC 854 (telnet), RFC 856 (binary), RFC 858 (suppress go-ahead), RFC 2217.
 */
import { EventEmitter } from 'node:events';
import { TransportError } from '../core/errors.js';
import type { SerialSettings } from './serial-settings.js';
import { TcpTransport, type TcpTransportOptions } from './tcp.js';
import type { Transport } from './transport.js';

const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const SE = 240;
const BINARY = 0;
const SGA = 3;
const COM_PORT_OPTION = 44;
/** Client → server subcommands; the server answers each with the code + 100 (RFC 2217). */
const SET_BAUDRATE = 1;
const SET_DATASIZE = 2;
const SET_PARITY = 3;
const SET_STOPSIZE = 4;
const SET_CONTROL = 5;
const ACKS = [SET_BAUDRATE, SET_DATASIZE, SET_PARITY, SET_STOPSIZE].map((c) => c + 100);
const PARITY = { none: 1, odd: 2, even: 3 } as const;
const NO_FLOW_CONTROL = 1;
/** Options we do: binary both ways, no go-aheads, COM-port control. Anything else is refused. */
const OURS = new Set([BINARY, SGA, COM_PORT_OPTION]);
/** A subnegotiation longer than this is not a COM-port answer: dropped. */
const MAX_SB = 64;

const enum State {
  Data,
  Iac,
  Option,
  Sb,
  SbIac,
}

/** The settings' subnegotiations: `IAC SB 44 <code> <value…> IAC SE`, value bytes IAC-doubled. */
export function settingsCommands(s: SerialSettings): Buffer {
  const baud = Buffer.alloc(4);
  baud.writeUInt32BE(s.baudRate);
  const sb = (code: number, value: Buffer) => Buffer.concat([Buffer.from([IAC, SB, COM_PORT_OPTION, code]), escapeIac(value), Buffer.from([IAC, SE])]);
  return Buffer.concat([
    sb(SET_BAUDRATE, baud),
    sb(SET_DATASIZE, Buffer.from([s.dataBits])),
    sb(SET_PARITY, Buffer.from([PARITY[s.parity]])),
    sb(SET_STOPSIZE, Buffer.from([s.stopBits])),
    sb(SET_CONTROL, Buffer.from([NO_FLOW_CONTROL])),
  ]);
}

/** Data as telnet carries it: every 0xFF doubled. */
export function escapeIac(data: Uint8Array): Buffer {
  let n = 0;
  for (const b of data) if (b === IAC) n++;
  if (n === 0) return Buffer.from(data);
  const out = Buffer.alloc(data.length + n);
  let j = 0;
  for (const b of data) {
    out[j++] = b;
    if (b === IAC) out[j++] = IAC;
  }
  return out;
}

export interface TelnetEvents {
  /** Option negotiation from the server: verb (WILL/WONT/DO/DONT) and option. */
  option(verb: number, option: number): void;
  /** A finished subnegotiation's body (after IAC SB, without IAC SE, IAC IAC undone). */
  subnegotiation(body: Buffer): void;
}

/** Telnet's receive side: data out, commands to `events`; keeps its state across chunks. */
export class TelnetReader {
  private state = State.Data;
  private verb = 0;
  private sb: number[] = [];

  constructor(private readonly events: TelnetEvents) {}

  /** The data bytes of a chunk (possibly none). */
  read(chunk: Buffer): Buffer {
    const out = Buffer.allocUnsafe(chunk.length);
    let n = 0;
    for (const b of chunk) {
      switch (this.state) {
        case State.Data:
          if (b === IAC) this.state = State.Iac;
          else out[n++] = b;
          break;
        case State.Iac:
          if (b === IAC) {
            out[n++] = IAC;
            this.state = State.Data;
          } else if (b === WILL || b === WONT || b === DO || b === DONT) {
            this.verb = b;
            this.state = State.Option;
          } else if (b === SB) {
            this.sb = [];
            this.state = State.Sb;
          } else this.state = State.Data; // NOP, GA, … carry nothing for a serial link
          break;
        case State.Option:
          this.events.option(this.verb, b);
          this.state = State.Data;
          break;
        case State.Sb:
          if (b === IAC) this.state = State.SbIac;
          else if (this.sb.length < MAX_SB) this.sb.push(b);
          break;
        case State.SbIac:
          if (b === SE) {
            this.events.subnegotiation(Buffer.from(this.sb));
            this.state = State.Data;
          } else {
            if (b === IAC && this.sb.length < MAX_SB) this.sb.push(IAC);
            this.state = State.Sb;
          }
          break;
      }
    }
    return out.subarray(0, n);
  }
}

export interface Rfc2217Options extends TcpTransportOptions {
  serial: SerialSettings;
  /** Longest wait for the remote end to confirm the settings, in ms. */
  negotiationTimeoutMs?: number;
}

export class Rfc2217Transport extends EventEmitter implements Transport {
  readonly key: string;
  private readonly tcp: TcpTransport;
  private reader = this.newReader();
  private acked = new Set<number>();
  private refused: string | undefined;
  private onAck: (() => void) | undefined;

  constructor(readonly options: Rfc2217Options) {
    super();
    this.tcp = new TcpTransport(options);
    // The same key as a raw connection to that address: one owner per remote port.
    this.key = this.tcp.key;
    this.tcp.on('data', (chunk: Buffer) => {
      const data = this.reader.read(chunk);
      if (data.length > 0) this.emit('data', data);
    });
    this.tcp.on('close', (err: unknown) => this.emit('close', err));
    this.tcp.on('error', (err: unknown) => {
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
  }

  get isOpen(): boolean {
    return this.tcp.isOpen;
  }

  private newReader(): TelnetReader {
    return new TelnetReader({
      option: (verb, option) => this.answer(verb, option),
      subnegotiation: (body) => {
        if (body[0] !== COM_PORT_OPTION || body.length < 2) return;
        // Answers to our settings; line and modem state notifications (106, 107) carry nothing we use.
        if (ACKS.includes(body[1]!)) {
          this.acked.add(body[1]!);
          this.onAck?.();
        }
      },
    });
  }

  /** Refuse every option but ours; a server that refuses COM-port control cannot set the port. */
  private answer(verb: number, option: number): void {
    if (option === COM_PORT_OPTION && (verb === DONT || verb === WONT)) {
      this.refused = `${this.key}: the remote end refuses RFC 2217 COM-port control (is it a telnet(rfc2217) port?)`;
      this.onAck?.();
      return;
    }
    if (OURS.has(option)) return; // we offered and asked for these already
    if (verb === DO) void this.tcp.write(Buffer.from([IAC, WONT, option])).catch(() => {});
    else if (verb === WILL) void this.tcp.write(Buffer.from([IAC, DONT, option])).catch(() => {});
  }

  async open(): Promise<void> {
    if (this.isOpen) return;
    this.reader = this.newReader();
    this.acked = new Set();
    this.refused = undefined;
    await this.tcp.open();
    const timeoutMs = this.options.negotiationTimeoutMs ?? 5000;
    try {
      await this.tcp.write(Buffer.concat([Buffer.from([IAC, WILL, BINARY, IAC, DO, BINARY, IAC, WILL, SGA, IAC, DO, SGA, IAC, WILL, COM_PORT_OPTION]), settingsCommands(this.options.serial)]));
      await new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          clearTimeout(timer);
          this.onAck = undefined;
          if (err) reject(err);
          else resolve();
        };
        const timer = setTimeout(() => {
          const missing = ACKS.filter((a) => !this.acked.has(a)).map((a) => a - 100);
          done(new TransportError(`${this.key}: no RFC 2217 answer to the serial settings (subcommands ${missing.join(', ')}) in ${timeoutMs} ms`, true));
        }, timeoutMs);
        this.onAck = () => {
          if (this.refused) done(new TransportError(this.refused, false));
          else if (ACKS.every((a) => this.acked.has(a))) done();
        };
        this.onAck();
      });
    } catch (err) {
      await this.tcp.close();
      throw err;
    }
  }

  close(): Promise<void> {
    return this.tcp.close();
  }

  write(data: Uint8Array): Promise<void> {
    return this.tcp.write(escapeIac(data));
  }
}
