/**
 * The pieces every wattline dashboard is built from, so that all of them keep the same rules
 * (checked by test/integration/grafana-lint.test.ts): a unit for every series, a minimum
 * interval from the `poll` variable, gaps of a slower poll bridged but a real outage left open,
 * legends in words, the device/site/host variables, no hard-coded datasource.
 *
 * Queries are raw InfluxQL (InfluxDB 1.x, or 2.x/3.x through the InfluxQL compatibility API), so
 * the query test can run each against a real influxd.
 */

/** A Grafana unit id and the decimals that suit the quantity. */
export interface Quantity {
  unit: string;
  decimals: number;
}

export const Q = {
  power: { unit: 'watt', decimals: 0 },
  apparentPower: { unit: 'voltamp', decimals: 0 },
  voltage: { unit: 'volt', decimals: 1 },
  current: { unit: 'amp', decimals: 2 },
  energy: { unit: 'kwatth', decimals: 2 },
  frequency: { unit: 'hertz', decimals: 2 },
  temperature: { unit: 'celsius', decimals: 1 },
  percent: { unit: 'percent', decimals: 0 },
  seconds: { unit: 's', decimals: 0 },
  hours: { unit: 'h', decimals: 0 },
  gas: { unit: 'm3', decimals: 3 },
  pressure: { unit: 'pressurebar', decimals: 2 },
  angle: { unit: 'degree', decimals: 0 },
  count: { unit: 'none', decimals: 0 },
  /** Codes and on/off flags: shown through value mappings, never averaged into fractions. */
  state: { unit: 'none', decimals: 0 },
} as const satisfies Record<string, Quantity>;

export interface Series {
  /** The field, or an InfluxQL expression of aggregates when `expr` is set. */
  field: string;
  /** The legend's words: `L1 voltage`, `import`; with the device in front where grouped by device. */
  label: string;
  q: Quantity;
  /** Aggregate per interval; `mean` for gauges, `last`/`max` for states and counters. */
  agg?: 'mean' | 'last' | 'max' | 'spread' | 'non_negative_difference_last';
  /** A whole SELECT expression instead of agg(field) (e.g. `mean("t_disc") - mean("t_suct")`). */
  expr?: string;
}

/**
 * A state or on/off flag series: drawn through value mappings, never averaged. `last` shows the
 * state at the end of each interval; `max` keeps a short alarm visible in a wide interval.
 */
export const stateSeries = (field: string, label: string, agg: 'last' | 'max' = 'last'): Series => ({ field, label, q: Q.state, agg });

export type PanelKind = 'timeseries' | 'stat' | 'state-timeline' | 'barchart' | 'bargauge' | 'table';

export interface PanelSpec {
  kind: PanelKind;
  title: string;
  measurement: string;
  series: Series[];
  /** Tags to group by besides `device` (`phase`, `outlet`, `circuit`, …). */
  by?: string[];
  /**
   * Aggregated over every selected device on purpose (sum of power): no `device` grouping. The
   * title must say so; the lint test checks both.
   */
  sumOverDevices?: boolean;
  /** Extra WHERE conditions, ANDed. */
  where?: string[];
  /** Bucket size instead of `$__interval` (per-day bars: `1d`). */
  bucket?: string;
  /** No time buckets: one value per series over the range (tables, bar gauges, stats). */
  noBuckets?: boolean;
  fill?: 'null' | 'none' | 'previous';
  w?: number;
  h?: number;
  min?: number;
  max?: number;
  /** Threshold steps [colour, from]; the first from is null (base). */
  thresholds?: [string, number | null][];
  /** Draw the thresholds as lines/areas on a time series (the 207–253 V band). */
  thresholdsStyle?: 'line' | 'area' | 'line+area' | 'dashed';
  /** Value → word and colour, for states. */
  mappings?: Record<string, [string, string]>;
  description?: string;
  /** A link to another dashboard (the home page's stats). */
  link?: { title: string; uid: string };
  /** timeseries drawn as bars (per-interval differences). */
  bars?: boolean;
  /** A slower family's panel on a faster dashboard (the heat pump on the home page). */
  minInterval?: string;
}

export interface DashboardSpec {
  uid: string;
  title: string;
  tags: string[];
  /** The measurements the `device` variable lists devices of. */
  deviceFrom: string[];
  /** The usual poll period of this family: the `poll` variable's default, the panels' minimum interval. */
  poll: string;
  /** Gaps up to this long are bridged (a missed poll); longer ones are outages and stay open. */
  spanNullsMs: number;
  time?: string;
  /** Extra variables (fuse limit, time zone, breaker size). */
  variables?: Record<string, unknown>[];
  rows: PanelSpec[][];
}

const DS = { type: 'influxdb', uid: '${datasource}' } as const;
const POLL_OPTIONS = ['1s', '2s', '5s', '10s', '30s', '1m', '5m'];

/** InfluxQL for one series of a panel. */
export function query(panel: PanelSpec, s: Series): string {
  const select = s.expr ?? selectOf(s);
  const where = [`("device" =~ /^$device$/)`, `("site" =~ /^$site$/)`, `("host" =~ /^$host$/)`, ...(panel.where ?? []), '$timeFilter'];
  const time = panel.noBuckets ? [] : [`time(${panel.bucket ?? '$__interval'})`];
  const tags = (panel.by ?? []).map((tag) => `"${tag}"`);
  const fill = panel.noBuckets ? '' : ` fill(${panel.fill ?? 'null'})`;
  const tz = panel.bucket === '1d' ? ` tz('$tz')` : '';
  const groupBy = (groups: string[]) => (groups.length ? ` GROUP BY ${groups.join(', ')}` : '');
  if (panel.sumOverDevices) {
    // A sum over devices needs each device's value per bucket first: a plain aggregate over all
    // of them would average two meters' power instead of adding it.
    const inner = `SELECT ${select} AS "value" FROM "${panel.measurement}" WHERE ${where.join(' AND ')}${groupBy([...time, '"device"', ...tags])} fill(none)`;
    return `SELECT sum("value") AS "${s.label}" FROM (${inner}) WHERE $timeFilter${groupBy([...time, ...tags])}${fill}${tz}`;
  }
  return `SELECT ${select} AS "${s.label}" FROM "${panel.measurement}" WHERE ${where.join(' AND ')}${groupBy([...time, '"device"', ...tags])}${fill}${tz}`;
}

function selectOf(s: Series): string {
  const agg = s.agg ?? 'mean';
  if (agg === 'non_negative_difference_last') return `non_negative_difference(last("${s.field}"))`;
  return `${agg}("${s.field}")`;
}

/** Grafana's legend: the series' words, after the device and grouping tags where there are any. */
function alias(panel: PanelSpec, s: Series): string {
  const tags = [...(panel.sumOverDevices ? [] : ['$tag_device']), ...(panel.by ?? []).map((t) => `${t} $tag_${t}`)];
  return [...tags, s.label].join(' ');
}

const REF = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function thresholds(steps: [string, number | null][] | undefined) {
  return { mode: 'absolute', steps: (steps ?? [['green', null]]).map(([color, value]) => ({ color, value })) };
}

function mappings(map: Record<string, [string, string]> | undefined) {
  if (!map) return [];
  const options: Record<string, { text: string; color: string; index: number }> = {};
  Object.entries(map).forEach(([value, [text, color]], index) => (options[value] = { text, color, index }));
  return [{ type: 'value', options }];
}

function panelJson(spec: PanelSpec, id: number, x: number, y: number, w: number, h: number, dash: DashboardSpec) {
  const first = spec.series[0]!.q;
  const custom: Record<string, unknown> = {};
  if (spec.kind === 'timeseries') {
    custom.spanNulls = dash.spanNullsMs;
    custom.drawStyle = spec.bars ? 'bars' : 'line';
    custom.fillOpacity = spec.bars ? 80 : 0;
    custom.showPoints = 'never';
    if (spec.thresholdsStyle) custom.thresholdsStyle = { mode: spec.thresholdsStyle };
  }
  if (spec.kind === 'state-timeline') custom.fillOpacity = 80;
  const overrides = spec.series.flatMap((s, i) =>
    s.q === first
      ? []
      : [
          {
            matcher: { id: 'byFrameRefID', options: REF[i] },
            properties: [
              { id: 'unit', value: s.q.unit },
              { id: 'decimals', value: s.q.decimals },
            ],
          },
        ],
  );
  const panel: Record<string, unknown> = {
    id,
    type: spec.kind,
    title: spec.title,
    ...(spec.description ? { description: spec.description } : {}),
    datasource: DS,
    gridPos: { x, y, w, h },
    interval: spec.bucket ?? spec.minInterval ?? '$poll',
    fieldConfig: {
      defaults: {
        unit: first.unit,
        decimals: first.decimals,
        ...(spec.min !== undefined ? { min: spec.min } : {}),
        ...(spec.max !== undefined ? { max: spec.max } : {}),
        thresholds: thresholds(spec.thresholds),
        mappings: mappings(spec.mappings),
        ...(spec.thresholds || spec.mappings ? { color: { mode: 'thresholds' } } : {}),
        custom,
        ...(spec.link ? { links: [{ title: spec.link.title, url: `/d/${spec.link.uid}?\${__url_time_range}` }] } : {}),
      },
      overrides,
    },
    options: options(spec),
    targets: spec.series.map((s, i) => ({
      refId: REF[i],
      datasource: DS,
      rawQuery: true,
      resultFormat: spec.kind === 'table' ? 'table' : 'time_series',
      alias: alias(spec, s),
      query: query(spec, s),
    })),
  };
  return panel;
}

function options(spec: PanelSpec): Record<string, unknown> {
  const legend = { displayMode: 'list', placement: 'bottom', showLegend: true };
  switch (spec.kind) {
    case 'stat':
      return { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'area', textMode: 'auto' };
    case 'bargauge':
      return { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, displayMode: 'gradient', orientation: 'horizontal' };
    case 'state-timeline':
      return { legend, mergeValues: true, showValue: 'auto', rowHeight: 0.9 };
    case 'table':
      return { showHeader: true };
    default:
      return { legend, tooltip: { mode: 'multi', sort: 'none' } };
  }
}

function tagVariable(name: string, label: string, from: string[]): Record<string, unknown> {
  return {
    name,
    label,
    type: 'query',
    datasource: DS,
    // One SHOW per measurement: a family's devices may appear in any of them.
    query: `SHOW TAG VALUES FROM ${from.map((m) => `"${m}"`).join(', ')} WITH KEY = "${name}"`,
    refresh: 2,
    multi: true,
    includeAll: true,
    // A point without the tag (no `site:`/`host:` in the config) still matches "All".
    allValue: '.*',
    current: { text: 'All', value: '$__all' },
  };
}

export function dashboard(spec: DashboardSpec): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    const h = Math.max(...row.map((p) => p.h ?? (p.kind === 'stat' ? 5 : 8)));
    let x = 0;
    for (const p of row) {
      const w = p.w ?? Math.floor(24 / row.length);
      panels.push(panelJson(p, id++, x, y, w, p.h ?? h, spec));
      x += w;
    }
    y += h;
  }
  return {
    uid: spec.uid,
    title: spec.title,
    tags: ['wattline', ...spec.tags],
    schemaVersion: 39,
    version: 1,
    editable: true,
    graphTooltip: 1,
    timezone: 'browser',
    time: { from: spec.time ?? 'now-6h', to: 'now' },
    refresh: '30s',
    links: [{ type: 'dashboards', tags: ['wattline'], asDropdown: true, title: 'wattline', includeVars: true, keepTime: true }],
    templating: {
      list: [
        { name: 'datasource', label: 'InfluxDB', type: 'datasource', query: 'influxdb' },
        tagVariable('device', 'Device', spec.deviceFrom),
        tagVariable('site', 'Site', spec.deviceFrom),
        tagVariable('host', 'Host', spec.deviceFrom),
        {
          name: 'poll',
          label: 'Poll period (min interval)',
          description: 'How often the devices are polled: no time bucket is shorter, so lines do not break into dots.',
          type: 'custom',
          query: POLL_OPTIONS.join(','),
          current: { text: spec.poll, value: spec.poll },
          options: POLL_OPTIONS.map((o) => ({ text: o, value: o, selected: o === spec.poll })),
        },
        ...(spec.variables ?? []),
      ],
    },
    panels,
  };
}

/** A text box variable (fuse size, breaker size, time zone), with its default. */
export function textVariable(name: string, label: string, value: string, description: string): Record<string, unknown> {
  return { name, label, description, type: 'textbox', query: value, current: { text: value, value } };
}
