/**
 * A PowerWalker ATS (PI97) on the device end of a link (docs/protocols/powerwalker.md §1.5-§1.7): two
 * sources, the load on source 1 unless it fails (then on source 2, the transfer), the 24
 * status bits following the state, the memory map 0-20 (`GM` + 4 digits), NAK for anything
 * else. Tables written from the protocol document, never from the driver's codec.
 */
import type { Transport } from '../transports/transport.js';
import { servePowerwalker, type FaultSpec, type LineOptions, type PowerwalkerFault } from './powerwalker-line.js';

export interface AtsSimOptions extends LineOptions {
  vary?: boolean;
  random?: () => number;
  /** Prefer source 2 (status bit 8). */
  preferSource2?: boolean;
}

export interface AtsSimulator {
  stop(): void;
  setFault(fault: PowerwalkerFault, spec?: FaultSpec): void;
  readonly requests: string[];
  /** Take a source away (voltage 0) or give it back: the load transfers. */
  setSource(source: 1 | 2, up: boolean): void;
}

/** GM0000-GM0020 (§1.6: GM0000 answers 258). Thresholds in V and Hz, then %, °, ms. */
const MEMORY = [258, 250, 195, 200, 55, 54, 45, 46, 258, 250, 195, 200, 55, 54, 45, 46, 100, 120, 15, 8, 10];

export function startAtsSimulator(device: Transport, options: AtsSimOptions = {}): AtsSimulator {
  const random = options.random ?? Math.random;
  const up = [true, true];
  const volts = [227.3, 227.3];
  let loadPct = 14.0;

  const active = (): 1 | 2 | 0 => {
    const preferred: 1 | 2 = options.preferSource2 ? 2 : 1;
    const other: 1 | 2 = preferred === 1 ? 2 : 1;
    return up[preferred - 1] ? preferred : up[other - 1] ? other : 0;
  };

  const answer = (req: string): string | null => {
    switch (req) {
      case 'QPI':
        return 'PI97';
      case 'QRI':
        return '230.0 016 ---.- 50.0';
      case 'QVFW':
        return 'VERFW:181.0';
      case 'QATS': {
        if (options.vary) {
          for (const i of [0, 1]) volts[i] = Math.round((227 + (random() - 0.5) * 4) * 10) / 10;
          loadPct = Math.round(Math.min(60, Math.max(5, loadPct + (random() - 0.5) * 2)) * 10) / 10;
        }
        const v = (i: number) => (up[i] ? volts[i]! : 0);
        const hz = (i: number) => (up[i] ? 50.0 : 0);
        const on = active();
        const amps = on ? (loadPct / 100) * 16 : 0;
        return [v(0), hz(0), v(1), hz(1), loadPct, amps, 1.0, 35.0].map((x) => x.toFixed(1)).join(' ');
      }
      case 'QAS': {
        const on = active();
        const bits = new Array<number>(24).fill(0);
        // Positions (§1.5): 0-2 source 1 V/Hz/wave bad, 3-5 source 2, 6 on src2, 7 on src1, 8 preferred src2.
        if (!up[0]) bits[0] = bits[1] = bits[2] = 1;
        if (!up[1]) bits[3] = bits[4] = bits[5] = 1;
        bits[6] = on === 2 ? 1 : 0;
        bits[7] = on === 1 ? 1 : 0;
        bits[8] = options.preferSource2 ? 1 : 0;
        return bits.join('');
      }
    }
    const m = /^GM(\d{4})$/.exec(req);
    if (m) {
      const adr = Number(m[1]);
      return adr < MEMORY.length ? String(MEMORY[adr]) : null;
    }
    return null;
  };

  const line = servePowerwalker(device, answer, options);
  return {
    stop: line.stop,
    setFault: line.setFault,
    requests: line.requests,
    setSource(source, isUp) {
      up[source - 1] = isUp;
    },
  };
}
