import { Q, textVariable, type DashboardSpec } from './kit.js';

export const hdhk: DashboardSpec = {
  uid: 'wattline-hdhk',
  title: 'wattline · HDHK current meters',
  tags: ['hdhk', 'energy'],
  deviceFrom: ['hdhk', 'hdhk_phase'],
  poll: '10s',
  spanNullsMs: 120_000,
  variables: [textVariable('breaker_a', 'Circuit breaker (A)', '16', "The rating of the circuits' breakers: the load gauge is the current against it.")],
  rows: [
    [
      {
        kind: 'bargauge',
        title: 'Circuit load against its breaker, now',
        measurement: 'hdhk',
        by: ['circuit'],
        noBuckets: true,
        series: [{ field: 'current_a', label: 'load', q: Q.percent, expr: 'last("current_a") / $breaker_a * 100' }],
        min: 0,
        max: 100,
        thresholds: [
          ['green', null],
          ['orange', 80],
          ['red', 100],
        ],
        w: 12,
        h: 10,
      },
      {
        kind: 'table',
        title: 'Now, per circuit',
        measurement: 'hdhk',
        by: ['unit', 'channel', 'circuit', 'phase'],
        noBuckets: true,
        series: [
          { field: 'current_a', label: 'current', q: Q.current, agg: 'last' },
          { field: 'apparent_power_va', label: 'apparent power', q: Q.apparentPower, agg: 'last' },
        ],
        w: 12,
        h: 10,
      },
    ],
    [
      { kind: 'timeseries', title: 'Current per circuit', measurement: 'hdhk', by: ['circuit'], series: [{ field: 'current_a', label: 'current', q: Q.current }] },
      { kind: 'timeseries', title: 'Apparent power per circuit', measurement: 'hdhk', by: ['circuit'], series: [{ field: 'apparent_power_va', label: 'apparent power', q: Q.apparentPower }] },
    ],
    [
      { kind: 'timeseries', title: 'Phase balance: current per phase', measurement: 'hdhk_phase', by: ['phase'], series: [{ field: 'current_a', label: 'current', q: Q.current }] },
      { kind: 'timeseries', title: 'Apparent power per phase', measurement: 'hdhk_phase', by: ['phase'], series: [{ field: 'apparent_power_va', label: 'apparent power', q: Q.apparentPower }] },
    ],
  ],
};
