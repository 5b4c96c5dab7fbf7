import { Q, stateSeries, type DashboardSpec } from './kit.js';

/**
 * The overview: the one number per device family a person checks first, each linking to its
 * family's dashboard. Sums over the selected devices where a sum is what a person means.
 */
export const home: DashboardSpec = {
  uid: 'wattline-home',
  title: 'wattline · Home',
  tags: ['overview'],
  deviceFrom: ['p1', 'hdhk_phase', 'ups', 'pdu', 'ats', 'vebus', 'itho_wpu'],
  poll: '10s',
  spanNullsMs: 120_000,
  rows: [
    [
      {
        kind: 'stat',
        title: 'Grid import now (sum of selected meters)',
        measurement: 'p1',
        sumOverDevices: true,
        series: [{ field: 'power_import_w', label: 'import', q: Q.power, agg: 'mean' }],
        link: { title: 'P1 smart meter', uid: 'wattline-p1' },
      },
      {
        kind: 'stat',
        title: 'Grid export now (sum of selected meters)',
        measurement: 'p1',
        sumOverDevices: true,
        series: [{ field: 'power_export_w', label: 'export', q: Q.power, agg: 'mean' }],
        link: { title: 'P1 smart meter', uid: 'wattline-p1' },
      },
      {
        kind: 'stat',
        title: 'Battery state of charge',
        measurement: 'vebus',
        series: [{ field: 'soc_pct', label: 'SOC', q: Q.percent, agg: 'last' }],
        thresholds: [
          ['red', null],
          ['orange', 20],
          ['green', 50],
        ],
        link: { title: 'Victron Multiplus', uid: 'wattline-vebus' },
      },
      {
        kind: 'stat',
        title: 'UPS battery charge',
        measurement: 'ups',
        series: [{ field: 'battery_charge_pct', label: 'charge', q: Q.percent, agg: 'last' }],
        thresholds: [
          ['red', null],
          ['orange', 30],
          ['green', 60],
        ],
        link: { title: 'UPS', uid: 'wattline-ups' },
      },
    ],
    [
      {
        kind: 'stat',
        title: 'Circuit current per phase',
        measurement: 'hdhk_phase',
        by: ['phase'],
        series: [{ field: 'current_a', label: 'current', q: Q.current, agg: 'last' }],
        link: { title: 'HDHK current meters', uid: 'wattline-hdhk' },
      },
      {
        kind: 'stat',
        title: 'PDU input power',
        measurement: 'pdu',
        series: [{ field: 'input_w', label: 'input power', q: Q.power, agg: 'last' }],
        link: { title: 'PowerWalker PDU and ATS', uid: 'wattline-powerwalker' },
      },
      {
        kind: 'stat',
        title: 'ATS active source',
        measurement: 'ats',
        series: [stateSeries('active_source', 'active source')],
        mappings: { '0': ['none', 'red'], '1': ['source 1', 'green'], '2': ['source 2', 'orange'] },
        link: { title: 'PowerWalker PDU and ATS', uid: 'wattline-powerwalker' },
      },
      {
        kind: 'stat',
        title: 'Heat pump CH supply',
        measurement: 'itho_wpu',
        series: [{ field: 't_ch_supp', label: 'CH supply', q: Q.temperature, agg: 'last' }],
        minInterval: '1m',
        link: { title: 'Itho WPU heat pump', uid: 'wattline-itho' },
      },
    ],
  ],
};
