/**
 * A Multiplus-II behind an MK3-USB on the device end of a link (docs/protocols/victron-vebus.md §3): version
 * frames (asked for, and unsolicited while the host is idle), address selection, LED
 * status, AC info per phase and DC info, RAM variables with their scale/offset (0x36), the
 * snapshot (F 06 + X 38), an assistant table with the ESS assistant at a configurable RAM
 * id, and set-point writes (0x37) acknowledged with 0x87. On demand it acts out failures
 *: replies with a bad checksum, garbage before a reply, a version frame between
 * request and reply, or silence.
 *
 * It shares nothing with the driver (a simulator never imports src/devices/: docs/adding-a-driver.md): frames,
 * the checksum, the RAM table and the scale encoding are written out here from the protocol
 * description, so a codec bug cannot cancel itself out.
 */
import type { Transport } from '../transports/transport.js';

export type VebusFault = 'none' | 'bad-checksum' | 'garbage-before' | 'version-between' | 'silence';

/** An assistant in the RAM table from id 128: its id (upper 12 bits of the header) and how many RAM ids follow it. */
export interface SimAssistant {
  id: number;
  vars: number;
}

export interface VebusSimState {
  /** Device state byte (§3.5): 9 charge, 8 bypass, 4 inverting, 2 off. */
  state: number;
  ledsOn: number;
  ledsBlink: number;
  /** Per phase present: mains and inverter voltage (V) and current (A, mains signed). */
  phases: { mainsV: number; mainsA: number; inverterV: number; inverterA: number }[];
  mainsHz: number;
  inverterHz: number;
  batteryV: number;
  /** + charging, − discharging, A. */
  batteryA: number;
  socPct: number;
  /** RAM id 15 as the device holds it: + AC→DC (charging). */
  inverterPowerRaw: number;
  outputPowerW: number;
}

export interface VebusSimOptions {
  /** Assistants from RAM id 128 (default: the recorded scan, §3.4: 9, 0x880, then ESS with 4 ids → set-point at 131). */
  assistants?: readonly SimAssistant[];
  /** Firmware version and mode character of the version frame (default 1170212 'B', §3.4). */
  version?: number;
  mode?: string;
  /** Send a version frame after this long without a request from the host, ms (0: never; default 1000). */
  idleVersionMs?: number;
  /** Processing time before each reply, ms (default 0). */
  replyDelayMs?: number;
  /** The snapshot is ready this long after the trigger; an earlier X 38 waits for it, ms (default 0). */
  snapshotMs?: number;
  /** Scale/offset of RAM variables that differ from the table below (a device with other scales). */
  vars?: Record<number, { scale: number; signed: boolean; offset: number }>;
  /** Demo: let the readings wander a little on every AC info request. */
  vary?: boolean;
  random?: () => number;
  state?: Partial<VebusSimState>;
}

export interface VebusSimulator {
  stop(): void;
  readonly state: VebusSimState;
  /** The RAM id of the ESS set-point (the RAM id after the ESS assistant's header). */
  readonly essSetpointId: number | undefined;
  /** The set-point as written, W in the device's sign (+ feed): undefined until written. */
  readonly setpointRaw: number | undefined;
  /** Every 0x37 write: RAM id, value, flags. */
  readonly writes: { id: number; value: number; flags: number }[];
  /** Raw frames received that were sleep / wakeup. */
  readonly rawCommands: string[];
  /** Requests seen by command byte ('V', 'F', 'X', …). */
  readonly requests: Map<string, number>;
  /** The next `count` replies act out this fault (default 1); with `only`, replies to the requests it accepts (the whole request frame). */
  fault(kind: VebusFault, count?: number, only?: (request: Buffer) => boolean): void;
}

const FF = 0xff;
const INFO = 0x20;

/** Sum of all bytes = 0 mod 256 (§3.2). */
function frame(body: readonly number[]): Buffer {
  const bytes = [body.length, ...body];
  let sum = 0;
  for (const b of bytes) sum += b;
  return Buffer.from([...bytes, (0x100 - (sum % 0x100)) % 0x100]);
}

/** A RAM variable: physical value = scale × (raw + offset). Table after the MK2 protocol's RAM ids and a bench unit's answers. */
interface SimVar {
  scale: number;
  signed: boolean;
  offset: number;
}
const DEFAULT_VARS: Record<number, SimVar> = {
  0: { scale: 0.01, signed: false, offset: 0 }, // UMains
  1: { scale: 0.01, signed: true, offset: 0 }, // IMains
  2: { scale: 0.01, signed: false, offset: 0 }, // UInverter
  3: { scale: 0.01, signed: true, offset: 0 }, // IInverter
  4: { scale: 0.01, signed: false, offset: 0 }, // UBat
  5: { scale: 0.1, signed: true, offset: 0 }, // IBat
  7: { scale: 1 / 1953, signed: false, offset: 256 }, // inverter period
  8: { scale: 1 / 977, signed: false, offset: 0 }, // mains period
  13: { scale: 1 / 200, signed: false, offset: 0 }, // charge state, 0…1
  14: { scale: 1, signed: true, offset: 0 },
  15: { scale: 1, signed: true, offset: 0 },
  16: { scale: 1, signed: true, offset: 0 },
};

/** The 0x36 scale word: a reciprocal k as 0x8000 − k, an integer as itself; negated (two's complement) when signed. */
function scaleWord(v: SimVar): number {
  const w = v.scale < 1 ? 0x8000 - Math.round(1 / v.scale) : v.scale;
  return v.signed ? 0x10000 - w : w;
}

const DEFAULT_STATE: VebusSimState = {
  state: 9,
  ledsOn: 0x01,
  ledsBlink: 0x0c,
  phases: [{ mainsV: 232.76, mainsA: -1.61, inverterV: 232.76, inverterA: 0.08 }],
  mainsHz: 50.08,
  inverterHz: 50,
  batteryV: 52.3,
  batteryA: -7.1,
  socPct: 90,
  inverterPowerRaw: -370,
  outputPowerW: 120,
};

export function startVebusSimulator(device: Transport, options: VebusSimOptions = {}): VebusSimulator {
  const state: VebusSimState = { ...DEFAULT_STATE, ...options.state, phases: (options.state?.phases ?? DEFAULT_STATE.phases).map((p) => ({ ...p })) };
  const version = options.version ?? 1170212;
  const mode = (options.mode ?? 'B').charCodeAt(0);
  const random = options.random ?? Math.random;
  const VARS: Record<number, SimVar> = { ...DEFAULT_VARS, ...options.vars };
  const replyDelayMs = options.replyDelayMs ?? 0;
  const idleMs = options.idleVersionMs ?? 1000;

  // RAM from id 128: each assistant's header word, then its (zeroed) RAM ids.
  const assistants = options.assistants ?? [
    { id: 0x009, vars: 0 },
    { id: 0x880, vars: 0 },
    { id: 0x005, vars: 4 },
  ];
  const ram = new Map<number, number>();
  let essSetpointId: number | undefined;
  let at = 128;
  for (const a of assistants) {
    ram.set(at, ((a.id << 4) | (a.vars & 0xf)) & 0xffff);
    if (a.id === 5 && essSetpointId === undefined) essSetpointId = at + 1;
    for (let k = 1; k <= a.vars; k++) ram.set(at + k, 0);
    at += 1 + a.vars;
  }
  ram.set(at, 0x00a1); // what follows the ESS ids in the recorded scan (135 = 0x00A1)

  const sim = {
    state,
    essSetpointId,
    setpointRaw: undefined as number | undefined,
    writes: [] as { id: number; value: number; flags: number }[],
    rawCommands: [] as string[],
    requests: new Map<string, number>(),
  };
  let faultKind: VebusFault = 'none';
  let faultCount = 0;
  let faultOnly: ((request: Buffer) => boolean) | undefined;
  let current: Buffer | undefined; // the request being answered
  let buf = Buffer.alloc(0);
  let lastRequestAt = Date.now();
  let snapshot: { ids: number[]; readyAt: number } | undefined;
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();

  const raw = (id: number): number => {
    const v = VARS[id]!;
    const physical: Record<number, number> = {
      0: state.phases[0]!.mainsV,
      1: state.phases[0]!.mainsA,
      2: state.phases[0]!.inverterV,
      3: state.phases[0]!.inverterA,
      4: state.batteryV,
      5: state.batteryA,
      13: state.socPct / 100,
      14: state.inverterPowerRaw,
      15: state.inverterPowerRaw,
      16: state.outputPowerW,
    };
    const x = Math.round((physical[id] ?? 0) / v.scale - v.offset);
    return x & 0xffff;
  };
  const le16 = (x: number) => [x & 0xff, (x >> 8) & 0xff];
  const le24 = (x: number) => [x & 0xff, (x >> 8) & 0xff, (x >> 16) & 0xff];
  const periodRaw = (hz: number, v: SimVar) => Math.round(10 / hz / v.scale - v.offset) & 0xff;

  const acFrame = (n: number): Buffer => {
    const p = state.phases[n - 1]!;
    const count = state.phases.length;
    const phaseByte = n === 1 ? 0x07 + count : 9 - n;
    const u = (x: number, id: number) => le16(Math.round(x / VARS[id]!.scale) & 0xffff);
    return frame([INFO, 0x01, 0x01, 0x01, state.state, phaseByte, ...u(p.mainsV, 0), ...u(p.mainsA, 1), ...u(p.inverterV, 2), ...u(p.inverterA, 3), periodRaw(state.mainsHz, VARS[8]!)]);
  };
  const dcFrame = (): Buffer => {
    const toInverter = state.batteryA < 0 ? -state.batteryA : 0;
    const fromCharger = state.batteryA > 0 ? state.batteryA : 0;
    const a = (x: number) => le24(Math.round(x / VARS[5]!.scale));
    return frame([INFO, 0x01, 0x01, 0x01, state.state, 0x0c, ...le16(raw(4)), ...a(toInverter), ...a(fromCharger), periodRaw(state.inverterHz, VARS[7]!)]);
  };
  const versionFrame = (): Buffer => frame([FF, 0x56, ...le16(version & 0xffff), ...le16(version >>> 16), mode]);

  const send = (reply: Buffer | undefined, delay = replyDelayMs): void => {
    if (!reply) return;
    let out = reply;
    let prefix: Buffer | undefined;
    const kind = faultCount > 0 && (!faultOnly || (current && faultOnly(current))) ? faultKind : 'none';
    if (kind !== 'none') faultCount--;
    if (kind === 'silence') return;
    if (kind === 'bad-checksum') out = Buffer.from(reply.map((b, i) => (i === reply.length - 1 ? b ^ 0x5a : b)));
    if (kind === 'garbage-before') prefix = Buffer.from([0x00, 0x13, 0xfe, 0x07, 0x42]);
    if (kind === 'version-between') prefix = versionFrame();
    const go = () => {
      if (stopped || !device.isOpen) return;
      if (prefix) void device.write(prefix).catch(() => undefined);
      void device.write(out).catch(() => undefined);
    };
    if (delay > 0) {
      const t = setTimeout(() => (timers.delete(t), go()), delay);
      timers.add(t);
    } else go();
  };

  const winmon = (letter: number, data: Buffer): Buffer | undefined => {
    const reply = (...bytes: number[]) => frame([FF, letter, ...bytes]);
    const sub = data[0];
    if (sub === 0x30) {
      const ids = [data[1] ?? 0, data[2] ?? 0];
      const value = (id: number): number | undefined => (VARS[id] ? raw(id) : ram.get(id));
      const v = value(ids[0]!);
      if (v === undefined) return reply(0x90);
      return reply(0x85, ...le16(v), ...le16(value(ids[1]!) ?? 0));
    }
    if (sub === 0x36) {
      const v = VARS[(data[1] ?? 0) | ((data[2] ?? 0) << 8)];
      if (!v) return reply(0x90);
      return reply(0x8e, ...le16(scaleWord(v)), 0x8f, ...le16(v.offset & 0xffff));
    }
    if (sub === 0x37) {
      const flags = data[1] ?? 0;
      const id = data[2] ?? 0;
      const value = (data[3] ?? 0) | ((data[4] ?? 0) << 8);
      sim.writes.push({ id, value, flags });
      if (!ram.has(id)) return reply(0x90);
      ram.set(id, value);
      if (id === essSetpointId) sim.setpointRaw = value >= 0x8000 ? value - 0x10000 : value;
      return reply(0x87);
    }
    if (sub === 0x38) {
      if (!snapshot) return reply(0x80);
      return reply(0x99, ...snapshot.ids.flatMap((id) => le16(VARS[id] ? raw(id) : (ram.get(id) ?? 0))));
    }
    return reply(0x80);
  };

  const handle = (f: Buffer): void => {
    current = f;
    const cmd = f[2]!;
    const data = f.subarray(3, f.length - 1);
    const name = String.fromCharCode(cmd);
    sim.requests.set(name, (sim.requests.get(name) ?? 0) + 1);
    lastRequestAt = Date.now();
    if (cmd === 0x56) return send(versionFrame());
    if (cmd === 0x41) return send(frame([FF, 0x41, data[0] ?? 0, data[1] ?? 0]));
    if (cmd === 0x4c) return send(frame([FF, 0x4c, state.ledsOn, state.ledsBlink, 0x00, 0x00, 0x80, 0x00]));
    if (cmd === 0x46) {
      const n = data[0] ?? 0xff;
      if (n === 6) {
        snapshot = { ids: [...data.subarray(1)], readyAt: Date.now() + (options.snapshotMs ?? 0) };
        return;
      }
      if (n === 0) return send(dcFrame());
      if (n >= 1 && n <= state.phases.length) {
        if (n === 1 && options.vary) wander();
        return send(acFrame(n));
      }
      return; // a phase that is not there: silence
    }
    if (cmd >= 0x57 && cmd <= 0x5a) {
      const extra = data[0] === 0x38 && snapshot ? Math.max(0, snapshot.readyAt - Date.now()) : 0;
      return send(winmon(cmd, data), replyDelayMs + extra);
    }
  };

  const wander = () => {
    const j = (x: number, d: number) => Math.round((x + (random() - 0.5) * d) * 100) / 100;
    state.phases = state.phases.map((p) => ({ ...p, mainsV: j(230, 4), inverterV: j(230, 4), mainsA: j(p.mainsA, 0.4) }));
    state.batteryV = j(52.3, 0.4);
    state.batteryA = j(state.batteryA, 1);
    // RAM id 15 is + while charging (AC→DC), − while inverting, like the battery current.
    state.inverterPowerRaw = Math.round(state.batteryV * state.batteryA * 0.95);
    state.outputPowerW = Math.max(0, Math.round(j(state.outputPowerW, 40)));
  };

  const onData = (chunk: Buffer): void => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      const len = buf[0]! & 0x7f;
      const total = len + 2;
      if (buf[1] === 0x3f && buf.length >= total) {
        // The raw sleep/wakeup frames (their checksum does not follow the rule, §3.4).
        const hex = buf.subarray(0, total).toString('hex');
        if (hex === '053f04000000c5') {
          sim.rawCommands.push('sleep');
          state.state = 2;
          state.ledsOn = 0;
          state.ledsBlink = 0;
        } else if (hex === '053f07000000c2') {
          sim.rawCommands.push('wakeup');
          state.state = 9;
          state.ledsOn = 0x01;
        }
        buf = buf.subarray(total);
        continue;
      }
      if (len < 2 || buf[1] !== FF) {
        buf = buf.subarray(1);
        continue;
      }
      if (buf.length < total) return;
      const f = buf.subarray(0, total);
      let sum = 0;
      for (const b of f) sum += b;
      if (sum % 256 !== 0) {
        buf = buf.subarray(1);
        continue;
      }
      buf = buf.subarray(total);
      handle(Buffer.from(f));
    }
  };
  device.on('data', onData);
  // The device end of a sim link is the simulator's to open (a serial port may be open already).
  if (!device.isOpen) device.open().catch(() => undefined);
  const idle =
    idleMs > 0
      ? setInterval(
          () => {
            if (Date.now() - lastRequestAt >= idleMs && device.isOpen) {
              lastRequestAt = Date.now();
              void device.write(versionFrame()).catch(() => undefined);
            }
          },
          Math.max(50, Math.min(idleMs, 1000)),
        )
      : undefined;
  idle?.unref();

  return {
    get state() {
      return state;
    },
    get essSetpointId() {
      return sim.essSetpointId;
    },
    get setpointRaw() {
      return sim.setpointRaw;
    },
    writes: sim.writes,
    rawCommands: sim.rawCommands,
    requests: sim.requests,
    fault(kind, count = 1, only) {
      faultKind = kind;
      faultCount = count;
      faultOnly = only;
    },
    stop() {
      stopped = true;
      device.off('data', onData);
      if (idle) clearInterval(idle);
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}

export { VEBUS_DEMO_OPTIONS } from './demo-options.js';

export function startVebusDemoSimulator(device: Transport): VebusSimulator {
  return startVebusSimulator(device, { vary: true, snapshotMs: 0 });
}
