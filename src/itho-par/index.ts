export { convertPar, DEFAULT_OUT, type ConvertOptions, type ConvertProgress, type ConvertSummary, type ConvertedTable } from './convert.js';
export { VERSIEBEHEER, VERSION_TABLES, type ColumnSpec, type TableSpec } from './tables.js';
