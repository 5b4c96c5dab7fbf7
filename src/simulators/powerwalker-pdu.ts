/**
 * A PowerWalker PDU RC-16A (PI90) on the device end of a link, as a state machine after
 * docs/protocols/powerwalker.md §1.3-§1.6: outlets with loads, energy counters growing with the power drawn,
 * shutdown countdowns running down through "shutdown active" and "shutdown imminent"
 * (the last `shutdown_imminent_signal` minutes, memory 14) to off, then "restore active"
 * to on again when a restore delay was given; cancel, test, energy clear; NAK for anything
 * it does not know. Time comes from `now()`, so tests can step it.
 *
 * Its tables are its own (never the driver's codec): the reply layouts below are written
 * from the protocol document.
 */
import type { Transport } from '../transports/transport.js';
import { servePowerwalker, type FaultSpec, type LineOptions, type PowerwalkerFault } from './powerwalker-line.js';

export interface PduSimOptions extends LineOptions {
  now?: () => number;
  /** Load current per outlet 1-8, A (default a small rack). */
  loadsA?: readonly number[];
  /** Outlets switched on at start (default all). */
  on?: readonly boolean[];
  /** Let voltage and currents wander a little on every QGS (the demo). */
  vary?: boolean;
  random?: () => number;
  /** Energy counters at start, kWh: input then outlets 1-8 (default §1.7's sample). */
  energyKwh?: readonly number[];
}

interface OutletState {
  on: boolean;
  loadA: number;
  /** Absolute ms when a pending shutdown switches the outlet off. */
  offAt?: number;
  /** Restore delay, ms, counted from offAt; undefined: stays off. */
  restoreMs?: number;
  /** Absolute ms when a pending restore switches it on. */
  onAt?: number;
  kwh: number;
}

export interface PduSimulator {
  stop(): void;
  setFault(fault: PowerwalkerFault, spec?: FaultSpec): void;
  readonly requests: string[];
  /** Status code (0-6, §1.5) of outlet 1-8 now. */
  outletStatus(outlet: number): number;
  /** Until when (ms) the last TP test keeps LEDs and buzzer on. */
  testUntil(): number;
}

/** Memory map defaults (§1.6 README table); outlets 1-8: config 0xFF, alarm 2.0 A. */
const MEMORY_DEFAULTS = [1, -1, -1, -1, -1, -1, -1, -1, -1, 196, 253, 276, 0, 160, 3];
const NIBBLE_CHARS = '0123456789:;<=>?';
const PF = 0.92;

export function startPduSimulator(device: Transport, options: PduSimOptions = {}): PduSimulator {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const loads = options.loadsA ?? [0.4, 0.5, 0.3, 0.1, 0.2, 0.2, 0.3, 0.0];
  const energy = options.energyKwh ?? [725.9, 4.3, 103.4, 17.4, 114.0, 201.9, 106.8, 47.6, 19.8];
  const outlets: OutletState[] = loads.slice(0, 8).map((loadA, i) => ({ on: options.on?.[i] ?? true, loadA, kwh: energy[i + 1] ?? 0 }));
  let inputKwh = energy[0] ?? 0;
  let voltage = 225.5;
  let last = now();
  let testUntil = 0;
  const memory = [...MEMORY_DEFAULTS];
  const outletMemory = Array.from({ length: 8 }, () => ({ config: 0xff, alarmTenthsA: 20 }));

  /** Runs the clock forward to `t`: energy first (at the old states), then the transitions. */
  const advance = () => {
    const t = now();
    const hours = Math.max(0, t - last) / 3_600_000;
    last = t;
    let inputW = 0;
    for (const o of outlets) {
      const w = o.on ? voltage * o.loadA * PF : 0;
      o.kwh += (w * hours) / 1000;
      inputW += w;
    }
    inputKwh += ((inputW + 5) * hours) / 1000;
    for (const o of outlets) {
      if (o.offAt !== undefined && t >= o.offAt) {
        o.on = false;
        if (o.restoreMs !== undefined) o.onAt = o.offAt + o.restoreMs;
        o.offAt = undefined;
        o.restoreMs = undefined;
      }
      if (o.onAt !== undefined && t >= o.onAt) {
        o.on = true;
        o.onAt = undefined;
      }
    }
  };

  const status = (o: OutletState): number => {
    const t = now();
    if (o.offAt !== undefined) return o.offAt - t <= memory[14]! * 60_000 ? 3 : 2;
    if (o.onAt !== undefined) return 4;
    if (o.on && o.loadA * 10 > outletMemory[outlets.indexOf(o)]!.alarmTenthsA) return 5;
    return o.on ? 1 : 0;
  };

  const amps = (o: OutletState) => (o.on ? o.loadA : 0);
  const f1 = (x: number) => x.toFixed(1);

  const targets = (code: string): OutletState[] | null => (code === 'A' ? outlets : /^[1-8]$/.test(code) ? [outlets[Number(code) - 1]!] : null);

  const answer = (req: string): string | null => {
    advance();
    switch (req) {
      case 'QPI':
        return 'PI90';
      case 'QMD':
        return '############PDU 1/1 230 230 1 8';
      case 'QVFW':
        return 'VERFW:00.15';
      case 'QGS': {
        if (options.vary) {
          voltage = Math.round((225 + (random() - 0.5) * 6) * 10) / 10;
          for (const o of outlets) o.loadA = Math.min(1.5, Math.max(0, Math.round((o.loadA + (random() - 0.5) * 0.1) * 10) / 10));
        }
        const flags = `${voltage < 196 ? 1 : 0}${voltage > 253 ? 1 : 0}000000`;
        const codes = outlets.map(status).join('');
        const total = outlets.reduce((s, o) => s + amps(o), 0) + 0.1;
        return [flags + codes, f1(voltage), '49.9', f1(total), ...outlets.map((o) => f1(amps(o))), '36.0'].join(' ');
      }
      case 'QPW':
      case 'QPVA': {
        const factor = req === 'QPW' ? PF : 1;
        const per = outlets.map((o) => Math.round(voltage * amps(o) * factor));
        return [per.reduce((a, b) => a + b, 0) + 5, ...per].join(' ');
      }
      case 'QEC':
        return [inputKwh, ...outlets.map((o) => o.kwh)].map(f1).join(' ');
      case 'QSR': {
        const t = now();
        return outlets
          .map((o) => {
            const shdn = o.offAt !== undefined ? Math.ceil((o.offAt - t) / 1000) : 0;
            const rst = o.onAt !== undefined ? Math.ceil((o.onAt - t) / 1000) : o.restoreMs !== undefined ? Math.ceil(o.restoreMs / 1000) : 0;
            return `0 ${String(shdn).padStart(4, '0')} ${String(rst).padStart(6, '0')}`;
          })
          .join(' ');
      }
      case 'TP':
        testUntil = now() + 5000;
        return 'ACK';
      case 'CEC':
        inputKwh = 0;
        for (const o of outlets) o.kwh = 0;
        return 'ACK';
    }
    let m = /^QGM0([0-9:;<=>?])$/.exec(req);
    if (m) {
      const adr = NIBBLE_CHARS.indexOf(m[1]!);
      if (adr > 14) return null;
      const hex = (v: number, digits: number) => [...v.toString(16).toUpperCase().padStart(digits, '0')].map((c) => NIBBLE_CHARS['0123456789ABCDEF'.indexOf(c)]).join('');
      const value = adr >= 1 && adr <= 8 ? hex(outletMemory[adr - 1]!.config, 2) + hex(outletMemory[adr - 1]!.alarmTenthsA, 2) : hex(memory[adr]!, 4);
      return `0${m[1]}${value}`;
    }
    // S,<o><SS>[R<RRRR>]: SS is 00 (now), .1-.9 (tenths of a minute) or 01-99 (minutes).
    m = /^S,([1-8A])(00|\.[1-9]|[0-9][0-9])(?:R(\d{4}))?$/.exec(req);
    if (m) {
      const list = targets(m[1]!)!;
      const ss = m[2]!;
      const delayMs = ss.startsWith('.') ? Number(ss[1]) * 6000 : Number(ss) * 60_000;
      const restoreMs = m[3] === undefined ? undefined : Number(m[3]) === 0 ? 1000 : Number(m[3]) * 60_000;
      for (const o of list) {
        o.offAt = now() + delayMs;
        o.restoreMs = restoreMs;
        o.onAt = undefined;
      }
      advance(); // a delay of 00 takes effect at once
      return 'ACK';
    }
    m = /^CS,([1-8A])$/.exec(req);
    if (m) {
      for (const o of targets(m[1]!)!) {
        o.offAt = undefined;
        o.restoreMs = undefined;
        o.onAt = undefined;
      }
      return 'ACK';
    }
    return null;
  };

  const line = servePowerwalker(device, answer, options);
  return {
    stop: line.stop,
    setFault: line.setFault,
    requests: line.requests,
    outletStatus(outlet) {
      advance();
      return status(outlets[outlet - 1]!);
    },
    testUntil: () => testUntil,
  };
}

/** The demo's PDU: a small rack whose loads wander. */
export function startPduDemoSimulator(device: Transport): PduSimulator {
  return startPduSimulator(device, { vary: true });
}
