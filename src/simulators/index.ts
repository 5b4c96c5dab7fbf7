/**
 * Simulators by driver id: what `simulate: true` puts on the device end of a sim link.
 * They build their bytes from recordings and protocol tables, never from src/devices/.
 */
import type { Transport } from '../transports/transport.js';
import { startDsmrP1Simulator } from './dsmr-p1.js';
import { HDHK_DEMO_OPTIONS, startHdhkDemoSimulator } from './hdhk.js';
import { NUT_UPS_DEMO_OPTIONS, startNutUpsSimulator } from './nut-ups.js';
import { VEBUS_DEMO_OPTIONS, startVebusDemoSimulator } from './victron-vebus.js';
import { ITHO_WPU_DEMO_OPTIONS, startIthoWpuDemoSimulator } from './itho-wpu-demo.js';
import { startAtsSimulator } from './powerwalker-ats.js';
import { startPduDemoSimulator } from './powerwalker-pdu.js';

export interface RunningSimulator {
  stop(): void;
}

type SimulatorFactory = (device: Transport, driverOptions: unknown) => RunningSimulator;

const SIMULATORS: Record<string, SimulatorFactory> = {
  'dsmr-p1': (device, options) => {
    const timezone = (options as { timezone?: string } | undefined)?.timezone;
    return startDsmrP1Simulator(device, { intervalMs: 1000, ...(timezone ? { timezone } : {}) });
  },
  hdhk: (device, options) => startHdhkDemoSimulator(device, options),
  'nut-ups': (device, options) => startNutUpsSimulator(device, options),
  'victron-vebus': (device) => startVebusDemoSimulator(device),
  'itho-wpu': (device, options) => startIthoWpuDemoSimulator(device, options),
  'powerwalker-pdu': (device) => startPduDemoSimulator(device),
  'powerwalker-ats': (device) => startAtsSimulator(device, { vary: true }),
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


export function startSimulator(driverId: string, device: Transport, driverOptions: unknown): RunningSimulator {
  const factory = SIMULATORS[driverId];
  if (!factory) throw new Error(`no simulator for driver ${driverId}`);
  return factory(device, driverOptions);
}
