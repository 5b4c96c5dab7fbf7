/**
 * Field metadata of the P1 driver (docs/fields.md), made from the OBIS table (tables.ts): every
 * field a row can produce, described by its name's unit suffix, with the corrections a suffix
 * cannot say (event counts, power factor, tariff and breaker codes, limiter settings).
 */
import { byName, count, info, state, text } from '../fields.js';
import type { DriverFields, FieldSpec } from '../types.js';
import { OBIS, UNITS } from './tables.js';

/** Mains voltage per phase (230 V nominal, EN 50160 ±10 %): beyond 0–300 V a reading is suspect. */
const VOLTAGE = { min: 0, max: 300 };

function p1Field(field: string, textual: boolean): FieldSpec {
  if (textual) return text();
  if (/^(long_)?power_failures$|^power_failure_log_entries$|^voltage_(sags|swells)_l\d$/.test(field)) return count();
  if (/^power_factor(_l\d)?$/.test(field)) return { quantity: 'power_factor', kind: 'gauge' };
  if (field === 'tariff') return state({ '1': 'tariff 1 (low)', '2': 'tariff 2 (normal)' });
  if (field === 'breaker_state') return state({ '0': 'disconnected (open)', '1': 'connected (closed)', '2': 'ready for reconnection' });
  if (/^(limiter_threshold|current_limit)/.test(field)) return info(byName(field));
  return byName(field, /^voltage_l\d_v$/.test(field) ? VOLTAGE : {});
}

const p1: Record<string, FieldSpec> = {};
const suffixes = [...new Set(Object.values(UNITS).map((u) => u.suffix))];
for (const d of OBIS.values()) {
  const textual = d.kind === 'string' || d.kind === 'hextext';
  // 'auto': the unit that arrives names the field (limiter_threshold_w, _va, _a), or none.
  const keys = d.unit === 'auto' ? [d.field, ...suffixes.map((s) => `${d.field}_${s}`)] : [d.field];
  for (const k of keys) p1[k] = p1Field(k, textual);
}

/** M-Bus readings: `reading_<unit>` (m3, gj, ...) or `reading` when the meter sends no unit. */
const mbusReadings = Object.fromEntries(
  ['reading', ...suffixes.map((s) => `reading_${s}`)].map((k) => [k, k === 'reading_m3' ? byName(k, { quantityByTag: { tag: 'mbus_type', values: { gas: 'gas', water: 'water' } } }) : byName(k)]),
);

export const dsmrP1Fields: DriverFields = {
  measurements: {
    p1: { series: [], fields: p1 },
    p1_mbus: {
      series: ['channel'],
      fields: {
        ...mbusReadings,
        equipment_id: text(),
        // EN 13757-3 valve state as sent (DSMR 5.0.2: 0-0:24.4.0).
        valve_position: state(),
      },
    },
  },
};
