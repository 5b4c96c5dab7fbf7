/**
 * Driver options the built-in demo gives simulated devices, apart from the simulators
 * themselves: `wattline run` without a config lists them, and only the simulators it
 * starts are loaded (README, run-memory).
 */

/** `options:` for the demo's hdhk entry: two units on one bus, six circuits over three phases. */
export const HDHK_DEMO_OPTIONS = {
  units: [
    {
      id: 1,
      name: 'board-a',
      channels: {
        '1': { circuit: 'oven', phase: 'L1', voltageV: 230 },
        '2': { circuit: 'dishwasher', phase: 'L2', voltageV: 230 },
        '3': { circuit: 'heat-pump', phase: 'L3', voltageV: 230 },
      },
    },
    {
      id: 2,
      name: 'board-b',
      channels: {
        '1': { circuit: 'ev-charger', phase: 'L1', voltageV: 230 },
        '2': { circuit: 'lighting', phase: 'L2', voltageV: 230 },
        '16': { circuit: 'garage', phase: 'L3', voltageV: 230 },
      },
    },
  ],
};

/** Driver options the built-in demo gives a simulated nut-ups device. */
export const NUT_UPS_DEMO_OPTIONS = { ups: 'demo' };

/** What the built-in demo's simulated Multiplus allows: ESS set-points of ±2000 W. */
export const VEBUS_DEMO_OPTIONS = { control: { essPower: { min: -2000, max: 2000 } } };

/** Relative to the demo's folder (the clone, or $XDG_STATE_HOME/wattline: cli/demo.ts), beside the demo outbox. */
export const ITHO_WPU_DEMO_OPTIONS = {
  parameterMap: 'data/demo-itho-map.sqlite',
  cacheDb: 'data/demo-itho-cache.sqlite',
};
