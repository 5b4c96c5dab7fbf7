/**
 * A P1 smart meter on the other end of a link: it pushes recorded telegrams at the meter's
 * cadence, onto a Transport's device end (the in-memory sim link of the demo) or into a PTY
 * path (socat, for the integration tests). It can vary the values (the demo) and act out
 * failures on demand: a bad CRC, line noise, a cut-off telegram, an oversize one,
 * a telegram split into random chunks.
 *
 * It shares nothing with the driver (a simulator never imports src/devices/: docs/adding-a-driver.md): its
 * telegrams are recordings (dsmr-p1-recordings.ts) and when it changes a value it recomputes
 * the CRC with its own bit-by-bit CRC-16/ARC (docs/protocols/dsmr-p1.md §5.3).
 */
import { constants, promises as fsp } from 'node:fs';
import { zoneOffsetMs } from '../core/zone.js';
import type { Transport } from '../transports/transport.js';
import { P1_RECORDINGS } from './dsmr-p1-recordings.js';

export type P1Fault = 'bad-crc' | 'garbage' | 'truncated' | 'oversize' | 'split';

/** Where the meter's bytes go. */
export interface P1Sink {
  write(bytes: Buffer): Promise<void>;
  close(): Promise<void>;
}

export interface P1SimulatorOptions {
  /** Time between telegrams, ms (real meters: 1 s for DSMR 5, 10 s for DSMR 4 and the T211). */
  intervalMs?: number;
  /** Telegrams to play in turn (default: every recording). */
  telegrams?: readonly string[];
  /** Vary power, voltage and current, advance the energy registers and the clock (demo). */
  vary?: boolean;
  /** Zone for the varied 0-0:1.0.0 timestamp. */
  timezone?: string;
  now?: () => number;
  random?: () => number;
}

/** Bit-by-bit CRC-16/ARC (poly 0xA001 reflected, init 0): deliberately not the driver's table. */
export function simCrc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** Replaces the telegram's trailer with a freshly computed CRC (4 hex digits). */
export function withCrc(telegram: string): string {
  const bang = telegram.lastIndexOf('!');
  const body = telegram.slice(0, bang + 1);
  const crc = simCrc16(Buffer.from(body, 'latin1'));
  return body + crc.toString(16).toUpperCase().padStart(4, '0') + '\r\n';
}

export function transportSink(t: Transport): P1Sink {
  return {
    write: async (bytes) => {
      if (!t.isOpen) await t.open();
      await t.write(bytes);
    },
    close: () => t.close(),
  };
}

/**
 * Writes into a path (a PTY end made by socat). Opened lazily without O_CREAT, so a
 * missing link is an error instead of a new regular file; after a failed write the next
 * write opens the path again (the PTY may have been recreated).
 */
export function pathSink(path: string): P1Sink {
  let handle: fsp.FileHandle | undefined;
  return {
    write: async (bytes) => {
      handle ??= await fsp.open(path, constants.O_WRONLY | constants.O_NOCTTY);
      try {
        await handle.write(bytes);
      } catch (err) {
        const h = handle;
        handle = undefined;
        await h.close().catch(() => undefined);
        throw err;
      }
    },
    close: async () => {
      const h = handle;
      handle = undefined;
      await h?.close().catch(() => undefined);
    },
  };
}

export class P1Simulator {
  private readonly intervalMs: number;
  private readonly telegrams: readonly string[];
  private readonly random: () => number;
  private readonly now: () => number;
  private next = 0;
  private faults: P1Fault[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();
  /** Energy registers advanced by the varied power, per OBIS code (kWh). */
  private readonly added = new Map<string, number>();
  private lastImportKw = 0;
  /** Telegrams written, and write failures (the link was gone). */
  sent = 0;
  failures = 0;

  constructor(
    private readonly sink: P1Sink,
    private readonly options: P1SimulatorOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.telegrams = options.telegrams ?? Object.values(P1_RECORDINGS);
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref?.();
    void this.tick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sending;
    await this.sink.close();
  }

  /** The next telegram(s) will act out these failures, one per telegram. */
  inject(...faults: P1Fault[]): void {
    this.faults.push(...faults);
  }

  /** Sends one telegram now (with the next queued fault, if any); never throws. */
  tick(): Promise<void> {
    this.sending = this.sending.then(() => this.sendOne()).catch(() => undefined);
    return this.sending;
  }

  /** The next telegram as the meter would send it (varied when asked). */
  nextTelegram(): string {
    const t = this.telegrams[this.next++ % this.telegrams.length];
    return this.options.vary ? this.vary(t) : t;
  }

  private async sendOne(): Promise<void> {
    const fault = this.faults.shift();
    const telegram = this.nextTelegram();
    const bytes = Buffer.from(telegram, 'latin1');
    try {
      switch (fault) {
        case undefined:
          await this.sink.write(bytes);
          break;
        case 'bad-crc': {
          // Line noise in a value: the CRC no longer matches.
          const broken = Buffer.from(bytes);
          const at = broken.indexOf('(') + 1;
          broken[at] = broken[at] === 0x39 ? 0x38 : broken[at] + 1;
          await this.sink.write(broken);
          break;
        }
        case 'garbage':
          await this.sink.write(this.noise(48));
          await this.sink.write(bytes);
          break;
        case 'truncated':
          await this.sink.write(bytes.subarray(0, bytes.length >> 1));
          await this.sink.write(Buffer.from(this.nextTelegram(), 'latin1'));
          break;
        case 'oversize':
          await this.sink.write(Buffer.from(this.oversize(telegram), 'latin1'));
          break;
        case 'split':
          for (let i = 0; i < bytes.length;) {
            const n = 1 + Math.floor(this.random() * 64);
            await this.sink.write(bytes.subarray(i, i + n));
            await new Promise((r) => setImmediate(r));
            i += n;
          }
          break;
      }
      this.sent++;
    } catch {
      this.failures++; // the link is gone; the next tick tries again
    }
  }

  /** Printable noise without '/' (which would start a telegram). */
  private noise(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      const c = 0x20 + Math.floor(this.random() * 95);
      b[i] = c === 0x2f ? 0x2e : c;
    }
    return b;
  }

  /** A valid telegram over 8 KiB: a long (hex) text message, CRC recomputed. */
  private oversize(telegram: string): string {
    const bang = telegram.lastIndexOf('!');
    const text = '0-0:96.13.0(' + '41'.repeat(4500) + ')\r\n';
    return withCrc(telegram.slice(0, bang) + text + '!');
  }

  private vary(telegram: string): string {
    const dtHours = this.intervalMs / 3_600_000;
    const lines = telegram.split('\r\n').map((line) => {
      if (line.startsWith('0-0:1.0.0(')) return `0-0:1.0.0(${p1Time(this.now(), this.options.timezone ?? 'Europe/Amsterdam')})`;
      const m = /^(\d+-\d+:\d+\.\d+\.\d+)\((\d+)\.(\d+)\*(kW|kvar|V|A|kWh)\)$/.exec(line);
      if (!m) return line;
      const [, code, int, frac, unit] = m;
      const value = Number(`${int}.${frac}`);
      let next = value;
      if (unit === 'V') next = 230 + (this.random() - 0.5) * 8;
      else if (unit === 'kWh') {
        // The import register (total, or tariff 1) grows with the power last sent.
        if (code === '1-0:1.8.0' || code === '1-0:1.8.1') this.added.set(code, (this.added.get(code) ?? 0) + this.lastImportKw * dtHours);
        next = value + (this.added.get(code) ?? 0);
      } else if (value > 0) {
        next = value * (0.6 + this.random() * 0.8);
        if (code === '1-0:1.7.0') this.lastImportKw = next;
      }
      return `${code}(${fixed(next, int.length, frac.length)}*${unit})`;
    });
    return withCrc(lines.join('\r\n'));
  }
}

/** A number in the recording's own width: `0001.727` stays 4.3 digits. */
function fixed(v: number, intDigits: number, fracDigits: number): string {
  const s = Math.max(0, v).toFixed(fracDigits);
  const [i, f] = s.split('.');
  const padded = i.padStart(intDigits, '0');
  return f === undefined ? padded : `${padded}.${f}`;
}

/** `YYMMDDhhmmssX` in a zone, X = S when the zone is ahead of its January offset (DST). */
function p1Time(ms: number, zone: string): string {
  const offset = zoneOffsetMs(zone, ms);
  const wall = new Date(Math.floor(ms / 1000) * 1000 + offset);
  const jan = Date.UTC(new Date(ms).getUTCFullYear(), 0, 15);
  const two = (n: number) => String(n).padStart(2, '0');
  const dst = offset > zoneOffsetMs(zone, jan);
  return `${two(wall.getUTCFullYear() % 100)}${two(wall.getUTCMonth() + 1)}${two(wall.getUTCDate())}${two(wall.getUTCHours())}${two(wall.getUTCMinutes())}${two(wall.getUTCSeconds())}${dst ? 'S' : 'W'}`;
}

/** For the worker's demo: a DSMR 5 meter with a gas meter on the sim link's device end, one varied telegram a second. */
export function startDsmrP1Simulator(device: Transport, options: P1SimulatorOptions = {}): { stop(): void; simulator: P1Simulator } {
  const simulator = new P1Simulator(transportSink(device), { vary: true, telegrams: [P1_RECORDINGS.DSMR5_NL], ...options });
  void device.open().then(() => simulator.start());
  return { simulator, stop: () => void simulator.stop() };
}
