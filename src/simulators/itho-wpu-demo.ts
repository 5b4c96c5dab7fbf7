/**
 * The Itho WPU in the demo (`simulate: true`): a pigpiod simulator on the sim link with the
 * WPU behind it, and the demo parameter map written where the device's options look for it.
 */
import type { Transport } from '../transports/transport.js';
import { ensureDemoParameterMap } from './itho-demo-map.js';
import { startPigpiodSimulator, type PigpiodSimulator } from './pigpiod.js';

export { ITHO_WPU_DEMO_OPTIONS } from './demo-options.js';

export function startIthoWpuDemoSimulator(device: Transport, driverOptions: unknown): PigpiodSimulator {
  const map = (driverOptions as { parameterMap?: unknown } | undefined)?.parameterMap;
  if (typeof map === 'string') ensureDemoParameterMap(map);
  return startPigpiodSimulator(device, { vary: true });
}
