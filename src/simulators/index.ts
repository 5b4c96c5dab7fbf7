/**
 * Simulators by driver id: what `simulate: true` puts on the device end of a sim link.
 * They build their bytes from recordings and protocol tables, never from src/devices/.
 * Each simulator's module is imported the first time one is started: `wattline run` with a
 * simulated P1 meter does not carry the other simulators' tables (README, run-memory).
 */
import type { Transport } from '../transports/transport.js';
import { HDHK_DEMO_OPTIONS, ITHO_WPU_DEMO_OPTIONS, NUT_UPS_DEMO_OPTIONS, VEBUS_DEMO_OPTIONS } from './demo-options.js';

export interface RunningSimulator {
  stop(): void;
  /**
   * Settles once the simulator runs (its module is loaded the first time). Sessions start after
   * it: a simulator may set up the device side first (the Itho demo writes its parameter map).
   */
  ready?: Promise<void>;
}

type SimulatorFactory = (device: Transport, driverOptions: unknown) => RunningSimulator;

const SIMULATORS: Record<string, () => Promise<SimulatorFactory>> = {
  'dsmr-p1': async () => {
    const { startDsmrP1Simulator } = await import('./dsmr-p1.js');
    return (device, options) => {
      const timezone = (options as { timezone?: string } | undefined)?.timezone;
      return startDsmrP1Simulator(device, { intervalMs: 1000, ...(timezone ? { timezone } : {}) });
    };
  },
  hdhk: async () => (await import('./hdhk.js')).startHdhkDemoSimulator,
  'nut-ups': async () => {
    const { startNutUpsSimulator } = await import('./nut-ups.js');
    return (device, options) => startNutUpsSimulator(device, options);
  },
  'victron-vebus': async () => {
    const { startVebusDemoSimulator } = await import('./victron-vebus.js');
    return (device) => startVebusDemoSimulator(device);
  },
  'itho-wpu': async () => (await import('./itho-wpu-demo.js')).startIthoWpuDemoSimulator,
  'powerwalker-pdu': async () => {
    const { startPduDemoSimulator } = await import('./powerwalker-pdu.js');
    return (device) => startPduDemoSimulator(device);
  },
  'powerwalker-ats': async () => {
    const { startAtsSimulator } = await import('./powerwalker-ats.js');
    return (device) => startAtsSimulator(device, { vary: true });
  },
};

/** Driver options the built-in demo gives a simulated device (drivers that need some). */
const DEMO_OPTIONS: Record<string, unknown> = {
  hdhk: HDHK_DEMO_OPTIONS,
  'nut-ups': NUT_UPS_DEMO_OPTIONS,
  'victron-vebus': VEBUS_DEMO_OPTIONS,
  'itho-wpu': ITHO_WPU_DEMO_OPTIONS,
  // The demo PDU may switch outlets 1-4 (wattline pdu demo-powerwalker-pdu off 2, while run is running).
  'powerwalker-pdu': { control: { allow: ['on', 'off', 'shutdown', 'shutdown-restore', 'cancel', 'test'], outlets: [1, 2, 3, 4] } },
};

/** One demo device entry per simulated driver: what `wattline run` without a config polls. */
export function demoDevices(): { driver: string; options?: unknown }[] {
  return Object.keys(SIMULATORS).map((driver) => (DEMO_OPTIONS[driver] ? { driver, options: DEMO_OPTIONS[driver] } : { driver }));
}

/** One `simulate: true` entry per driver with a simulator, with its demo options (benchmarks, tests). */
export function simulatedDeviceEntries(namePrefix: string, extra: Record<string, unknown> = {}): Record<string, unknown>[] {
  return demoDevices().map((d) => ({ name: `${namePrefix}-${d.driver}`, driver: d.driver, simulate: true, ...extra, ...(d.options ? { options: d.options } : {}) }));
}

const loaded = new Map<string, SimulatorFactory>();

/**
 * Until a simulator's module is loaded (a few ms, the first time only), the device end is held
 * open and keeps what the host does, in order: bytes it sends, and new connections (pigpiod's
 * second socket), whose own ends are held the same way. The simulator then gets it all.
 */
class Held {
  private readonly events: { target: Transport; event: string; args: unknown[] }[] = [];
  private readonly holders: { target: Transport; event: string; hold: (...args: unknown[]) => void }[] = [];

  constructor(device: Transport) {
    this.hold(device);
  }

  private hold(target: Transport): void {
    for (const event of ['data', 'connection']) {
      const hold = (...args: unknown[]) => {
        this.events.push({ target, event, args });
        if (event === 'connection') this.hold(args[0] as Transport);
      };
      target.on(event, hold);
      this.holders.push({ target, event, hold });
    }
    if (!target.isOpen) target.open().catch(() => undefined);
  }

  release(): void {
    for (const { target, event, hold } of this.holders) target.off(event, hold);
    this.holders.length = 0;
  }

  replay(): void {
    for (const { target, event, args } of this.events.splice(0)) target.emit(event, ...args);
  }
}

export function startSimulator(driverId: string, device: Transport, driverOptions: unknown): RunningSimulator {
  const load = SIMULATORS[driverId];
  if (!load) throw new Error(`no simulator for driver ${driverId}`);
  const factory = loaded.get(driverId);
  if (factory) return factory(device, driverOptions);

  const held = new Held(device);
  let running: RunningSimulator | undefined;
  let stopped = false;
  const ready = load().then(
    (factory) => {
      loaded.set(driverId, factory);
      held.release();
      if (stopped) return;
      running = factory(device, driverOptions);
      held.replay();
    },
    () => {
      // A module of our own that does not load: the device end goes away and the driver
      // reports its usual timeout/link error for this device instead of the worker crashing.
      held.release();
      void device.close().catch(() => undefined);
    },
  );
  return {
    stop() {
      stopped = true;
      running?.stop();
    },
    ready,
  };
}
