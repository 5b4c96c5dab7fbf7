/**
 * HDHK 16-channel current meters on the device end of a link: a Modbus RTU slave answering
 * function 0x03 for several unit ids (docs/protocols/hdhk.md §2.2-§2.4), and acting out failures per
 * unit on demand: silence, an exception, a bad CRC, a truncated frame.
 *
 * It shares nothing with the driver (a simulator never imports src/devices/: docs/adding-a-driver.md): the
 * register layout is taken from the protocol table here, and the CRC is its own bit-by-bit
 * CRC-16/MODBUS (§2.4), not the driver's table (devices/hdhk/framer.ts).
 */
import type { Transport } from '../transports/transport.js';

export type HdhkFault = 'none' | 'silence' | 'exception' | 'bad-crc' | 'truncated';

export interface HdhkSimUnit {
  id: number;
  /** Register values from address 0 (56 registers, §2.3); missing ones read 0. */
  registers?: readonly number[];
  fault?: HdhkFault;
  /** Exception code for fault 'exception' (default 4, slave device failure). */
  exceptionCode?: number;
}

export interface HdhkSimulatorOptions {
  units: readonly HdhkSimUnit[];
  /** Demo: let the currents wander a little on every read. */
  vary?: boolean;
  random?: () => number;
}

export interface HdhkSimulator {
  stop(): void;
  setFault(unit: number, fault: HdhkFault, exceptionCode?: number): void;
  setRegister(unit: number, address: number, value: number): void;
  /** Requests seen, per unit id (answered or not). */
  readonly requests: Map<number, number>;
}

/** Registers in the map (§2.3: 0x0000-0x0037). */
export const HDHK_REGISTER_COUNT = 56;

/** Bit-by-bit CRC-16/MODBUS: poly 0xA001 reflected, init 0xFFFF, no final XOR (§2.4). */
export function modbusCrc(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** address + function + data, CRC appended low byte first (§2.4). */
export function withModbusCrc(body: Uint8Array): Buffer {
  const crc = modbusCrc(body);
  return Buffer.concat([Buffer.from(body), Buffer.from([crc & 0xff, crc >>> 8])]);
}

/**
 * A default unit as in the vendor screenshot (§2.4): firmware 628, ranges 40 A, 11.20 A on
 * channels a-h and 11.24 A on i-p, 50.0 Hz everywhere, CT ratio registers 1.
 */
export function vendorExampleRegisters(): number[] {
  const r = new Array<number>(HDHK_REGISTER_COUNT).fill(0);
  r[0] = 628;
  r[1] = 40;
  r[2] = 40;
  r[3] = 0x0001;
  r[6] = 5;
  r[7] = 30;
  for (let i = 0; i < 16; i++) {
    r[8 + i] = i < 8 ? 1120 : 1124;
    r[24 + i] = 500;
    r[40 + i] = 1;
  }
  return r;
}

interface UnitState {
  registers: number[];
  fault: HdhkFault;
  exceptionCode: number;
}

export function startHdhkSimulator(device: Transport, options: HdhkSimulatorOptions): HdhkSimulator {
  const units = new Map<number, UnitState>();
  for (const u of options.units) {
    const registers = new Array<number>(HDHK_REGISTER_COUNT).fill(0);
    (u.registers ?? vendorExampleRegisters()).forEach((v, i) => {
      if (i < HDHK_REGISTER_COUNT) registers[i] = v & 0xffff;
    });
    units.set(u.id, { registers, fault: u.fault ?? 'none', exceptionCode: u.exceptionCode ?? 4 });
  }
  const random = options.random ?? Math.random;
  const requests = new Map<number, number>();
  let buffer = Buffer.alloc(0);
  let stopped = false;

  const reply = (frame: Buffer) => {
    if (stopped || !device.isOpen) return;
    device.write(frame).catch(() => undefined);
  };

  const answer = (req: Buffer) => {
    const id = req[0]!;
    const fc = req[1]!;
    const unit = units.get(id);
    requests.set(id, (requests.get(id) ?? 0) + 1);
    if (!unit || unit.fault === 'silence') return; // an absent unit says nothing
    const exception = (code: number) => reply(withModbusCrc(Uint8Array.from([id, fc | 0x80, code])));
    if (unit.fault === 'exception') return exception(unit.exceptionCode);
    if (fc !== 0x03) return exception(0x01); // illegal function
    const start = req.readUInt16BE(2);
    const count = req.readUInt16BE(4);
    if (count < 1 || count > 125 || start + count > HDHK_REGISTER_COUNT) return exception(0x02); // illegal data address
    if (options.vary) {
      for (let i = 8; i < 24; i++) unit.registers[i] = Math.max(0, Math.min(0xffff, unit.registers[i]! + Math.round((random() - 0.5) * 20)));
    }
    const body = Buffer.alloc(3 + 2 * count);
    body[0] = id;
    body[1] = 0x03;
    body[2] = 2 * count;
    for (let i = 0; i < count; i++) body.writeUInt16BE(unit.registers[start + i]!, 3 + 2 * i);
    const frame = withModbusCrc(body);
    if (unit.fault === 'bad-crc') frame[frame.length - 1]! ^= 0xff;
    if (unit.fault === 'truncated') return reply(frame.subarray(0, Math.max(3, frame.length - 6)));
    reply(frame);
  };

  const onData = (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    // Requests this slave understands are 8 bytes (FC03/FC06); resync on a good CRC.
    while (buffer.length >= 8) {
      const candidate = buffer.subarray(0, 8);
      if (modbusCrc(candidate.subarray(0, 6)) === candidate.readUInt16LE(6)) {
        buffer = buffer.subarray(8);
        answer(Buffer.from(candidate));
      } else {
        buffer = buffer.subarray(1);
      }
    }
  };
  device.on('data', onData);
  const onError = () => undefined;
  device.on('error', onError);
  if (!device.isOpen) device.open().catch(() => undefined);

  return {
    stop() {
      stopped = true;
      device.off('data', onData);
    },
    setFault(id, fault, exceptionCode) {
      const u = units.get(id);
      if (!u) throw new Error(`simulator has no unit ${id}`);
      u.fault = fault;
      if (exceptionCode !== undefined) u.exceptionCode = exceptionCode;
    },
    setRegister(id, address, value) {
      const u = units.get(id);
      if (!u) throw new Error(`simulator has no unit ${id}`);
      u.registers[address] = value & 0xffff;
    },
    requests,
  };
}

/**
 * The demo: one simulated unit per configured unit id (the driver's parsed `options.units`;
 * two units, ids 1 and 2, when there are none), each with its own currents, wandering a little.
 */
export function startHdhkDemoSimulator(device: Transport, driverOptions: unknown): HdhkSimulator {
  const configured = (driverOptions as { units?: { id?: unknown }[] } | undefined)?.units;
  const ids = configured?.map((u) => u.id).filter((id): id is number => typeof id === 'number') ?? [];
  const units = (ids.length > 0 ? ids : [1, 2]).map((id, n) => {
    const registers = vendorExampleRegisters();
    for (let i = 0; i < 16; i++) registers[8 + i] = 150 + (((n * 16 + i) * 137) % 1500); // 1.5-16.5 A
    return { id, registers };
  });
  return startHdhkSimulator(device, { units, vary: true });
}

export { HDHK_DEMO_OPTIONS } from './demo-options.js';
