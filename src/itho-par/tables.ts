/**
 * Which Access tables of the Itho `.par` database are copied, which of their columns, and
 * the SQLite columns they become (docs/protocols/itho-wpu.md §4.5). The driver's parameter-map reader is
 * written against the same text: names and column order here are the contract.
 */

export type SqliteType = 'INTEGER' | 'REAL' | 'TEXT' | 'INTERGER';

export interface ColumnSpec {
  /** The Access column, matched case-insensitively (Access names are). */
  access: string;
  sqlite: string;
  type: SqliteType;
}

export interface TableSpec {
  /** A table whose name starts with one of these (case-insensitively) is copied. */
  prefixes: readonly string[];
  columns: readonly ColumnSpec[];
}

const text = (access: string, sqlite: string): ColumnSpec => ({ access, sqlite, type: 'TEXT' });
const real = (access: string, sqlite: string): ColumnSpec => ({ access, sqlite, type: 'REAL' });

/** The version table: exactly this name. Its SQLite table lives in migrations/itho-map/. */
export const VERSIEBEHEER = {
  name: 'VersieBeheer',
  sqlite: 'versiebeheer',
  columns: [
    { access: 'VersieNummer', sqlite: 'version', type: 'INTEGER' },
    { access: 'DataLabel', sqlite: 'datalabel', type: 'INTEGER' },
    { access: 'ParameterLijst', sqlite: 'parameterlist', type: 'INTEGER' },
    { access: 'Handbed', sqlite: 'handbed', type: 'INTEGER' },
    { access: 'Counters', sqlite: 'counters', type: 'INTERGER' },
  ] satisfies readonly ColumnSpec[],
} as const;

/** Per-version tables, e.g. `Datalabel_V31` → `datalabel_v31`. */
export const VERSION_TABLES: readonly TableSpec[] = [
  {
    prefixes: ['Datalabel', 'DataLabel'],
    columns: [real('Index', 'id'), text('Naam', 'name'), text('Tekst_NL', 'title'), text('Tooltip_NL', 'tooltip'), text('Eenheid_NL', 'unit')],
  },
  {
    prefixes: ['Parameterlijst'],
    columns: [
      real('Index', 'id'),
      text('Naam', 'name'),
      text('Naam_fabriek', 'name_factory'),
      real('Min', 'min'),
      real('Max', 'max'),
      real('Default', 'def'),
      text('Tekst_NL', 'title'),
      text('Omschrijving_NL', 'description'),
      text('Eenheid_NL', 'unit'),
    ],
  },
  {
    prefixes: ['Handbed'],
    columns: [
      real('Index', 'id'),
      text('Naam', 'name'),
      text('Naam_fabriek', 'name_factory'),
      real('Min', 'min'),
      real('Max', 'max'),
      real('Default', 'def'),
      text('Tekst_NL', 'title'),
      text('Tooltip_NL', 'tooltip'),
      text('Eenheid_NL', 'unit'),
    ],
  },
  {
    prefixes: ['Counters'],
    columns: [real('Index', 'id'), text('Naam', 'name'), text('Tekst_NL', 'title'), text('Tooltip_NL', 'tooltip'), text('Eenheid_NL', 'unit')],
  },
];

/** The spec a table name falls under, or undefined when it is not copied. */
export function specFor(tableName: string): TableSpec | undefined {
  const lower = tableName.toLowerCase();
  return VERSION_TABLES.find((s) => s.prefixes.some((p) => lower.startsWith(p.toLowerCase())));
}

/** `"name"` with embedded quotes doubled: table names come from the Access file. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function createTableSql(name: string, columns: readonly ColumnSpec[]): string {
  return `CREATE TABLE ${quoteIdent(name)} (${columns.map((c) => `${c.sqlite} ${c.type}`).join(', ')})`;
}
