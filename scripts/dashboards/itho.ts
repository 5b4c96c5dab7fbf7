import { Q, stateSeries, type DashboardSpec } from './kit.js';

const t = (field: string, label: string) => ({ field, label, q: Q.temperature });
const onOff = { '0': ['off', 'transparent'], '1': ['on', 'green'] } as Record<string, [string, string]>;

export const itho: DashboardSpec = {
  uid: 'wattline-itho',
  title: 'wattline · Itho WPU heat pump',
  tags: ['itho', 'heat-pump'],
  deviceFrom: ['itho_wpu', 'itho_wpu_counters'],
  poll: '1m',
  spanNullsMs: 300_000,
  time: 'now-24h',
  rows: [
    [
      { kind: 'stat', title: 'Outside', measurement: 'itho_wpu', series: [{ ...t('t_out', 'outside'), agg: 'last' }] },
      { kind: 'stat', title: 'CH supply', measurement: 'itho_wpu', series: [{ ...t('t_ch_supp', 'CH supply'), agg: 'last' }] },
      {
        kind: 'stat',
        title: 'Boiler top',
        measurement: 'itho_wpu',
        series: [{ ...t('t_boiltop', 'boiler top'), agg: 'last' }],
        thresholds: [
          ['blue', null],
          ['green', 45],
        ],
      },
      {
        kind: 'stat',
        title: 'CH water pressure',
        measurement: 'itho_wpu',
        series: [{ field: 'p_sens', label: 'pressure', q: Q.pressure, agg: 'last' }],
        thresholds: [
          ['red', null],
          ['green', 1],
          ['red', 2.5],
        ],
      },
    ],
    [
      { kind: 'timeseries', title: 'Heating and hot water', measurement: 'itho_wpu', series: [t('t_ch_supp', 'CH supply'), t('t_ch_ret', 'CH return'), t('t_boildwn', 'boiler bottom'), t('t_boiltop', 'boiler top')] },
      { kind: 'timeseries', title: 'Source and outside', measurement: 'itho_wpu', series: [t('t_source_s', 'from source'), t('t_source_r', 'to source'), t('t_out', 'outside'), t('ot_room', 'room (OpenTherm)')] },
    ],
    [
      { kind: 'timeseries', title: 'Refrigerant circuit', measurement: 'itho_wpu', series: [t('t_evap', 'evaporator'), t('t_suct', 'suction'), t('t_disc', 'discharge'), t('t_cond', 'condenser')] },
      { kind: 'timeseries', title: 'Compressor lift (discharge − suction)', measurement: 'itho_wpu', series: [{ field: 't_disc', label: 'lift', q: Q.temperature, expr: 'mean("t_disc") - mean("t_suct")' }] },
    ],
    [
      { kind: 'timeseries', title: 'CH water pressure', measurement: 'itho_wpu', series: [{ field: 'p_sens', label: 'pressure', q: Q.pressure }] },
      {
        kind: 'state-timeline',
        title: 'Pumps and heating element',
        measurement: 'itho_wpu',
        fill: 'previous',
        series: [stateSeries('out_ch', 'CH pump'), stateSeries('out_src', 'source pump'), stateSeries('out_dhw', 'boiler pump'), stateSeries('out_element', 'heating element')],
        mappings: onOff,
      },
    ],
    [
      { kind: 'state-timeline', title: 'State code (as the WPU reports it)', measurement: 'itho_wpu', fill: 'previous', series: [stateSeries('state', 'state')] },
      {
        kind: 'table',
        title: 'Counters (latest)',
        measurement: 'itho_wpu_counters',
        noBuckets: true,
        series: [
          { field: 'cnt_comp_hours', label: 'compressor hours', q: Q.hours, agg: 'last' },
          { field: 'cnt_comp_starts', label: 'compressor starts', q: Q.count, agg: 'last' },
          { field: 'cnt_ch_pump_hours', label: 'CH pump hours', q: Q.hours, agg: 'last' },
          { field: 'cnt_dhw_hours', label: 'hot water hours', q: Q.hours, agg: 'last' },
          { field: 'cnt_element_hours', label: 'element hours', q: Q.hours, agg: 'last' },
        ],
      },
    ],
  ],
};
