import { Q, stateSeries, type DashboardSpec } from './kit.js';

const acPhases = [`("phase" =~ /^L[1-4]$/)`];
/** VE.Bus device states, docs/protocols/victron-vebus.md §3 (src/devices/victron-vebus/README.md). */
const states: Record<string, [string, string]> = {
  '0': ['down', 'red'],
  '1': ['startup', 'yellow'],
  '2': ['off (sleep)', 'text'],
  '3': ['slave', 'text'],
  '4': ['invert full', 'orange'],
  '5': ['invert half', 'orange'],
  '6': ['invert AES', 'orange'],
  '7': ['power assist', 'purple'],
  '8': ['bypass', 'blue'],
  '9': ['charge', 'green'],
};

export const vebus: DashboardSpec = {
  uid: 'wattline-vebus',
  title: 'wattline · Victron Multiplus (VE.Bus)',
  tags: ['vebus', 'victron', 'energy'],
  deviceFrom: ['vebus'],
  poll: '10s',
  spanNullsMs: 60_000,
  rows: [
    [
      {
        kind: 'stat',
        title: 'State of charge',
        measurement: 'vebus',
        series: [{ field: 'soc_pct', label: 'SOC', q: Q.percent, agg: 'last' }],
        min: 0,
        max: 100,
        thresholds: [
          ['red', null],
          ['orange', 20],
          ['green', 50],
        ],
      },
      {
        kind: 'stat',
        title: 'Battery power (+ charging, − discharging)',
        measurement: 'vebus',
        series: [{ field: 'battery_w', label: 'battery', q: Q.power, agg: 'last' }],
        thresholds: [
          ['orange', null],
          ['green', 0],
        ],
      },
      { kind: 'stat', title: 'Device state', measurement: 'vebus', series: [stateSeries('state', 'state')], mappings: states },
      { kind: 'stat', title: 'ESS set-point (+ charge, − feed)', measurement: 'vebus', series: [{ field: 'ess_setpoint_w', label: 'set-point', q: Q.power, agg: 'last' }] },
    ],
    [
      {
        kind: 'timeseries',
        title: 'Battery voltage and current',
        measurement: 'vebus',
        series: [
          { field: 'battery_v', label: 'battery voltage', q: Q.voltage },
          { field: 'battery_a', label: 'battery current', q: Q.current },
        ],
      },
      { kind: 'timeseries', title: 'State of charge', measurement: 'vebus', series: [{ field: 'soc_pct', label: 'SOC', q: Q.percent }], min: 0, max: 100 },
    ],
    [
      { kind: 'timeseries', title: 'Battery power (+ charging, − discharging)', measurement: 'vebus', series: [{ field: 'battery_w', label: 'battery', q: Q.power }] },
      {
        kind: 'timeseries',
        title: 'Inverter and AC output power (inverter: + DC→AC)',
        measurement: 'vebus',
        series: [
          { field: 'inverter_power_w', label: 'inverter', q: Q.power },
          { field: 'output_power_w', label: 'AC output', q: Q.power },
        ],
      },
    ],
    [
      { kind: 'timeseries', title: 'AC in (mains) voltage per phase', measurement: 'vebus', where: acPhases, by: ['phase'], series: [{ field: 'mains_v', label: 'mains voltage', q: Q.voltage }] },
      {
        kind: 'timeseries',
        title: 'AC in (mains) current per phase (sign as the device reports it)',
        measurement: 'vebus',
        where: acPhases,
        by: ['phase'],
        series: [{ field: 'mains_a', label: 'mains current', q: Q.current }],
      },
    ],
    [
      {
        kind: 'timeseries',
        title: 'AC out (inverter) voltage and current per phase',
        measurement: 'vebus',
        where: acPhases,
        by: ['phase'],
        series: [
          { field: 'inverter_v', label: 'output voltage', q: Q.voltage },
          { field: 'inverter_a', label: 'output current', q: Q.current },
        ],
      },
      {
        kind: 'timeseries',
        title: 'Frequency: mains and inverter',
        measurement: 'vebus',
        series: [
          { field: 'mains_hz', label: 'mains', q: Q.frequency },
          { field: 'inverter_hz', label: 'inverter', q: Q.frequency },
        ],
      },
    ],
    [
      {
        kind: 'state-timeline',
        title: 'Device state and LEDs',
        measurement: 'vebus',
        fill: 'previous',
        series: [
          stateSeries('state', 'state'),
          stateSeries('led_mains', 'mains LED'),
          stateSeries('led_bulk', 'bulk LED'),
          stateSeries('led_float', 'float LED'),
          stateSeries('led_low_bat', 'low battery LED'),
          stateSeries('led_overload', 'overload LED'),
        ],
        mappings: states,
        w: 24,
      },
    ],
  ],
};
