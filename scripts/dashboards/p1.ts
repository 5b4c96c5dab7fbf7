import { Q, stateSeries, textVariable, type DashboardSpec, type PanelSpec, type Series } from './kit.js';

const phases = ['l1', 'l2', 'l3'] as const;
const upper = (p: string) => p.toUpperCase();
const perPhase = (field: (p: string) => string, words: string, q: Series['q']): Series[] => phases.map((p) => ({ field: field(p), label: `${upper(p)} ${words}`, q }));

/** Per-day energy from the cumulative counters: last of each day minus last of the day before. */
const perDay = (field: string, label: string): Series => ({ field, label, q: Q.energy, agg: 'non_negative_difference_last' });
const dayBars = (title: string, measurement: string, series: Series[], where?: string[]): PanelSpec => ({
  kind: 'timeseries',
  title,
  measurement,
  series,
  where,
  bucket: '1d',
  fill: 'none',
  bars: true,
  description: "Midnight to midnight in the `tz` variable's time zone: the counter at the end of each day minus the counter at the end of the day before.",
});

export const p1: DashboardSpec = {
  uid: 'wattline-p1',
  title: 'wattline · P1 smart meter',
  tags: ['p1', 'energy'],
  deviceFrom: ['p1'],
  poll: '10s',
  spanNullsMs: 60_000,
  time: 'now-7d',
  variables: [
    textVariable('fuse_a', 'Main fuse (A)', '25', 'The rating of the main fuse per phase: drawn as a line on the current panel.'),
    textVariable('tz', 'Day boundary time zone', 'Europe/Amsterdam', 'IANA time zone in which the per-day bars start at midnight.'),
  ],
  rows: [
    [
      {
        kind: 'stat',
        title: 'Import now',
        measurement: 'p1',
        series: [{ field: 'power_import_w', label: 'import', q: Q.power, agg: 'last' }],
        thresholds: [
          ['green', null],
          ['orange', 5000],
          ['red', 8000],
        ],
      },
      { kind: 'stat', title: 'Export now', measurement: 'p1', series: [{ field: 'power_export_w', label: 'export', q: Q.power, agg: 'last' }] },
      { kind: 'stat', title: 'Tariff', measurement: 'p1', series: [stateSeries('tariff', 'tariff')], mappings: { '1': ['low (T1)', 'blue'], '2': ['normal (T2)', 'orange'] } },
      {
        kind: 'stat',
        title: 'Power failures in the range',
        measurement: 'p1',
        series: [
          { field: 'power_failures', label: 'failures', q: Q.count, agg: 'spread' },
          { field: 'long_power_failures', label: 'long failures', q: Q.count, agg: 'spread' },
        ],
        noBuckets: true,
        thresholds: [
          ['green', null],
          ['red', 1],
        ],
      },
    ],
    [
      {
        kind: 'timeseries',
        title: 'Power import and export',
        measurement: 'p1',
        series: [
          { field: 'power_import_w', label: 'import', q: Q.power },
          { field: 'power_export_w', label: 'export', q: Q.power },
        ],
      },
      { kind: 'timeseries', title: 'Power per phase (import)', measurement: 'p1', series: perPhase((p) => `power_import_${p}_w`, 'import', Q.power) },
    ],
    [
      dayBars('Electricity per day, import per tariff', 'p1', [perDay('energy_import_t1_kwh', 'import T1 (low)'), perDay('energy_import_t2_kwh', 'import T2 (normal)')]),
      dayBars('Electricity per day, export per tariff', 'p1', [perDay('energy_export_t1_kwh', 'export T1 (low)'), perDay('energy_export_t2_kwh', 'export T2 (normal)')]),
    ],
    [
      dayBars('Gas per day', 'p1_mbus', [{ field: 'reading_m3', label: 'gas', q: Q.gas, agg: 'non_negative_difference_last' }], [`("mbus_type" = 'gas')`]),
      dayBars('Water per day', 'p1_mbus', [{ field: 'reading_m3', label: 'water', q: Q.gas, agg: 'non_negative_difference_last' }], [`("mbus_type" = 'water')`]),
    ],
    [
      {
        kind: 'timeseries',
        title: 'Current per phase against the main fuse',
        measurement: 'p1',
        series: [...perPhase((p) => `current_${p}_a`, 'current', Q.current), { field: 'current_l1_a', label: 'fuse limit', q: Q.current, expr: 'max("current_l1_a") * 0 + $fuse_a' }],
      },
      {
        kind: 'timeseries',
        title: 'Voltage per phase (EN 50160 band 207–253 V)',
        measurement: 'p1',
        series: perPhase((p) => `voltage_${p}_v`, 'voltage', Q.voltage),
        thresholds: [
          ['red', null],
          ['transparent', 207],
          ['red', 253],
        ],
        thresholdsStyle: 'line+area',
      },
    ],
    [
      {
        kind: 'timeseries',
        title: 'Voltage sags and swells per interval',
        measurement: 'p1',
        bars: true,
        series: [...perPhase((p) => `voltage_sags_${p}`, 'sags', Q.count), ...perPhase((p) => `voltage_swells_${p}`, 'swells', Q.count)].map((s) => ({ ...s, agg: 'non_negative_difference_last' as const })),
        fill: 'none',
      },
      {
        kind: 'timeseries',
        title: 'Gas meter reading',
        measurement: 'p1_mbus',
        where: [`("mbus_type" = 'gas')`],
        by: ['channel'],
        series: [{ field: 'reading_m3', label: 'gas', q: Q.gas, agg: 'last' }],
        fill: 'previous',
      },
    ],
  ],
};
