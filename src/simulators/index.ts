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

const loaded = new Map<string, SimulatorFactory>();

/** Events the host side causes on the device end: kept while the simulator's module loads. */
const HELD_EVENTS = ['data', 'connection'] as const;

export function startSimulator(driverId: string, device: Transport, driverOptions: unknown): RunningSimulator {
  const load = SIMULATORS[driverId];
  if (!load) throw new Error(`no simulator for driver ${driverId}`);
  const factory = loaded.get(driverId);
  if (factory) return factory(device, driverOptions);

  // First of its kind: the device end opens now and keeps what the host sends (a poll, a new
  // connection) in order; the simulator gets it all once its module is loaded, a few ms later.
  const held: { event: string; args: unknown[] }[] = [];
  const holders = HELD_EVENTS.map((event) => ({ event, hold: (...args: unknown[]) => void held.push({ event, args }) }));
  for (const { event, hold } of holders) device.on(event, hold);
  if (!device.isOpen) device.open().catch(() => undefined);
  let running: RunningSimulator | undefined;
  let stopped = false;
  const release = () => {
    for (const { event, hold } of holders) device.off(event, hold);
  };
  load().then(
    (factory) => {
      loaded.set(driverId, factory);
      release();
      if (stopped) return;
      running = factory(device, driverOptions);
      for (const { event, args } of held) device.emit(event, ...args);
      held.length = 0;
    },
    () => {
      // A module of our own that does not load: the device end goes away and the driver
      // reports its usual timeout/link error for this device instead of the worker crashing.
      release();
      void device.close().catch(() => undefined);
    },
  );
  return {
    stop() {
      stopped = true;
      running?.stop();
    },
  };
}
