import { Q, stateSeries, type DashboardSpec } from './kit.js';

const yesNo = (yes: [string, string], no: [string, string]) => ({ '0': no, '1': yes });

export const ups: DashboardSpec = {
  uid: 'wattline-ups',
  title: 'wattline · UPS (NUT)',
  tags: ['ups', 'nut'],
  deviceFrom: ['ups'],
  poll: '10s',
  spanNullsMs: 120_000,
  rows: [
    [
      {
        kind: 'stat',
        title: 'Battery charge',
        measurement: 'ups',
        series: [{ field: 'battery_charge_pct', label: 'charge', q: Q.percent, agg: 'last' }],
        min: 0,
        max: 100,
        thresholds: [
          ['red', null],
          ['orange', 30],
          ['green', 60],
        ],
      },
      {
        kind: 'stat',
        title: 'Runtime left',
        measurement: 'ups',
        series: [{ field: 'battery_runtime_s', label: 'runtime', q: Q.seconds, agg: 'last' }],
        thresholds: [
          ['red', null],
          ['orange', 300],
          ['green', 900],
        ],
      },
      {
        kind: 'stat',
        title: 'Load',
        measurement: 'ups',
        series: [{ field: 'ups_load_pct', label: 'load', q: Q.percent, agg: 'last' }],
        thresholds: [
          ['green', null],
          ['orange', 70],
          ['red', 90],
        ],
      },
      { kind: 'stat', title: 'On battery', measurement: 'ups', series: [stateSeries('on_battery', 'on battery')], mappings: yesNo(['on battery', 'red'], ['on line', 'green']) },
    ],
    [
      { kind: 'timeseries', title: 'Battery charge', measurement: 'ups', series: [{ field: 'battery_charge_pct', label: 'charge', q: Q.percent }], min: 0, max: 100 },
      { kind: 'timeseries', title: 'Runtime left', measurement: 'ups', series: [{ field: 'battery_runtime_s', label: 'runtime', q: Q.seconds }] },
    ],
    [
      {
        kind: 'timeseries',
        title: 'Input and output voltage',
        measurement: 'ups',
        series: [
          { field: 'input_voltage_v', label: 'input', q: Q.voltage },
          { field: 'output_voltage_v', label: 'output', q: Q.voltage },
        ],
      },
      {
        kind: 'timeseries',
        title: 'Load and battery voltage',
        measurement: 'ups',
        series: [
          { field: 'ups_load_pct', label: 'load', q: Q.percent },
          { field: 'battery_voltage_v', label: 'battery', q: Q.voltage },
        ],
      },
    ],
    [
      {
        kind: 'state-timeline',
        title: 'Status: on line, on battery, low battery, replace battery',
        measurement: 'ups',
        fill: 'previous',
        series: [stateSeries('on_line', 'on line'), stateSeries('on_battery', 'on battery'), stateSeries('low_battery', 'low battery'), stateSeries('replace_battery', 'replace battery')],
        mappings: { '0': ['no', 'transparent'], '1': ['yes', 'orange'] },
        w: 24,
      },
    ],
  ],
};
