/**
 * Itho-shaped Access databases (the tables and columns of the service tool's
 * `$_parameters_HeatPump.par`, docs/protocols/itho-wpu.md §4.5), written with the Jet 4 writer.
 * `smallItho()` is hand-made for row-by-row assertions; `generatedItho()` has realistic
 * size for the benchmark.
 */
import type { JetColumn, JetTable, JetValue } from './jet4-writer.js';

const L = (name: string): JetColumn => ({ name, type: 'long' });
// Texts compressed as Access stores them by default; tooltips and descriptions not, so
// both encodings pass through the converter.
const T = (name: string): JetColumn => ({ name, type: 'text', compressed: true });
const M = (name: string): JetColumn => ({ name, type: 'memo' });
const D = (name: string): JetColumn => ({ name, type: 'double' });

export const VERSIE_COLUMNS = [L('VersieNummer'), L('DataLabel'), L('ParameterLijst'), L('Handbed'), L('Counters')];
export const DATALABEL_COLUMNS = [L('Index'), T('Naam'), T('Tekst_NL'), M('Tooltip_NL'), T('Eenheid_NL')];
export const PARAMETER_COLUMNS = [L('Index'), T('Naam'), T('Naam_fabriek'), D('Min'), D('Max'), D('Default'), T('Tekst_NL'), M('Omschrijving_NL'), T('Eenheid_NL')];
export const HANDBED_COLUMNS = [L('Index'), T('Naam'), T('Naam_fabriek'), D('Min'), D('Max'), D('Default'), T('Tekst_NL'), M('Tooltip_NL'), T('Eenheid_NL')];
export const COUNTER_COLUMNS = [L('Index'), T('Naam'), T('Tekst_NL'), M('Tooltip_NL'), T('Eenheid_NL')];

/** Datalog fields as the author's dashboard names them, with Dutch texts and units. */
export const LABELS: readonly (readonly [string, string, string])[] = [
  ['t_out', 'Buitentemperatuur', '°C'],
  ['t_boildwn', 'Boilertemp onder', '°C'],
  ['t_boiltop', 'Boilertemp boven', '°C'],
  ['t_evap', 'Verdampertemperatuur', '°C'],
  ['t_suct', 'Zuiggastemperatuur', '°C'],
  ['t_disc', 'Persgastemperatuur', '°C'],
  ['t_cond', 'Condensortemperatuur', '°C'],
  ['t_source_r', 'Brontemp retour', '°C'],
  ['t_source_s', 'Brontemp aanvoer', '°C'],
  ['t_ch_supp', 'CV aanvoertemperatuur', '°C'],
  ['t_ch_ret', 'CV retourtemperatuur', '°C'],
  ['p_sens', 'Druksensor', 'bar'],
  ['out_ch', 'CV pomp', '%'],
  ['out_src', 'Bronpomp', '%'],
  ['out_dhw', 'Boilerpomp', '%'],
  ['ot_room', 'Kamertemperatuur (OpenTherm)', '°C'],
  ['state', 'Status', ''],
];

/**
 * Two list versions that share a parameter list; rows stored out of index order (the
 * map must be sorted); `DataLabel_V31` spelled with a capital L as some versions are;
 * an empty unit, a null tooltip, a quote and a comma; one table that must not be copied.
 */
export function smallItho(): JetTable[] {
  return [
    {
      name: 'VersieBeheer',
      columns: VERSIE_COLUMNS,
      rows: [
        [31, 31, 30, 3, 2],
        [30, 30, 30, 3, 2],
      ],
    },
    {
      name: 'Datalabel_V30',
      columns: DATALABEL_COLUMNS,
      rows: [
        [2, 't_boiltop', 'Boilertemp boven', 'Temperatuur bovenin de boiler', '°C'],
        [0, 't_out', 'Buitentemperatuur', 'Gemeten door de buitenvoeler', '°C'],
        [1, 't_boildwn', 'Boilertemp onder', null, '°C'],
      ],
    },
    {
      name: 'DataLabel_V31',
      columns: DATALABEL_COLUMNS,
      rows: [
        [0, 't_out', 'Buitentemperatuur', 'Gemeten door de buitenvoeler', '°C'],
        [1, 't_boildwn', 'Boilertemp onder', null, '°C'],
        [3, 'state', 'Status', 'Toestand van de "regeling", zie handboek', ''],
        [2, 'p_sens', 'Druksensor', null, 'bar'],
      ],
    },
    {
      name: 'Parameterlijst_V30',
      columns: PARAMETER_COLUMNS,
      rows: [
        [139, 'P139', 'dhw_setp', 40, 60, 48, 'Boiler setpoint', 'Gewenste boilertemperatuur', '°C'],
        [1, 'P001', 'hp_mode', 0, 3, 1, 'Bedrijfsmodus', null, ''],
        [12, 'P012', 'ch_offset', -5, 5, -0.5, 'Stooklijn verschuiving', 'Verschuiving van de stooklijn, in graden', 'K'],
      ],
    },
    {
      name: 'Handbed_V3',
      columns: HANDBED_COLUMNS,
      rows: [
        [37, 'H037', 'man_comp', 0, 1, 0, 'Compressor handbediening', 'Compressor aan/uit', ''],
        [0, 'H000', 'man_ch_pump', 0, 100, 0, 'CV pomp handbediening', null, '%'],
      ],
    },
    {
      name: 'Counters_V2',
      columns: COUNTER_COLUMNS,
      rows: [
        [1, 'cnt_comp_starts', 'Compressor starts', null, ''],
        [0, 'cnt_comp_hours', 'Compressor draaiuren', 'Uren dat de compressor liep', 'uur'],
      ],
    },
    {
      name: 'Instellingen',
      columns: [L('Id'), T('Naam')],
      rows: [[1, 'niet kopiëren']],
    },
  ];
}

export interface GeneratedSize {
  versions: number;
  labels: number;
  parameters: number;
  handbed: number;
  counters: number;
}

/** A database the size of the real one (or bigger): every version its own tables. */
export function generatedItho(size: GeneratedSize): JetTable[] {
  const tables: JetTable[] = [{ name: 'VersieBeheer', columns: VERSIE_COLUMNS, rows: [] }];
  const versions = tables[0].rows as JetValue[][];
  for (let v = 1; v <= size.versions; v++) {
    versions.push([v, v, v, v, v]);
    tables.push({
      name: v % 2 ? `Datalabel_V${v}` : `DataLabel_V${v}`,
      columns: DATALABEL_COLUMNS,
      rows: range(size.labels).map((i) => {
        const [name, text, unit] = LABELS[i % LABELS.length];
        const n = Math.floor(i / LABELS.length);
        return [i, n ? `${name}_${n}` : name, text, `${text} (veld ${i}, lijstversie ${v})`, unit];
      }),
    });
    tables.push({
      name: `Parameterlijst_V${v}`,
      columns: PARAMETER_COLUMNS,
      rows: range(size.parameters).map((i) => [i, `P${String(i).padStart(3, '0')}`, `par_${i}`, -10, 100, i % 50, `Parameter ${i}`, `Omschrijving van parameter ${i}`, i % 3 ? '°C' : '']),
    });
    tables.push({
      name: `Handbed_V${v}`,
      columns: HANDBED_COLUMNS,
      rows: range(size.handbed).map((i) => [i, `H${String(i).padStart(3, '0')}`, `man_${i}`, 0, 100, 0, `Handbediening ${i}`, null, '%']),
    });
    tables.push({
      name: `Counters_V${v}`,
      columns: COUNTER_COLUMNS,
      rows: range(size.counters).map((i) => [i, `cnt_${i}`, `Teller ${i}`, null, 'uur']),
    });
  }
  return tables;
}

export function rowCount(tables: readonly JetTable[]): number {
  return tables.reduce((n, t) => n + t.rows.length, 0);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
