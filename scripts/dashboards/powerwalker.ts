import { Q, stateSeries, type DashboardSpec, type Series } from './kit.js';

/** Outlet status codes of the PDU (src/devices/powerwalker-pdu/README.md). */
const outletStatus: Record<string, [string, string]> = {
  '0': ['off', 'text'],
  '1': ['on', 'green'],
  '2': ['shutdown active', 'orange'],
  '3': ['shutdown imminent', 'red'],
  '4': ['restore active', 'blue'],
  '5': ['overload alarm', 'red'],
  '6': ['locked', 'purple'],
};
const flag = (field: string, label: string): Series => stateSeries(field, label, 'max');
const alarm: Record<string, [string, string]> = { '0': ['ok', 'green'], '1': ['alarm', 'red'] };

export const powerwalker: DashboardSpec = {
  uid: 'wattline-powerwalker',
  title: 'wattline · PowerWalker PDU and ATS',
  tags: ['powerwalker', 'pdu', 'ats'],
  deviceFrom: ['pdu', 'pdu_outlet', 'ats', 'ats_source'],
  poll: '10s',
  spanNullsMs: 120_000,
  rows: [
    [
      { kind: 'stat', title: 'PDU input power', measurement: 'pdu', series: [{ field: 'input_w', label: 'input power', q: Q.power, agg: 'last' }] },
      {
        kind: 'stat',
        title: 'PDU input current',
        measurement: 'pdu',
        series: [{ field: 'input_a', label: 'input current', q: Q.current, agg: 'last' }],
        thresholds: [
          ['green', null],
          ['orange', 12],
          ['red', 16],
        ],
      },
      {
        kind: 'stat',
        title: 'ATS active source',
        measurement: 'ats',
        series: [stateSeries('active_source', 'active source')],
        mappings: { '0': ['none', 'red'], '1': ['source 1', 'green'], '2': ['source 2', 'orange'] },
      },
      {
        kind: 'stat',
        title: 'ATS load',
        measurement: 'ats',
        series: [{ field: 'load_pct', label: 'load', q: Q.percent, agg: 'last' }],
        thresholds: [
          ['green', null],
          ['orange', 80],
          ['red', 100],
        ],
      },
    ],
    [
      {
        kind: 'bargauge',
        title: 'Outlet current, now',
        measurement: 'pdu_outlet',
        by: ['outlet'],
        noBuckets: true,
        series: [{ field: 'current_a', label: 'current', q: Q.current, agg: 'last' }],
        min: 0,
        max: 10,
        thresholds: [
          ['green', null],
          ['orange', 8],
          ['red', 10],
        ],
        description: 'An IEC C13 outlet carries 10 A at most.',
      },
      {
        kind: 'bargauge',
        title: 'Energy used in the range, per outlet',
        measurement: 'pdu_outlet',
        by: ['outlet'],
        noBuckets: true,
        series: [{ field: 'energy_kwh', label: 'energy', q: Q.energy, agg: 'spread' }],
      },
    ],
    [
      {
        kind: 'timeseries',
        title: 'PDU input voltage and frequency',
        measurement: 'pdu',
        series: [
          { field: 'input_v', label: 'input voltage', q: Q.voltage },
          { field: 'input_hz', label: 'input frequency', q: Q.frequency },
        ],
      },
      {
        kind: 'timeseries',
        title: 'PDU input power',
        measurement: 'pdu',
        series: [
          { field: 'input_w', label: 'real power', q: Q.power },
          { field: 'input_va', label: 'apparent power', q: Q.apparentPower },
        ],
      },
    ],
    [
      {
        kind: 'timeseries',
        title: 'PDU input current and temperature',
        measurement: 'pdu',
        series: [
          { field: 'input_a', label: 'input current', q: Q.current },
          { field: 'temperature_c', label: 'temperature', q: Q.temperature },
        ],
      },
      { kind: 'timeseries', title: 'Outlet current', measurement: 'pdu_outlet', by: ['outlet'], series: [{ field: 'current_a', label: 'current', q: Q.current }] },
    ],
    [
      {
        kind: 'timeseries',
        title: 'Outlet power',
        measurement: 'pdu_outlet',
        by: ['outlet'],
        series: [
          { field: 'power_w', label: 'real power', q: Q.power },
          { field: 'apparent_power_va', label: 'apparent power', q: Q.apparentPower },
        ],
      },
      {
        kind: 'timeseries',
        title: 'Outlet countdowns',
        measurement: 'pdu_outlet',
        by: ['outlet'],
        series: [
          { field: 'shutdown_countdown_s', label: 'shutdown in', q: Q.seconds, agg: 'max' },
          { field: 'restore_countdown_s', label: 'restore in', q: Q.seconds, agg: 'max' },
        ],
      },
    ],
    [
      {
        kind: 'state-timeline',
        title: 'Outlet status',
        measurement: 'pdu_outlet',
        by: ['outlet'],
        fill: 'previous',
        series: [stateSeries('status', 'status')],
        mappings: outletStatus,
        w: 24,
      },
    ],
    [
      {
        kind: 'state-timeline',
        title: 'PDU alarms',
        measurement: 'pdu',
        fill: 'previous',
        series: [
          flag('alarm_low_input_v', 'low input voltage'),
          flag('alarm_high_input_v', 'high input voltage'),
          flag('alarm_low_input_a', 'low input current'),
          flag('alarm_high_input_a', 'high input current'),
          flag('alarm_aux1_power_fail', 'aux 1 power fail'),
          flag('alarm_aux2_power_fail', 'aux 2 power fail'),
        ],
        mappings: alarm,
        w: 24,
      },
    ],
    [
      { kind: 'timeseries', title: 'ATS source voltage', measurement: 'ats_source', by: ['source'], series: [{ field: 'voltage_v', label: 'voltage', q: Q.voltage }] },
      { kind: 'timeseries', title: 'ATS source frequency', measurement: 'ats_source', by: ['source'], series: [{ field: 'frequency_hz', label: 'frequency', q: Q.frequency }] },
    ],
    [
      {
        kind: 'timeseries',
        title: 'ATS load and output current',
        measurement: 'ats',
        series: [
          { field: 'load_pct', label: 'load', q: Q.percent },
          { field: 'output_a', label: 'output current', q: Q.current },
        ],
      },
      {
        kind: 'timeseries',
        title: 'ATS temperature and sync angle',
        measurement: 'ats',
        series: [
          { field: 'temperature_c', label: 'temperature', q: Q.temperature },
          { field: 'sync_angle_deg', label: 'sync angle', q: Q.angle },
        ],
      },
    ],
    [
      {
        kind: 'state-timeline',
        title: 'ATS source faults',
        measurement: 'ats_source',
        by: ['source'],
        fill: 'previous',
        series: [flag('voltage_bad', 'voltage bad'), flag('freq_bad', 'frequency bad'), flag('wave_bad', 'waveform bad')],
        mappings: alarm,
      },
      {
        kind: 'state-timeline',
        title: 'ATS faults and alarms',
        measurement: 'ats',
        fill: 'previous',
        series: [flag('overload_alarm', 'overload alarm'), flag('overload_fault', 'overload fault'), flag('short_fault', 'short circuit'), flag('syncron_bad', 'sources not in sync'), flag('on_fault_mode', 'fault mode')],
        mappings: alarm,
      },
    ],
  ],
};
